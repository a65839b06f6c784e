import { ulid } from 'ulid';
import { loadConfig } from './config.ts';
import { systemClock } from './domain/time.ts';
import { noProcessor, type ProcessorRegistry, unconfiguredProcessor } from './ports/processor.ts';
import type { TimerScheduler } from './ports/scheduler.ts';
import { createDocumentClient } from './store/client.ts';
import { createDynamoStores } from './store/index.ts';
import type { Dependencies } from './usecases/deps.ts';

export const newId = (prefix: string) => `${prefix}_${ulid().toLowerCase()}`;

/** Every processor refused (502 naming it), except `none`: for functions that never call a processor. */
export function noProcessors(): ProcessorRegistry {
  return {
    none: noProcessor,
    stripe: unconfiguredProcessor('stripe'),
    native: unconfiguredProcessor('native'),
    paypal: unconfiguredProcessor('paypal'),
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
 * timers pass `eventBridgeTimers` (shared/adapters/eventbridge-scheduler.ts), those that call processors pass
 * `processorRegistry(await loadProcessorSettings())` (shared/adapters/processors.ts); the others bundle neither
 * the Scheduler client nor the Stripe SDK.
 */
export function productionDependencies(
  options: { timers?: (clock: typeof systemClock) => TimerScheduler; processors?: ProcessorRegistry } = {},
): Dependencies {
  const config = loadConfig();
  const stores = createDynamoStores(createDocumentClient({ endpoint: config.dynamodbEndpoint }), config.tableName);
  const scheduler = options.timers ? options.timers(systemClock) : noTimers;
  return { ...stores, clock: systemClock, newId, scheduler, processors: options.processors ?? noProcessors() };
}
