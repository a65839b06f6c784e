import { ulid } from 'ulid';
import { createPayPalProcessor } from './adapters/paypal.ts';
import { createStripeProcessor, stripeClient } from './adapters/stripe.ts';
import { loadConfig } from './config.ts';
import { systemClock } from './domain/time.ts';
import { noProcessor, type ProcessorRegistry, unconfiguredProcessor } from './ports/processor.ts';
import type { TimerScheduler } from './ports/scheduler.ts';
import type { ProcessorSettings } from './processor-settings.ts';
import { createDocumentClient } from './store/client.ts';
import { Store } from './store/store.ts';
import type { Dependencies } from './usecases/deps.ts';

export const newId = (prefix: string) => `${prefix}_${ulid().toLowerCase()}`;

/**
 * Processor adapters by name, from the settings. A processor without credentials answers every call with
 * a clear 502 naming it; processor `none` (billing recorded in membergate only) needs nothing.
 */
export function processorRegistry(settings: ProcessorSettings | null = null): ProcessorRegistry {
  return {
    none: noProcessor,
    stripe: settings?.stripe
      ? createStripeProcessor({ stripe: stripeClient(settings.stripe), processor: 'stripe' })
      : unconfiguredProcessor('stripe'),
    native: settings?.native
      ? createStripeProcessor({ stripe: stripeClient(settings.native), processor: 'native' })
      : unconfiguredProcessor('native'),
    paypal: settings?.paypal ? createPayPalProcessor(settings.paypal) : unconfiguredProcessor('paypal'),
  };
}

/** A scheduler for functions that never arm timers; using it is a wiring bug and says so. */
const noTimers: TimerScheduler = {
  upsert: async () => {
    throw new Error('this function is not wired with a scheduler');
  },
  remove: async () => {
    throw new Error('this function is not wired with a scheduler');
  },
};

/**
 * The real adapters, built once per Lambda container from the environment. Functions that arm or move
 * timers pass `eventBridgeTimers` (shared/adapters/eventbridge-scheduler.ts); the others do not bundle the
 * Scheduler client at all.
 */
export function productionDependencies(
  options: { timers?: (clock: typeof systemClock) => TimerScheduler; processors?: ProcessorSettings } = {},
): Dependencies {
  const config = loadConfig();
  const store = new Store(createDocumentClient({ endpoint: config.dynamodbEndpoint }), config.tableName);
  const scheduler = options.timers ? options.timers(systemClock) : noTimers;
  return { store, clock: systemClock, newId, scheduler, processors: processorRegistry(options.processors ?? null) };
}
