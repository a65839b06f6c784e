import { productionHandler } from '#shared/wiring.ts';
import { createStripeWebhookHandler } from './app.ts';

export const handler = productionHandler(
  'webhook-stripe',
  {
    processorSecret: () => import('#shared/processor-settings.ts'),
    timers: () => import('#shared/adapters/eventbridge-scheduler.ts'),
    stripeWebhooks: () => import('#shared/adapters/stripe-webhook.ts'),
  },
  ({ deps, webhookTranslator }) => createStripeWebhookHandler(deps, webhookTranslator),
);
