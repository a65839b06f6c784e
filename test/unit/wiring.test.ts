import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { payPalCancelRedirectUrl } from '../../shared/adapters/paypal.ts';
import type { EventBridgeSchedulerConfig } from '../../shared/config.ts';
import type { Clock } from '../../shared/domain/time.ts';
import { lazy } from '../../shared/lazy.ts';
import { log } from '../../shared/log.ts';
import { ProcessorError } from '../../shared/ports/processor.ts';
import type { TimerScheduler } from '../../shared/ports/scheduler.ts';
import type { WebhookTranslator } from '../../shared/ports/webhooks.ts';
import { type ProcessorSettings, processorSettingsFrom } from '../../shared/processor-settings.ts';
import type { Dependencies } from '../../shared/usecases/deps.ts';
import { productionHandler } from '../../shared/wiring.ts';
import { aPurchase } from './fixtures.ts';

const STACK_ENV = {
  TABLE_NAME: 'membergate-unit',
  SCHEDULE_GROUP: 'membergate-timers',
  TIMER_FUNCTION_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:membergate-timer',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/membergate-scheduler',
  TIMER_DLQ_ARN: 'arn:aws:sqs:eu-west-1:123456789012:membergate-timer-dlq',
};

const saved = { ...process.env };
beforeEach(() => {
  Object.assign(process.env, STACK_ENV);
});
afterEach(() => {
  process.env = { ...saved };
  jest.restoreAllMocks();
});

/** Failures to wire are logged before they are thrown; the tests that provoke one read the log instead. */
function loggedErrors(): string[] {
  const messages: string[] = [];
  jest.spyOn(log, 'error').mockImplementation((...[message]) => {
    messages.push(String(message));
  });
  return messages;
}

const TIMER = {
  siteId: 'site-1',
  purchaseId: 'pur-1',
  purpose: 'cancellation',
  dueAt: '2026-12-01T00:00:00.000Z',
} as const;
const translator: WebhookTranslator = {
  processor: 'stripe',
  translate: async () => ({ ignored: true, processor: 'stripe', eventId: 'evt_1', type: 'x', reason: 'unit' }),
};

/** A handler that hands back what it was built with, so a test can look at the wiring. */
const echo =
  <W>(wired: W) =>
  async () =>
    wired;

