import { productionHandler } from '#shared/wiring.ts';
import { createPurchasesHandler } from './app.ts';

export const handler = productionHandler(
  'purchases',
  { timers: () => import('#shared/adapters/eventbridge-scheduler.ts') },
  ({ deps }) => createPurchasesHandler(deps),
);
