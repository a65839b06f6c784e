import { productionHandler } from '#shared/wiring.ts';
import { createBillingHandler } from './app.ts';

export const handler = productionHandler(
  'billing',
  {
    processorSecret: () => import('#shared/processor-settings.ts'),
    timers: () => import('#shared/adapters/eventbridge-scheduler.ts'),
    processors: () => import('#shared/adapters/processors.ts'),
  },
  ({ deps }) => createBillingHandler(deps),
);
