import { MemoryRecentPurchases } from '../adapters/recent-purchases.ts';
import { InvalidInputError } from '../domain/errors.ts';
import type { IgnoredEvent, ProcessorEvent } from '../domain/processor-events.ts';
import { log } from '../log.ts';
import { countWebhookDelivery, webhookOutcomeClass } from '../metrics.ts';
import type { WebhookTranslator } from '../ports/webhooks.ts';
import type { Dependencies } from '../usecases/deps.ts';
import { handleProcessorEvent } from '../usecases/webhooks.ts';
import { json, type RouteHandler } from './api.ts';

/**
 * The route behind `POST /webhooks/<processor>`: verify and translate against the exact raw body (a
 * rejected signature is a 400 and writes nothing), then apply. Duplicates and ignored types answer 200 so
 * the processor stops redelivering; a failure to apply answers 500 so it retries later. Every delivery is
 * counted by outcome; the event id (never the body or its signature) goes on the invocation's log lines.
 */
export function webhookRoute(deps: Dependencies, translator: WebhookTranslator): RouteHandler {
  // Per handler instance, i.e. per Lambda container: the purchases it wrote last (ports/recent-purchases.ts).
  const recent = new MemoryRecentPurchases();
  return async (request) => {
    let event: ProcessorEvent | IgnoredEvent;
    try {
      event = await translator.translate(request.rawBody, request.headers, request.now);
    } catch (error) {
      // Forged, stale or malformed (a 400): the processor's delivery was refused.
      if (error instanceof InvalidInputError) countWebhookDelivery(translator.processor, 'rejected');
      throw error;
    }
    log.appendKeys({ eventId: event.eventId, ...('siteId' in event && event.siteId ? { siteId: event.siteId } : {}) });
    const result = await handleProcessorEvent(deps, event, request.now, recent);
    if ('purchaseId' in result) log.appendKeys({ purchaseId: result.purchaseId });
    countWebhookDelivery(translator.processor, webhookOutcomeClass(result.outcome));
    return json(200, { received: true, ...result });
  };
}
