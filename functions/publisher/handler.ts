import { productionHandler } from '#shared/wiring.ts';
import { createPublisherHandler } from './app.ts';

export const handler = productionHandler(
  'publisher',
  { eventBus: () => import('#shared/adapters/eventbridge-bus.ts') },
  ({ eventBus }) => createPublisherHandler(eventBus),
);
