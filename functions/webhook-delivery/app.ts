import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describeError, log } from '#shared/log.ts';
import { untilDue } from '#shared/ports/delivery-queue.ts';
import { type DeliveryDeps, deliver } from '#shared/usecases/webhook-delivery.ts';

/**
 * Delivery function: one attempt per SQS record. A record that arrives before it is due (SQS delays at most
 * 900 s; retries wait up to 6 h) is sent again with the rest of its delay. Records run concurrently, each
 * with its own timeout, so a slow endpoint holds up no other; each failure is reported on its own
 * (`batchItemFailures`). A failed *delivery* is not a failure here: it is recorded and retried on the schedule.
 */
export function createWebhookDeliveryHandler(deps: DeliveryDeps) {
  const handle = async (record: SQSRecord) => {
    const { message, remainingSeconds } = untilDue(record.body, deps.clock());
    if (remainingSeconds > 0) {
      await deps.queue.send(message, remainingSeconds);
      return 'not_due';
    }
    return deliver(deps, message);
  };
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const results = await Promise.allSettled(event.Records.map(handle));
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    results.forEach((result, i) => {
      const record = event.Records[i]!;
      if (result.status === 'fulfilled') {
        log.debug('webhook delivery', { messageId: record.messageId, result: result.value });
        return;
      }
      log.error('webhook delivery failed', { messageId: record.messageId, error: describeError(result.reason) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    });
    return { batchItemFailures };
  };
}
