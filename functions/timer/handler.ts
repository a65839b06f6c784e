import { eventBridgeTimers } from '#shared/adapters/eventbridge-scheduler.ts';
import { processorRegistry } from '#shared/adapters/processors.ts';
import { loadProcessorSettings } from '#shared/processor-settings.ts';
import { productionDependencies } from '#shared/wiring.ts';
import { createTimerHandler } from './app.ts';

export const handler = createTimerHandler(
  productionDependencies({ timers: eventBridgeTimers, processors: processorRegistry(await loadProcessorSettings()) }),
);
