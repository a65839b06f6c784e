import type { JobMarker } from '../domain/bulk-jobs.ts';
import type { DomainEvent } from '../domain/events.ts';
import type { IdempotencyRecord } from '../domain/idempotency.ts';
import type { Customer, HistoryEntry, Purchase, PurchaseChange, PurchaseStatus } from '../domain/types.ts';
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
  /** Purchases of every site whose earliest timed action is due at `now` (the sweeper's safety net). */
  listDue(now: Date, lookbackDays?: number, limit?: number): Promise<DuePurchase[]>;
}
