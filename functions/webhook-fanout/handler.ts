import { productionHandler } from '#shared/wiring.ts';
import { createWebhookFanoutHandler } from './app.ts';

export const handler = productionHandler(
  'webhook-fanout',
  { deliveryQueue: () => import('#shared/adapters/sqs-delivery-queue.ts') },
  ({ deps, webhooks, deliveryQueue }) =>
    createWebhookFanoutHandler({ webhooks, clock: deps.clock, queue: deliveryQueue }),
);
