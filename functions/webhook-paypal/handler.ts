import { eventBridgeTimers } from '#shared/adapters/eventbridge-scheduler.ts';
import { createPayPalTranslator } from '#shared/adapters/paypal-webhook.ts';
import { processorRegistry } from '#shared/adapters/processors.ts';
import { required } from '#shared/config.ts';
import { loadProcessorSettings } from '#shared/processor-settings.ts';
import { productionDependencies } from '#shared/wiring.ts';
import { createPayPalWebhookHandler } from './app.ts';

const settings = await loadProcessorSettings();
const webhookId = settings.paypalWebhookId ?? required('PAYPAL_WEBHOOK_ID');

export const handler = createPayPalWebhookHandler(
  productionDependencies({ timers: eventBridgeTimers, processors: processorRegistry(settings) }),
  createPayPalTranslator({
    webhookId,
    ...(settings.paypalWebhookCert ? { certificatePem: settings.paypalWebhookCert } : {}),
  }),
);
