import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { processorRegistry, SCHEDULES_CANCELLATION } from '../../shared/adapters/processors.ts';
import { createStripeProcessor, stripeClient } from '../../shared/adapters/stripe.ts';
import { MetricName, metrics } from '../../shared/metrics.ts';
import { ProcessorError } from '../../shared/ports/processor.ts';
import { processorSettingsFrom } from '../../shared/processor-settings.ts';
import { aPurchase } from './fixtures.ts';

/** The data points recorded through `metrics.singleMetric()` while a test runs. */
function recordedMetrics() {
  const recorded: { name: string; dimensions: Record<string, string> }[] = [];
  jest.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dimensions: Record<string, string> = {};
    const single = {
      addDimension: (name: string, value: string) => {
        dimensions[name] = value;
        return single;
      },
      addMetric: (name: string) => {
        recorded.push({ name, dimensions });
        return single;
      },
    };
    return single as unknown as ReturnType<typeof metrics.singleMetric>;
  });
  return recorded;
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('processorRegistry', () => {
  it('says whether Stripe schedules a cancellation exactly as its adapter does, without loading it', () => {
    const stripe = createStripeProcessor({ stripe: stripeClient({ secretKey: 'sk_test_unit' }), processor: 'stripe' });

    expect(SCHEDULES_CANCELLATION).toEqual({
      stripe: stripe.schedulesCancellation,
      native: stripe.schedulesCancellation,
    });
  });

  it('gives configured processors the adapters’ answer and unconfigured ones the refusal’s', () => {
    const configured = processorRegistry(
      processorSettingsFrom({
        STRIPE_SECRET_KEY: 'sk_test_unit',
        PAYPAL_CLIENT_ID: 'id',
        PAYPAL_CLIENT_SECRET: 'secret',
      }),
    );
    const unconfigured = processorRegistry(null);

    expect(configured.paypal.schedulesCancellation).toBe(false);
    expect(configured.stripe.schedulesCancellation).toBe(true);
    // A PayPal without credentials refuses every call, as before: the timer does not call it at effect time.
    expect(unconfigured.paypal.schedulesCancellation).toBe(true);
  });

  it('refuses every call of a processor without credentials with a ProcessorError naming it', async () => {
    recordedMetrics();
    const registry = processorRegistry(null);

    await expect(registry.paypal.cancelNow(aPurchase(), 'key-1')).rejects.toThrow(ProcessorError);
    await expect(registry.stripe.refund(aPurchase(), null, 'key-2')).rejects.toThrow(/^stripe: /);
  });

  it('counts each failed call by processor and operation', async () => {
    const recorded = recordedMetrics();
    const registry = processorRegistry(null);

    await registry.native.pause(aPurchase(), null, 'key-3').catch(() => undefined);

    expect(recorded).toEqual([
      { name: MetricName.processorCallFailed, dimensions: { processor: 'native', operation: 'pause' } },
    ]);
  });

  it('counts nothing for processor none, which calls nothing', async () => {
    const recorded = recordedMetrics();

    await processorRegistry(null).none.cancelNow(aPurchase(), 'key-4');

    expect(recorded).toEqual([]);
  });
});
