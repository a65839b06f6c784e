import { productionHandler } from '#shared/wiring.ts';
import { createMeHandler } from './app.ts';

export const handler = productionHandler(
  'me',
  {
    processorSecret: () => import('#shared/processor-settings.ts'),
    timers: () => import('#shared/adapters/eventbridge-scheduler.ts'),
    processors: () => import('#shared/adapters/processors.ts'),
  },
  ({ deps, payPalRedirect }) => createMeHandler(deps, { payPalRedirect }),
);
