import { createApiHandler } from '#shared/http/api.ts';
import { webhookRoute } from '#shared/http/webhook.ts';
import type { WebhookTranslator } from '#shared/ports/webhooks.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';

/** PayPal's webhook endpoint: self-verification (CRC32 + SHA256withRSA), then the processor-event use case. */
export function createPayPalWebhookHandler(deps: Dependencies, translator: WebhookTranslator) {
  return createApiHandler(
    'webhook-paypal',
    { 'POST /webhooks/paypal': webhookRoute(deps, translator) },
    { clock: deps.clock },
  );
}
