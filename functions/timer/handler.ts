import { eventBridgeTimers } from '#shared/adapters/eventbridge-scheduler.ts';
import { loadProcessorSettings } from '#shared/processor-settings.ts';
import { productionDependencies } from '#shared/wiring.ts';
import { createTimerHandler } from './app.ts';

export const handler = createTimerHandler(
  productionDependencies({ timers: eventBridgeTimers, processors: await loadProcessorSettings() }),
);
