import { createHash } from 'node:crypto';
import type { Actor, HistoryEntry, HistoryType, Purchase, PurchaseChange } from './types.ts';
import { type PurchaseView, purchaseView } from './views.ts';

/**
 * Domain events (DESIGN.md §5, rule 16). Every history entry of a purchase is also its event: the entry is
 * written with its envelope fields in the purchase's own transaction (the transactional outbox), so an event
 * exists exactly when its change does, and the purchase's history is its permanent, ordered event log.
 */
export interface DomainEvent {
  /** Stable across redeliveries: consumers deduplicate by it. */
  id: string;
  type: HistoryType;
  siteId: string;
  purchaseId: string;
  customerId: string;
  /** 1, 2, 3… per purchase, no gaps: a consumer orders by it and detects a missed event without other state. */
  sequence: number;
  occurredAt: string;
  actor: Actor;
  data: { purchase: PurchaseView; details: Record<string, unknown>; label?: string };
}

/** A history entry as stored: the entry plus what makes it an event. */
export interface RecordedEntry extends HistoryEntry {
  eventId: string;
  sequence: number;
}

/** Deterministic, so a write retried after a failure gives the same event the same id. */
export function eventId(siteId: string, purchaseId: string, sequence: number): string {
  const digest = createHash('sha256').update(`${siteId}/${purchaseId}/${sequence}`).digest('hex').slice(0, 32);
  return `evt_${digest}`;
}

/**
 * Numbers a change's history entries as the purchase's next events. The change's purchase was derived from
 * the stored one (same `eventSequence`) and is written conditioned on the version that was read, so two
 * writers can never hand out the same numbers: sequences have no gaps and no repeats.
 */
export function sequenceChange(change: PurchaseChange): { purchase: Purchase; entries: RecordedEntry[] } {
  const before = change.purchase.eventSequence ?? 0;
  const entries = change.history.map((entry, index) => ({
    ...entry,
    sequence: before + index + 1,
    eventId: eventId(change.purchase.siteId, change.purchase.purchaseId, before + index + 1),
  }));
  return { purchase: { ...change.purchase, eventSequence: before + entries.length }, entries };
}

/** The envelope of a recorded entry, with the purchase as it was after the change. */
export function toEvent(purchase: Purchase, entry: RecordedEntry): DomainEvent {
  const data: DomainEvent['data'] = { purchase: purchaseView(purchase), details: entry.details };
  if (entry.label !== undefined) data.label = entry.label;
  return {
    id: entry.eventId,
    type: entry.type,
    siteId: purchase.siteId,
    purchaseId: purchase.purchaseId,
    customerId: purchase.customerId,
    sequence: entry.sequence,
    occurredAt: entry.at,
    actor: entry.actor,
    data,
  };
}
