import type { JobMarker } from '../domain/bulk-jobs.ts';
import type { DomainEvent } from '../domain/events.ts';
import type { IdempotencyRecord } from '../domain/idempotency.ts';
import type { Customer, HistoryEntry, Instant, Purchase, PurchaseChange, PurchaseStatus } from '../domain/types.ts';
import type { UpcomingChange, UpcomingType } from '../domain/upcoming.ts';
import type { ProcessorEventRecord } from './processor-events.ts';

/** One page of a list; `nextCursor` is opaque and valid only for the same list with the same filters. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** What may go with a purchase change in its transaction. */
export interface SaveOptions {
  /** The write applies only while the purchase's status is one of these (a transition's from-states). */
  allowedFrom?: readonly PurchaseStatus[] | undefined;
  /** The processor event that caused the change, recorded once (DuplicateProcessorEventError if seen). */
  processorEvent?: ProcessorEventRecord | undefined;
  /** The caller's Idempotency-Key, completed with the answer; only while still pending with this fingerprint. */
  idempotency?: IdempotencyRecord | undefined;
  /**
   * The purchase as read at `expectedVersion`. With it only the timed-change entries that differ are written
   * (the write is conditioned on that version, so the stored entries are exactly `before`'s); without it
   * every entry the purchase could have is rewritten or cleared.
   */
  before?: Purchase | undefined;
  /**
   * A bulk job's marker for this purchase, put only if the job has none yet (JobMarkerExistsError otherwise):
   * a redelivered page never changes the purchase twice.
   */
  jobMarker?: JobMarker | undefined;
}

export interface SubscriptionFilter {
  status?: PurchaseStatus | undefined;
  offerId?: string | undefined;
}

export interface EventFilter {
  purchaseId?: string | undefined;
  type?: string | undefined;
}

export interface DuePurchase {
  siteId: string;
  purchaseId: string;
  dueAt: string;
}

/** How the sweeper pages through the due index. */
export interface DueQuery {
  /** How many whole UTC hours before now's hour are read too (default `DUE_LOOKBACK_HOURS`). */
  lookbackHours?: number | undefined;
  limit?: number | undefined;
  /** The `nextCursor` of the previous page of the same `now` and lookback. */
  cursor?: string | null | undefined;
}

/** Overdue actions are looked for this far back; older ones are left to the exact access checks (rule 14). */
export const DUE_LOOKBACK_HOURS = 24;

/** A calendar window `[from, to)`, optionally of one type. */
export interface UpcomingQuery {
  from: Instant;
  to: Instant;
  type?: UpcomingType | undefined;
}

/**
 * Port for purchases, their history and the customer's copy of each. Every change is one atomic write: the
 * purchase (conditioned on the version that was read and, when given, its from-statuses), the customer's
 * copy, the history entries, and what `SaveOptions` adds, all or nothing. Reads that decide are strongly
 * consistent. Adapters: DynamoDB (shared/store/purchases.ts), in memory (test/support/memory-store.ts).
 */
export interface PurchaseStore {
  getPurchase(siteId: string, purchaseId: string): Promise<Purchase | null>;
  /**
   * Writes a new purchase. A purchase id exists once (ConflictError); a processor subscription id links to
   * one purchase only (ConflictError naming `processorSubscriptionId`). With `processorEvent`, the event is
   * recorded in the same write (DuplicateProcessorEventError if seen).
   */
  createPurchase(change: PurchaseChange, processorEvent?: ProcessorEventRecord): Promise<void>;
  /** ConcurrentModificationError when the version, the status or the idempotency claim is no longer as read. */
  savePurchase(change: PurchaseChange, expectedVersion: number, options?: SaveOptions): Promise<void>;
  /** Oldest first. */
  listHistory(siteId: string, purchaseId: string): Promise<HistoryEntry[]>;
  /**
   * The domain events of a site, oldest first (by occurrence, then purchase and sequence), or of one purchase
   * in sequence order; optionally of one type. Every history entry is an event (domain/events.ts).
   */
  listEvents(siteId: string, filter: EventFilter, limit: number, cursor: string | null): Promise<Page<DomainEvent>>;
  /** The purchase a processor subscription belongs to (a webhook's way in). */
  findByProcessorSubscription(
    processor: string,
    subscriptionId: string,
  ): Promise<{ siteId: string; purchaseId: string } | null>;

  /** Only the customer's purchases: the access check's single read. */
  getCustomerPurchases(siteId: string, customerId: string): Promise<Purchase[]>;
  /** The customer and every purchase they hold, in one read. */
  getCustomerWithPurchases(
    siteId: string,
    customerId: string,
  ): Promise<{ customer: Customer | null; purchases: Purchase[] }>;

  /** A site's subscriptions and payment plans, by status then age, optionally of one status and/or offer. */
  listSubscriptions(
    siteId: string,
    filter: SubscriptionFilter,
    limit: number,
    cursor: string | null,
  ): Promise<Page<Purchase>>;
  /** An offer's purchases, oldest first. */
  listPurchasesByOffer(siteId: string, offerId: string, limit: number, cursor: string | null): Promise<Page<Purchase>>;
  /**
   * The timed actions of every site due at `now` (inclusive), from the start of the UTC hour `lookbackHours`
   * before now's: one entry per (purchase, action), so a purchase may appear more than once. Hours oldest
   * first; within an hour, by shard then due time. The sweeper's safety net, read page by page.
   */
  listDue(now: Date, query?: DueQuery): Promise<Page<DuePurchase>>;
  /**
   * A site's calendar: its purchases' timed changes with `from <= at < to`, soonest first (then by purchase
   * and type), optionally of one type. A page may hold fewer than `limit` items while `nextCursor` is not
   * null (a page walks a bounded number of days); the cursor is valid only for this site, window and type.
   */
  listUpcoming(
    siteId: string,
    query: UpcomingQuery,
    limit: number,
    cursor: string | null,
  ): Promise<Page<UpcomingChange>>;
}
