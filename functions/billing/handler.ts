import { eventBridgeTimers } from '#shared/adapters/eventbridge-scheduler.ts';
import { processorRegistry } from '#shared/adapters/processors.ts';
import { loadProcessorSettings } from '#shared/processor-settings.ts';
import { productionDependencies } from '#shared/wiring.ts';
import { createBillingHandler } from './app.ts';

export const handler = createBillingHandler(
  productionDependencies({ timers: eventBridgeTimers, processors: processorRegistry(await loadProcessorSettings()) }),
);
