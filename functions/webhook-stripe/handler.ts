import { eventBridgeTimers } from '#shared/adapters/eventbridge-scheduler.ts';
import { processorRegistry } from '#shared/adapters/processors.ts';
import { createStripeTranslator } from '#shared/adapters/stripe-webhook.ts';
import { required } from '#shared/config.ts';
import { loadProcessorSettings } from '#shared/processor-settings.ts';
import { productionDependencies } from '#shared/wiring.ts';
import { createStripeWebhookHandler } from './app.ts';

const settings = await loadProcessorSettings();
const webhookSecret = settings.stripeWebhookSecret ?? required('STRIPE_WEBHOOK_SECRET');

export const handler = createStripeWebhookHandler(
  productionDependencies({ timers: eventBridgeTimers, processors: processorRegistry(settings) }),
  createStripeTranslator({ webhookSecret }),
);
