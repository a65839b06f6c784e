import { productionHandler } from '#shared/wiring.ts';
import { createSweeperHandler } from './app.ts';

export const handler = productionHandler(
  'sweeper',
  {
    processorSecret: () => import('#shared/processor-settings.ts'),
    timers: () => import('#shared/adapters/eventbridge-scheduler.ts'),
    processors: () => import('#shared/adapters/processors.ts'),
  },
  ({ deps }) => createSweeperHandler(deps),
);
