import type { Context } from 'aws-lambda';
import { log } from '#shared/log.ts';
import { countPublishedEvents } from '#shared/metrics.ts';
import { type ObservedHandler, observed } from '#shared/observability.ts';
import type { EventBus } from '#shared/ports/event-bus.ts';
import { isOutboxInsert, outboxEvent, type StreamRecordLike } from '#shared/store/outbox.ts';
import { type OutboxRecord, type PublishOutcome, publishOutbox } from '#shared/usecases/publish-events.ts';

/** A DynamoDB stream batch: Lambda's `DynamoDBStreamEvent`, or the local poller's records in the same shape. */
export interface StreamBatch {
  Records?: StreamRecordLike[];
}

/** Lambda's partial batch response (`ReportBatchItemFailures`): the sequence numbers to redeliver. */
export interface StreamBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** A stream record as the use case reads it: its position, and the event it carries if it is one. */
export function toOutboxRecord(record: StreamRecordLike): OutboxRecord {
  const position = record.dynamodb?.SequenceNumber ?? '';
  if (!isOutboxInsert(record)) return { position, kind: 'ignored' };
  try {
    return { position, kind: 'event', event: outboxEvent(record) };
  } catch (error) {
    return { position, kind: 'malformed', reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The outbox publisher: the table's stream (history inserts only, by the event-source filter) → the event
 * bus. Returns the records to redeliver as `batchItemFailures` (the first failure and everything after it),
 * so Lambda retries exactly those and, once its retries or the record age run out, sends the batch's
 * description to the on-failure queue (alarmed). It never throws for a failed publish: a thrown error would
 * redeliver the whole batch, published events included. The local runtime runs the same handler on DynamoDB
 * Local's stream (infra/local/stream-poller.ts).
 */
export function createPublisherHandler(bus: EventBus): ObservedHandler<StreamBatch, StreamBatchResponse> {
  return observed('publisher', async (batch: StreamBatch, _context: Context) => {
    const records = (batch.Records ?? []).map(toOutboxRecord);
    const outcome = await publishOutbox(records, bus);
    report(outcome, records.length);
    return { batchItemFailures: outcome.retry.map((itemIdentifier) => ({ itemIdentifier })) };
  });
}

function report(outcome: PublishOutcome, received: number) {
  countPublishedEvents(outcome.published, outcome.retry.length);
  for (const failure of outcome.failed) {
    log.error('event not published', {
      eventId: failure.eventId,
      sequenceNumber: failure.position,
      reason: failure.reason,
    });
  }
  const summary = {
    received,
    published: outcome.published,
    ignored: outcome.ignored,
    failed: outcome.failed.length,
    redelivered: outcome.retry.length,
  };
  if (outcome.retry.length > 0) log.warn('stream batch partly published; the rest will be redelivered', summary);
  else log.debug('stream batch published', summary);
}
