import { productionHandler } from '#shared/wiring.ts';
import { createCatalogHandler } from './app.ts';

export const handler = productionHandler('catalog', {}, ({ deps }) => createCatalogHandler(deps));
