import { productionDependencies } from '#shared/wiring.ts';
import { createAccessHandler } from './app.ts';

export const handler = createAccessHandler(productionDependencies());
