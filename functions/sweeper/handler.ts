import { productionDependencies } from '#shared/wiring.ts';
import { createSweeperHandler } from './app.ts';

export const handler = createSweeperHandler(productionDependencies({ timers: true }));
