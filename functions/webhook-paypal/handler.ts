import { productionHandler } from '#shared/wiring.ts';
import { createPayPalWebhookHandler } from './app.ts';

export const handler = productionHandler(
  'webhook-paypal',
  {
    processorSecret: () => import('#shared/processor-settings.ts'),
    timers: () => import('#shared/adapters/eventbridge-scheduler.ts'),
    payPalWebhooks: () => import('#shared/adapters/paypal-webhook.ts'),
  },
  ({ deps, webhookTranslator }) => createPayPalWebhookHandler(deps, webhookTranslator),
);
