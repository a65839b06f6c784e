import type { Processor } from '../domain/types.ts';
import { lazy } from '../lazy.ts';
import { countProcessorCallFailure } from '../metrics.ts';
import {
  type BillingProcessor,
  noProcessor,
  type ProcessorRegistry,
  unconfiguredProcessor,
} from '../ports/processor.ts';
import type { ProcessorSettings } from '../processor-settings.ts';
import { createPayPalProcessor, payPalCancelRedirectUrl } from './paypal.ts';

type PaidProcessor = Exclude<Processor, 'none'>;

type StripeAccount = 'stripe' | 'native';

/**
 * Whether the Stripe adapter can end a subscription at a future instant (`BillingProcessor.schedulesCancellation`),
 * known without loading it: use cases read it synchronously. It can (`cancel_at`). A unit test holds this to
 * the adapter's own value.
 */
export const SCHEDULES_CANCELLATION: Readonly<Record<StripeAccount, boolean>> = {
  stripe: true,
  native: true,
};

/**
 * Processor adapters by name, from the settings. A processor without credentials answers every call with
 * a clear 502 naming it; processor `none` (billing recorded in membergate only) needs nothing.
 *
 * The Stripe adapter (and so the Stripe SDK, the bulk of a processor function's code) is loaded on the first
 * call to Stripe, not when this registry is built: most requests of a function that may call a processor
 * never do, and those that do pay the load once per container. PayPal's adapter is plain fetch calls, small
 * enough to come with this module. Every failed call is counted (`ProcessorCallFailed`), a processor left
 * unconfigured included: to the caller it is the same 502.
 */
export function processorRegistry(settings: ProcessorSettings | null): ProcessorRegistry {
  const stripe = settings?.stripe;
  const native = settings?.native;
  const paypal = settings?.paypal;
  return {
    none: noProcessor,
    stripe: stripe
      ? deferred('stripe', async () => {
          const { createStripeProcessor, stripeClient } = await import('./stripe.ts');
          return createStripeProcessor({ stripe: stripeClient(stripe), processor: 'stripe' });
        })
      : counted('stripe', unconfiguredProcessor('stripe')),
    native: native
      ? deferred('native', async () => {
          const { createStripeProcessor, stripeClient } = await import('./stripe.ts');
          return createStripeProcessor({ stripe: stripeClient(native), processor: 'native' });
        })
      : counted('native', unconfiguredProcessor('native')),
    paypal: paypal
      ? counted('paypal', createPayPalProcessor(paypal))
      : counted('paypal', unconfiguredProcessor('paypal')),
  };
}

/**
 * Where a PayPal subscriber is sent to cancel (PayPal subscriptions are cancelled by the customer at PayPal):
 * the sandbox's site when the credentials are sandbox ones, the live site otherwise.
 */
export function payPalCancelRedirect(settings: ProcessorSettings | null): (subscriptionId: string) => string {
  const environment = settings?.paypal?.environment ?? 'live';
  return (subscriptionId) => payPalCancelRedirectUrl(subscriptionId, environment);
}

/** A Stripe adapter built on its first call. */
function deferred(processor: StripeAccount, load: () => Promise<BillingProcessor>): BillingProcessor {
  return delegating(processor, SCHEDULES_CANCELLATION[processor], lazy(load));
}

/** An adapter already built, with its failures counted. */
function counted(processor: PaidProcessor, adapter: BillingProcessor): BillingProcessor {
  return delegating(processor, adapter.schedulesCancellation, async () => adapter);
}

function delegating(
  processor: PaidProcessor,
  schedulesCancellation: boolean,
  adapter: () => Promise<BillingProcessor>,
): BillingProcessor {
  const call = async <T>(operation: keyof BillingProcessor, act: (target: BillingProcessor) => Promise<T>) => {
    try {
      return await act(await adapter());
    } catch (error) {
      countProcessorCallFailure(processor, operation);
      throw error;
    }
  };
  return {
    schedulesCancellation,
    cancelNow: (purchase, key) => call('cancelNow', (target) => target.cancelNow(purchase, key)),
    scheduleCancellation: (purchase, when, at, key) =>
      call('scheduleCancellation', (target) => target.scheduleCancellation(purchase, when, at, key)),
    stopCancellation: (purchase, key) => call('stopCancellation', (target) => target.stopCancellation(purchase, key)),
    pause: (purchase, resumesAt, key) => call('pause', (target) => target.pause(purchase, resumesAt, key)),
    unpause: (purchase, key) => call('unpause', (target) => target.unpause(purchase, key)),
    paymentToRefund: (purchase) => call('paymentToRefund', (target) => target.paymentToRefund(purchase)),
    refund: (purchase, amount, key, payment) =>
      call('refund', (target) => target.refund(purchase, amount, key, payment)),
    fetchSubscription: (purchase) => call('fetchSubscription', (target) => target.fetchSubscription(purchase)),
  };
}
