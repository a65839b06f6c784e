import { productionDependencies } from '#shared/wiring.ts';
import { createCatalogHandler } from './app.ts';

export const handler = createCatalogHandler(productionDependencies());
