import { eventBridgeTimers } from '#shared/adapters/eventbridge-scheduler.ts';
import { productionDependencies } from '#shared/wiring.ts';
import { createBillingHandler } from './app.ts';

export const handler = createBillingHandler(productionDependencies({ timers: eventBridgeTimers }));