describe('productionHandler', () => {
  it('builds a function that reads no secret at once, with processors refused and no timers', async () => {
    const handler = productionHandler('access', {}, echo);

    const { deps } = await handler();

    await expect(deps.processors.stripe.cancelNow(aPurchase(), 'key')).rejects.toThrow(ProcessorError);
    await expect(deps.scheduler.upsert(TIMER)).rejects.toThrow('not wired with a scheduler');
  });

  it('stops the cold start naming a missing Scheduler setting of a function that arms timers', () => {
    delete process.env.TIMER_DLQ_ARN;

    expect(() =>
      productionHandler('purchases', { timers: async () => ({ eventBridgeTimers: () => recordingTimers([]) }) }, echo),
    ).toThrow('TIMER_DLQ_ARN');
  });

  it('loads the Scheduler adapter on the first timer, once, with the settings read at cold start', async () => {
    const calls: string[] = [];
    const configs: EventBridgeSchedulerConfig[] = [];
    const loadAdapter = jest.fn(async () => ({
      eventBridgeTimers: (config: EventBridgeSchedulerConfig, _clock: Clock) => {
        configs.push(config);
        return recordingTimers(calls);
      },
    }));
    const handler = productionHandler('purchases', { timers: loadAdapter }, echo);
    const { deps } = await handler();
    expect(loadAdapter).not.toHaveBeenCalled();

    await deps.scheduler.upsert(TIMER);
    await deps.scheduler.remove(TIMER);

    expect(loadAdapter).toHaveBeenCalledTimes(1);
    expect(calls).toEqual(['upsert', 'remove']);
    expect(configs).toEqual([
      {
        groupName: STACK_ENV.SCHEDULE_GROUP,
        targetArn: STACK_ENV.TIMER_FUNCTION_ARN,
        roleArn: STACK_ENV.SCHEDULER_ROLE_ARN,
        deadLetterArn: STACK_ENV.TIMER_DLQ_ARN,
      },
    ]);
  });

  it('reads the processor secret on the first invocation, not at cold start, and only once', async () => {
    const loadProcessorSettings = jest.fn(async () => processorSettingsFrom({ STRIPE_WEBHOOK_SECRET: 'whsec_unit' }));
    const create = jest.fn((wired: { deps: Dependencies; webhookTranslator: WebhookTranslator }) => echo(wired));
    const handler = productionHandler('webhook-stripe', stripeWebhookLoaders(loadProcessorSettings), create);
    expect(loadProcessorSettings).not.toHaveBeenCalled();
    expect(create).not.toHaveBeenCalled();

    const first = await handler();
    await handler();

    expect(loadProcessorSettings).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledTimes(1);
    expect(first.webhookTranslator).toBe(translator);
  });

  it('tries the processor secret again on the next invocation when reading it failed', async () => {
    const errors = loggedErrors();
    const loadProcessorSettings = jest
      .fn<() => Promise<ProcessorSettings>>()
      .mockRejectedValueOnce(new Error('Secrets Manager is unreachable'))
      .mockResolvedValue(processorSettingsFrom({ STRIPE_WEBHOOK_SECRET: 'whsec_unit' }));
    const handler = productionHandler('webhook-stripe', stripeWebhookLoaders(loadProcessorSettings), echo);

    await expect(handler()).rejects.toThrow('Secrets Manager is unreachable');
    await expect(handler()).resolves.toHaveProperty('webhookTranslator', translator);
    expect(errors).toEqual([expect.stringContaining('could not be wired')]);
  });

  it('refuses a webhook function without its signing secret, naming the variable', async () => {
    loggedErrors();
    const handler = productionHandler(
      'webhook-stripe',
      stripeWebhookLoaders(async () => processorSettingsFrom({})),
      echo,
    );

    await expect(handler()).rejects.toThrow('STRIPE_WEBHOOK_SECRET');
  });

  it('hands a function that calls processors the registry built from the secret, and PayPal’s redirect', async () => {
    const settings = processorSettingsFrom({
      PAYPAL_CLIENT_ID: 'id',
      PAYPAL_CLIENT_SECRET: 'secret',
      PAYPAL_API_BASE: 'https://api-m.sandbox.paypal.com',
    });
    const handler = productionHandler(
      'me',
      {
        processorSecret: async () => ({ loadProcessorSettings: async () => settings }),
        timers: async () => ({ eventBridgeTimers: () => recordingTimers([]) }),
        processors: () => import('../../shared/adapters/processors.ts'),
      },
      echo,
    );

    const wired = await handler();

    expect(wired.deps.processors.paypal.schedulesCancellation).toBe(false);
    expect(wired.payPalRedirect('I-SUB1')).toBe(payPalCancelRedirectUrl('I-SUB1', 'sandbox'));
  });

  it('refuses, at cold start, a loader the function does not declare a need for', () => {
    const loaders = { timers: async () => ({ eventBridgeTimers: () => recordingTimers([]) }) };

    // The compiler refuses this call; the cast stands for a wiring that got past it.
    expect(() => productionHandler('access', loaders as never, echo)).toThrow('unexpected adapter loader "timers"');
  });

  it('refuses, at cold start, a missing loader for a declared need', () => {
    expect(() => productionHandler('purchases', {} as never, echo)).toThrow('missing adapter loader "timers"');
  });
});

describe('lazy', () => {
  it('shares one load between concurrent first calls', async () => {
    const load = jest.fn(async () => 42);
    const value = lazy(load);

    const results = await Promise.all([value(), value(), value()]);

    expect(results).toEqual([42, 42, 42]);
    expect(load).toHaveBeenCalledTimes(1);
  });
});

function recordingTimers(calls: string[]): TimerScheduler {
  return {
    upsert: async () => {
      calls.push('upsert');
    },
    remove: async () => {
      calls.push('remove');
    },
  };
}

function stripeWebhookLoaders(loadProcessorSettings: () => Promise<ProcessorSettings>) {
  return {
    processorSecret: async () => ({ loadProcessorSettings }),
    timers: async () => ({ eventBridgeTimers: () => recordingTimers([]) }),
    stripeWebhooks: async () => ({ createStripeTranslator: () => translator }),
  };
}
