import { httpWebhookSender, systemResolver } from '#shared/adapters/webhook-sender.ts';
import { DELIVERY_TIMEOUT_MS } from '#shared/domain/webhook-endpoints.ts';
import { productionHandler } from '#shared/wiring.ts';
import { createWebhookDeliveryHandler } from './app.ts';

// On AWS the SSRF guard never accepts plain http, not even to localhost (`allowLocalHttp: false`).
export const handler = productionHandler(
  'webhook-delivery',
  {
    deliveryQueue: () => import('#shared/adapters/sqs-delivery-queue.ts'),
    eventBus: () => import('#shared/adapters/eventbridge-bus.ts'),
  },
  ({ deps, webhooks, deliveryQueue, eventBus }) =>
    createWebhookDeliveryHandler({
      webhooks,
      clock: deps.clock,
      resolveHost: systemResolver,
      allowLocalHttp: false,
      queue: deliveryQueue,
      sender: httpWebhookSender,
      bus: eventBus,
      random: Math.random,
      timeoutMs: DELIVERY_TIMEOUT_MS,
    }),
);
