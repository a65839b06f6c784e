import { productionDependencies } from '#shared/wiring.ts';
import { createTimerHandler } from './app.ts';

export const handler = createTimerHandler(productionDependencies({ timers: true }));
