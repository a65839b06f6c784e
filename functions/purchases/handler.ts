import { eventBridgeTimers } from '#shared/adapters/eventbridge-scheduler.ts';
import { productionDependencies } from '#shared/wiring.ts';
import { createPurchasesHandler } from './app.ts';

export const handler = createPurchasesHandler(productionDependencies({ timers: eventBridgeTimers }));
