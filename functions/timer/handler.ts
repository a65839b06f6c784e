import { productionHandler } from '#shared/wiring.ts';
import { createTimerHandler } from './app.ts';

export const handler = productionHandler(
  'timer',
  {
    processorSecret: () => import('#shared/processor-settings.ts'),
    timers: () => import('#shared/adapters/eventbridge-scheduler.ts'),
    processors: () => import('#shared/adapters/processors.ts'),
  },
  ({ deps }) => createTimerHandler(deps),
);
