import { productionDependencies } from '#shared/wiring.ts';
import { createPurchasesHandler } from './app.ts';

export const handler = createPurchasesHandler(productionDependencies({ timers: true }));
