import type { BusEvent, EventBus } from '../ports/event-bus.ts';

/** One record of a stream batch, in shard order, as the publisher sees it. */
export type OutboxRecord =
  /** `position` is the record's place in its shard (DynamoDB Streams: the sequence number). */
  | { position: string; kind: 'event'; event: BusEvent }
  /** Not an event (another item's write, a modify or remove): nothing to publish, nothing to retry. */
  | { position: string; kind: 'ignored' }
  /** A history insert without a readable envelope: it cannot be published and must not be skipped. */
  | { position: string; kind: 'malformed'; reason: string };

export interface PublishOutcome {
  published: number;
  ignored: number;
  /** Each record that could not be published, with the reason (the bus's, or why it is malformed). */
  failed: { position: string; eventId: string | null; reason: string }[];
  /**
   * The positions to hand back as failed: the first record that failed and every record after it, in order
   * (a stream is consumed in order: the source resumes at the earliest position reported, so what follows a
   * failure is sent again anyway, and reporting it says so). Empty when everything was published.
   */
  retry: string[];
}

/**
 * Publish the outbox (DESIGN.md §5, rule 16: every change is heard about, at least once, never lost).
 *
 * - Input: one batch of stream records in shard order; the bus.
 * - Output: what was published, and the positions from the first failure on, for the source to redeliver.
 * - Main course: every event before the first malformed record goes to the bus in one call (the bus
 *   batches and retries failed entries itself); the earliest record that is malformed or whose event the
 *   bus still refused marks where the batch must resume.
 * - The rule: a record is acknowledged only if it and every record before it in the shard is published or
 *   not an event. Events after a failure may already be on the bus and will be published again, with the
 *   same `id`: delivery is at least once and consumers deduplicate by id; `sequence` orders them.
 */
export async function publishOutbox(records: readonly OutboxRecord[], bus: EventBus): Promise<PublishOutcome> {
  const malformedAt = records.findIndex((record) => record.kind === 'malformed');
  // Nothing after a malformed record is sent now: it is all redelivered, so sending it would only duplicate.
  const publishable = malformedAt === -1 ? records : records.slice(0, malformedAt);
  const toSend = publishable.flatMap((record) => (record.kind === 'event' ? [record] : []));

  // By id: a bus may hand back copies of the events it was given.
  const refused = new Map<string, string>();
  if (toSend.length > 0) {
    try {
      const result = await bus.publish(toSend.map((record) => record.event));
      for (const { event, reason } of result.failed) refused.set(event.id, reason);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      for (const record of toSend) refused.set(record.event.id, reason);
    }
  }

  const failed: PublishOutcome['failed'] = [];
  let firstFailure = -1;
  records.forEach((record, index) => {
    if (record.kind === 'malformed') {
      failed.push({ position: record.position, eventId: null, reason: record.reason });
    } else if (record.kind === 'event' && refused.has(record.event.id)) {
      failed.push({ position: record.position, eventId: record.event.id, reason: refused.get(record.event.id)! });
    } else return;
    if (firstFailure === -1) firstFailure = index;
  });

  const retry = firstFailure === -1 ? [] : records.slice(firstFailure).map((record) => record.position);
  const published = toSend.filter((record) => !refused.has(record.event.id)).length;
  return {
    published,
    ignored: records.filter((record) => record.kind === 'ignored').length,
    failed,
    retry,
  };
}
