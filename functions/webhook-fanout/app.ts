import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describeError, log } from '#shared/log.ts';
import type { BusEvent } from '#shared/ports/event-bus.ts';
import { type FanOutDeps, fanOut } from '#shared/usecases/webhook-delivery.ts';

/**
 * The bus event an SQS record carries. On AWS the EventBridge rule's SQS target puts the whole EventBridge
 * event in the body (`detail` is the envelope); the local runtime's queue stand-in does the same.
 */
export function busEventOf(body: string): BusEvent {
  const parsed = JSON.parse(body) as { detail?: Partial<BusEvent> };
  const event = parsed.detail;
  if (
    typeof event !== 'object' ||
    event === null ||
    typeof event.id !== 'string' ||
    typeof event.type !== 'string' ||
    typeof event.siteId !== 'string'
  ) {
    throw new Error('the record is not an EventBridge event with a membergate envelope in detail');
  }
  return event as BusEvent;
}

/**
 * Fan-out function: SQS (fed by the bus rule) → one delivery job per matching endpoint. Records are
 * handled concurrently and independently; each one that fails is reported (`batchItemFailures`) so that
 * only it is retried, and after the queue's receive limit lands in its dead-letter queue (alarmed).
 */
export function createWebhookFanoutHandler(deps: FanOutDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const results = await Promise.allSettled(event.Records.map((record) => fanOut(deps, busEventOf(record.body))));
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const record = event.Records[i]!;
      log.error('webhook fan-out failed', { messageId: record.messageId, error: describeError(result.reason) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    });
    return { batchItemFailures };
  };
}
