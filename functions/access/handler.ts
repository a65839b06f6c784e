import { productionHandler } from '#shared/wiring.ts';
import { createAccessHandler } from './app.ts';

export const handler = productionHandler('access', {}, ({ deps }) => createAccessHandler(deps));
