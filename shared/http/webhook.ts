import type { WebhookTranslator } from '../ports/webhooks.ts';
import type { Dependencies } from '../usecases/deps.ts';
import { handleProcessorEvent } from '../usecases/webhooks.ts';
import { json, type RouteHandler } from './api.ts';

/**
 * The route behind `POST /webhooks/<processor>`: verify and translate against the exact raw body (a
 * rejected signature is a 400 and writes nothing), then apply. Duplicates and ignored types answer 200 so
 * the processor stops redelivering; a failure to apply answers 500 so it retries later.
 */
export function webhookRoute(deps: Dependencies, translator: WebhookTranslator): RouteHandler {
  return async (request) => {
    const event = await translator.translate(request.rawBody, request.headers, request.now);
    const result = await handleProcessorEvent(deps, event, request.now);
    return json(200, { received: true, ...result });
  };
}
