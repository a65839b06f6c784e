import { createApiHandler } from '#shared/http/api.ts';
import { webhookRoute } from '#shared/http/webhook.ts';
import type { WebhookTranslator } from '#shared/ports/webhooks.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';

/** Stripe's webhook endpoint: `constructEvent` over the raw body, then the processor-event use case. */
export function createStripeWebhookHandler(deps: Dependencies, translator: WebhookTranslator) {
  return createApiHandler(
    'webhook-stripe',
    { 'POST /webhooks/stripe': webhookRoute(deps, translator) },
    { clock: deps.clock },
  );
}
