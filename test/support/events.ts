import type { DomainEvent } from '../../shared/domain/events.ts';
import { eventId, toEvent } from '../../shared/domain/events.ts';
import type { Purchase } from '../../shared/domain/types.ts';
import type { BusEvent, EventBus, PublishResult } from '../../shared/ports/event-bus.ts';
import type { StreamAttributeValue, StreamRecordLike } from '../../shared/store/outbox.ts';
import { aPurchase } from '../unit/fixtures.ts';

/** Event `sequence` of one purchase, as the store would have written it (deterministic id, full envelope). */
export function anEvent(sequence: number, purchase: Partial<Purchase> = {}, detailsBytes = 0): DomainEvent {
  const base = aPurchase(purchase);
  return toEvent(base, {
    at: new Date(Date.parse('2026-03-01T10:00:00.000Z') + sequence).toISOString(),
    type: 'access.revoked',
    actor: { type: 'admin', email: 'owner@example.com' },
    label: 'Revoked by owner@example.com',
    details: detailsBytes > 0 ? { productIds: ['course'], note: 'x'.repeat(detailsBytes) } : { productIds: ['course'] },
    sequence,
    eventId: eventId(base.siteId, base.purchaseId, sequence),
  });
}

/** A bus that keeps every event it accepted, in order (duplicates included), and can be told to fail. */
export class RecordingBus implements EventBus {
  readonly received: BusEvent[] = [];
  calls = 0;
  /** Decides per call which events fail (by id → reason); accepts everything by default. */
  failWith: (events: BusEvent[], call: number) => Map<string, string> | 'throw' = () => new Map();

  async publish(events: BusEvent[]): Promise<PublishResult> {
    this.calls++;
    const verdict = this.failWith(events, this.calls);
    if (verdict === 'throw') throw new Error(`bus unavailable (call ${this.calls})`);
    const failed: PublishResult['failed'] = [];
    for (const event of events) {
      const reason = verdict.get(event.id);
      if (reason) failed.push({ event, reason });
      else this.received.push(event);
    }
    return { failed };
  }

  /** How many times each id arrived. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const event of this.received) counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
    return counts;
  }
}

/** A plain value as a DynamoDB stream image holds it (what the document client would have written). */
export function toAttributeValue(value: unknown): StreamAttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(toAttributeValue) };
  if (typeof value === 'object') {
    return {
      M: Object.fromEntries(
        Object.entries(value)
          .filter(([, inner]) => inner !== undefined)
          .map(([key, inner]) => [key, toAttributeValue(inner)]),
      ),
    };
  }
  throw new Error(`cannot marshal ${typeof value}`);
}

/** A stream record of a history item's insert carrying `event`, at `sequenceNumber`. */
export function historyInsert(sequenceNumber: string, event: BusEvent): StreamRecordLike {
  return streamRecord(sequenceNumber, 'INSERT', { pk: 'SITE#s#PURCHASE#p', sk: 'HISTORY#x', entity: 'history', event });
}

export function streamRecord(
  sequenceNumber: string,
  eventName: string,
  item: Record<string, unknown>,
): StreamRecordLike {
  return {
    eventName,
    dynamodb: { SequenceNumber: sequenceNumber, NewImage: toAttributeValue(item).M! },
  };
}
