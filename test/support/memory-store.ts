import { isRecurring } from '../../shared/domain/billing.ts';
import type { JobMarker } from '../../shared/domain/bulk-jobs.ts';
import {
  ConcurrentModificationError,
  ConflictError,
  DuplicateProcessorEventError,
  JobMarkerExistsError,
} from '../../shared/domain/errors.ts';
import { type DomainEvent, type RecordedEntry, sequenceChange, toEvent } from '../../shared/domain/events.ts';
import type { IdempotencyRecord } from '../../shared/domain/idempotency.ts';
import type {
  Customer,
  HistoryEntry,
  Instant,
  Offer,
  Product,
  Purchase,
  PurchaseChange,
  SiteSettings,
} from '../../shared/domain/types.ts';
import { isSwept, type UpcomingChange, upcomingChanges, upcomingSortKey } from '../../shared/domain/upcoming.ts';
import { type CatalogStore, DEFAULT_SETTINGS } from '../../shared/ports/catalog.ts';
import type { IdempotencyStore } from '../../shared/ports/idempotency.ts';
import type { ProcessorEventRecord, ProcessorEventStore } from '../../shared/ports/processor-events.ts';
import {
  DUE_LOOKBACK_HOURS,
  type DuePurchase,
  type DueQuery,
  type EventFilter,
  type Page,
  type PurchaseStore,
  type SaveOptions,
  type SubscriptionFilter,
  type UpcomingQuery,
} from '../../shared/ports/purchases.ts';
import type { Stores } from '../../shared/ports/stores.ts';
import { keys } from '../../shared/store/keys.ts';
import { dueHours } from '../../shared/store/upcoming.ts';
import { compare, copy, page } from './memory-paging.ts';

/**
 * The in-memory twin of the DynamoDB stores (shared/store/), held to the same contract suite
 * (test/contract/stores.contract.ts), so use-case unit tests run fast without a fake that drifts.
 *
 * Atomicity: each write checks every condition first and only then applies every change, with no `await`
 * in between, so a write lands whole or not at all and concurrent calls interleave only between writes,
 * as DynamoDB transactions do. Everything goes in and comes out as a structured clone: a caller can never
 * change stored state by mutating an object it passed or received.
 */
export function createMemoryStores(): Stores {
  const tables = new Tables();
  const stores: Stores = {
    catalog: new MemoryCatalogStore(tables),
    purchases: new MemoryPurchaseStore(tables),
    processorEvents: new MemoryProcessorEventStore(tables),
    idempotency: new MemoryIdempotencyStore(tables),
  };
  markersOf.set(stores, tables.jobMarkers);
  return stores;
}

/** The bulk jobs' markers of a set of memory stores, shared with its job store (test/support/memory-bulk-jobs.ts). */
const markersOf = new WeakMap<Stores, Map<string, JobMarker>>();
export function memoryJobMarkers(stores: Stores): Map<string, JobMarker> {
  const markers = markersOf.get(stores);
  if (!markers) throw new Error('not memory stores');
  return markers;
}

/** The map key of a bulk job's marker for one purchase. */
export const jobMarkerKey = (marker: Pick<JobMarker, 'siteId' | 'jobId' | 'purchaseId'>) =>
  key(marker.siteId, marker.jobId, marker.purchaseId);

/** An unambiguous map key of several ids (no separator an id could contain). */
const key = (...parts: string[]) => JSON.stringify(parts);

/** A history entry is also its domain event (the outbox of DESIGN.md §5), numbered by `sequenceChange`. */
interface HistoryRow {
  version: number;
  index: number;
  entry: RecordedEntry;
  event: DomainEvent;
}

/** The state every store shares, one map per kind of item of the DynamoDB table (shared/store/keys.ts). */
class Tables {
  readonly settings = new Map<string, Partial<SiteSettings>>();
  readonly products = new Map<string, Product>();
  readonly offers = new Map<string, Offer>();
  readonly customers = new Map<string, Customer>();
  readonly purchases = new Map<string, Purchase>();
  /** The customer's copy of each purchase, by customer then purchase id. */
  readonly customerPurchases = new Map<string, Map<string, Purchase>>();
  readonly history = new Map<string, HistoryRow[]>();
  readonly links = new Map<string, { siteId: string; purchaseId: string }>();
  readonly events = new Map<string, ProcessorEventRecord>();
  readonly idempotency = new Map<string, IdempotencyRecord>();
  readonly jobMarkers = new Map<string, JobMarker>();
}

class MemoryCatalogStore implements CatalogStore {
  constructor(private readonly t: Tables) {}

  async getSettings(siteId: string): Promise<SiteSettings> {
    return { siteId, ...DEFAULT_SETTINGS, ...copy(this.t.settings.get(siteId)) };
  }

  async updateSettings(siteId: string, patch: Partial<Omit<SiteSettings, 'siteId'>>): Promise<SiteSettings> {
    const given = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    this.t.settings.set(siteId, { ...this.t.settings.get(siteId), ...copy(given) });
    return this.getSettings(siteId);
  }

  async getProduct(siteId: string, productId: string): Promise<Product | null> {
    return copy(this.t.products.get(key(siteId, productId)) ?? null);
  }

  async getProducts(siteId: string, productIds: string[]): Promise<Map<string, Product>> {
    const found = productIds.flatMap((id) => this.t.products.get(key(siteId, id)) ?? []);
    return new Map(found.map((product) => [product.productId, copy(product)]));
  }

  async upsertProduct(product: Omit<Product, 'archivedAt'>): Promise<Product> {
    return upsert(this.t.products, key(product.siteId, product.productId), product);
  }

  async archiveProduct(siteId: string, productId: string, at: Instant): Promise<Product | null> {
    return archive(this.t.products, key(siteId, productId), at);
  }

  async getOffer(siteId: string, offerId: string): Promise<Offer | null> {
    return copy(this.t.offers.get(key(siteId, offerId)) ?? null);
  }

  async upsertOffer(offer: Omit<Offer, 'archivedAt'>): Promise<Offer> {
    return upsert(this.t.offers, key(offer.siteId, offer.offerId), offer);
  }

  async archiveOffer(siteId: string, offerId: string, at: Instant): Promise<Offer | null> {
    return archive(this.t.offers, key(siteId, offerId), at);
  }

  async listOffers(siteId: string, after: string | null, limit: number): Promise<Offer[]> {
    return [...this.t.offers.values()]
      .filter((offer) => offer.siteId === siteId && (after === null || compare(offer.offerId, after) > 0))
      .sort((a, b) => compare(a.offerId, b.offerId))
      .slice(0, Math.max(limit, 0))
      .map((offer) => copy(offer));
  }

  async getCustomer(siteId: string, customerId: string): Promise<Customer | null> {
    return copy(this.t.customers.get(key(siteId, customerId)) ?? null);
  }

  async upsertCustomer(customer: Customer): Promise<Customer> {
    const id = key(customer.siteId, customer.customerId);
    this.t.customers.set(id, { ...this.t.customers.get(id), ...copy(customer) });
    return copy(this.t.customers.get(id)!);
  }

  async createCustomerIfMissing(customer: Customer): Promise<void> {
    const id = key(customer.siteId, customer.customerId);
    if (!this.t.customers.has(id)) this.t.customers.set(id, copy(customer));
  }
}

/** Sets the given fields (keeping others) and brings an archived record back, like DynamoDB's UpdateItem. */
function upsert<T extends { archivedAt: Instant | null }>(
  table: Map<string, T>,
  id: string,
  fields: Omit<T, 'archivedAt'>,
): T {
  const next = { ...table.get(id), ...copy(fields), archivedAt: null } as T;
  table.set(id, next);
  return copy(next);
}

/** Archives once: a second archive keeps the first time. Null when the record does not exist. */
function archive<T extends { archivedAt: Instant | null; updatedAt: Instant }>(
  table: Map<string, T>,
  id: string,
  at: Instant,
): T | null {
  const current = table.get(id);
  if (!current) return null;
  if (!current.archivedAt) table.set(id, { ...current, archivedAt: at, updatedAt: at });
  return copy(table.get(id)!);
}

class MemoryPurchaseStore implements PurchaseStore {
  constructor(private readonly t: Tables) {}

  async getPurchase(siteId: string, purchaseId: string): Promise<Purchase | null> {
    return copy(this.t.purchases.get(key(siteId, purchaseId)) ?? null);
  }

  async createPurchase(change: PurchaseChange, processorEvent?: ProcessorEventRecord): Promise<void> {
    const { purchase } = change;
    const subscriptionId = purchase.processorSubscriptionId;
    const link = subscriptionId ? key(purchase.processor, subscriptionId) : null;
    // Every condition first, in the order the DynamoDB adapter reports them.
    if (processorEvent && this.t.events.has(eventKey(processorEvent))) {
      throw new DuplicateProcessorEventError(processorEvent.eventId);
    }
    if (link && this.t.links.has(link)) {
      throw new ConflictError(
        `${purchase.processor} subscription ${subscriptionId} already belongs to another purchase`,
        [{ field: 'processorSubscriptionId', message: 'already linked to another purchase' }],
      );
    }
    if (this.t.purchases.has(key(purchase.siteId, purchase.purchaseId))) {
      throw new ConflictError(`purchase ${purchase.purchaseId} already exists`);
    }
    // Then every change.
    this.write(change);
    if (link) this.t.links.set(link, { siteId: purchase.siteId, purchaseId: purchase.purchaseId });
    if (processorEvent) this.t.events.set(eventKey(processorEvent), copy(processorEvent));
  }

  async savePurchase(change: PurchaseChange, expectedVersion: number, options: SaveOptions = {}): Promise<void> {
    const { purchase } = change;
    const { allowedFrom, processorEvent, idempotency, jobMarker } = options;
    if (processorEvent && this.t.events.has(eventKey(processorEvent))) {
      throw new DuplicateProcessorEventError(processorEvent.eventId);
    }
    if (jobMarker && this.t.jobMarkers.has(jobMarkerKey(jobMarker))) {
      throw new JobMarkerExistsError(jobMarker.jobId, jobMarker.purchaseId);
    }
    const current = this.t.purchases.get(key(purchase.siteId, purchase.purchaseId));
    const claimKey = idempotency && idempotencyKey(idempotency);
    const claim = claimKey ? this.t.idempotency.get(claimKey) : undefined;
    const refused =
      !current ||
      current.version !== expectedVersion ||
      (allowedFrom && allowedFrom.length > 0 && !allowedFrom.includes(current.status)) ||
      this.historyClashes(change) ||
      (claim && !(claim.status === 'pending' && claim.fingerprint === idempotency!.fingerprint));
    if (refused) throw new ConcurrentModificationError(`purchase ${purchase.purchaseId}`);
    this.write(change);
    if (processorEvent) this.t.events.set(eventKey(processorEvent), copy(processorEvent));
    if (claimKey) this.t.idempotency.set(claimKey, copy({ ...idempotency!, status: 'completed' }));
    if (jobMarker) this.t.jobMarkers.set(jobMarkerKey(jobMarker), copy(jobMarker));
  }

  async listHistory(siteId: string, purchaseId: string): Promise<HistoryEntry[]> {
    return this.historyOf(siteId, purchaseId).map(({ entry }) => {
      const { at, type, actor, details, label } = copy(entry);
      return label === undefined ? { at, type, actor, details } : { at, type, actor, details, label };
    });
  }

  /** Like the DynamoDB indexes: a purchase's events by version and index, a site's by `at#purchaseId#sequence`. */
  async listEvents(
    siteId: string,
    filter: EventFilter,
    limit: number,
    cursor: string | null,
  ): Promise<Page<DomainEvent>> {
    const purchaseIds = filter.purchaseId ? [filter.purchaseId] : this.ofSite(siteId).map((p) => p.purchaseId);
    const rows = purchaseIds
      .flatMap((purchaseId) => this.historyOf(siteId, purchaseId))
      .filter(({ event }) => !filter.type || event.type === filter.type)
      .map(({ version, index, event }) => ({
        sortKey: filter.purchaseId
          ? `${pad(version)}#${pad(index)}`
          : `${event.occurredAt}#${event.purchaseId}#${pad(event.sequence)}`,
        item: event,
      }));
    return page(rows, ['events', siteId, filter.purchaseId ?? null, filter.type ?? null], limit, cursor);
  }

  async findByProcessorSubscription(processor: string, subscriptionId: string) {
    return copy(this.t.links.get(key(processor, subscriptionId)) ?? null);
  }

  async getCustomerPurchases(siteId: string, customerId: string): Promise<Purchase[]> {
    const held = this.t.customerPurchases.get(key(siteId, customerId)) ?? new Map<string, Purchase>();
    return [...held.keys()].sort(compare).map((purchaseId) => copy(held.get(purchaseId)!));
  }

  async getCustomerWithPurchases(siteId: string, customerId: string) {
    const customer = copy(this.t.customers.get(key(siteId, customerId)) ?? null);
    return { customer, purchases: await this.getCustomerPurchases(siteId, customerId) };
  }

  /** Ordered like the by-status index: `status#createdAt#purchaseId`. */
  async listSubscriptions(
    siteId: string,
    filter: SubscriptionFilter,
    limit: number,
    cursor: string | null,
  ): Promise<Page<Purchase>> {
    const rows = this.ofSite(siteId)
      .filter((p) => isRecurring(p) && (!filter.status || p.status === filter.status))
      .filter((p) => !filter.offerId || p.offerId === filter.offerId)
      .map((p) => ({ sortKey: `${p.status}#${p.createdAt}#${p.purchaseId}`, item: p }));
    const list = ['subscriptions', siteId, filter.status ?? null, filter.offerId ?? null];
    return page(rows, list, limit, cursor);
  }

  /** Ordered like the by-offer index: `createdAt#purchaseId`. */
  async listPurchasesByOffer(
    siteId: string,
    offerId: string,
    limit: number,
    cursor: string | null,
  ): Promise<Page<Purchase>> {
    const rows = this.ofSite(siteId)
      .filter((p) => p.offerId === offerId)
      .map((p) => ({ sortKey: `${p.createdAt}#${p.purchaseId}`, item: p }));
    return page(rows, ['byOffer', siteId, offerId], limit, cursor);
  }

  /**
   * Like the due index: the three timed actions of each purchase (its calendar entries that a timer applies),
   * in the order the DynamoDB walk reads them: hour bucket oldest first, then shard, then `dueAt#site#purchase#type`,
   * up to `now` inclusive. The entries are derived from the stored state, which is what the DynamoDB store
   * writes them from in the same transaction.
   */
  async listDue(now: Date, query: DueQuery = {}): Promise<Page<DuePurchase>> {
    const lookbackHours = query.lookbackHours ?? DUE_LOOKBACK_HOURS;
    const hours = new Set(dueHours(now, lookbackHours));
    const upTo = `${now.toISOString()}#~`;
    const rows = [...this.t.purchases.values()].flatMap((p) =>
      upcomingChanges(p)
        .filter((change) => isSwept(change.type))
        .map((change) => {
          const sortKey = `${change.at}#${p.siteId}#${p.purchaseId}#${change.type}`;
          const shard = String(keys.dueShard(p.siteId, p.purchaseId)).padStart(2, '0');
          return {
            sortKey: `${change.at.slice(0, 13)}#${shard}#${sortKey}`,
            inRange: hours.has(change.at.slice(0, 13)) && sortKey <= upTo,
            item: { siteId: p.siteId, purchaseId: p.purchaseId, dueAt: change.at },
          };
        }),
    );
    const list = ['due', now.toISOString(), String(lookbackHours)];
    return page(
      rows.filter((row) => row.inRange),
      list,
      query.limit ?? 200,
      query.cursor ?? null,
    );
  }

  /** Like the calendar index: a site's entries with `from <= at < to`, by `at#purchaseId#type`. */
  async listUpcoming(
    siteId: string,
    query: UpcomingQuery,
    limit: number,
    cursor: string | null,
  ): Promise<Page<UpcomingChange>> {
    const rows = this.ofSite(siteId)
      .flatMap((p) => upcomingChanges(p))
      .filter((change) => change.at >= query.from && change.at < query.to)
      .filter((change) => !query.type || change.type === query.type)
      .map((change) => ({ sortKey: upcomingSortKey(change), item: change }));
    return page(rows, ['upcoming', siteId, query.from, query.to, query.type ?? null], limit, cursor);
  }

  private historyOf(siteId: string, purchaseId: string): HistoryRow[] {
    const rows = [...(this.t.history.get(key(siteId, purchaseId)) ?? [])];
    return rows.sort((a, b) => a.version - b.version || a.index - b.index);
  }

  private ofSite(siteId: string): Purchase[] {
    return [...this.t.purchases.values()].filter((p) => p.siteId === siteId);
  }

  /** A history entry is written once: a clash means the version was reused (DynamoDB refuses it too). */
  private historyClashes({ purchase, history }: PurchaseChange): boolean {
    const rows = this.t.history.get(key(purchase.siteId, purchase.purchaseId)) ?? [];
    return rows.some((row) => row.version === purchase.version && row.index < history.length);
  }

  /**
   * The purchase, the customer's copy and the history entries, each numbered as the purchase's next event:
   * what every purchase write puts.
   */
  private write(change: PurchaseChange): void {
    const { purchase, entries } = sequenceChange(change);
    const { siteId, purchaseId, customerId, version } = purchase;
    this.t.purchases.set(key(siteId, purchaseId), copy(purchase));
    const customerKey = key(siteId, customerId);
    const held = this.t.customerPurchases.get(customerKey) ?? new Map<string, Purchase>();
    this.t.customerPurchases.set(customerKey, held.set(purchaseId, copy(purchase)));
    const rows = this.t.history.get(key(siteId, purchaseId)) ?? [];
    rows.push(
      ...entries.map((entry, index) => ({ version, index, entry: copy(entry), event: copy(toEvent(purchase, entry)) })),
    );
    this.t.history.set(key(siteId, purchaseId), rows);
  }
}

class MemoryProcessorEventStore implements ProcessorEventStore {
  constructor(private readonly t: Tables) {}

  async hasProcessorEvent(processor: string, eventId: string): Promise<boolean> {
    return this.t.events.has(key(processor, eventId));
  }

  async recordProcessorEvent(event: ProcessorEventRecord): Promise<boolean> {
    if (this.t.events.has(eventKey(event))) return false;
    this.t.events.set(eventKey(event), copy(event));
    return true;
  }
}

class MemoryIdempotencyStore implements IdempotencyStore {
  constructor(private readonly t: Tables) {}

  async getIdempotencyRecord(siteId: string, purchaseId: string, scope: string, idempotencyKey: string) {
    return copy(this.t.idempotency.get(key(siteId, purchaseId, scope, idempotencyKey)) ?? null);
  }

  async claimIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord | null> {
    const earlier = this.t.idempotency.get(idempotencyKey(record));
    if (earlier) return copy(earlier);
    this.t.idempotency.set(idempotencyKey(record), copy(record));
    return null;
  }
}

const eventKey = (event: Pick<ProcessorEventRecord, 'processor' | 'eventId'>) => key(event.processor, event.eventId);
const idempotencyKey = (record: Pick<IdempotencyRecord, 'siteId' | 'purchaseId' | 'scope' | 'key'>) =>
  key(record.siteId, record.purchaseId, record.scope, record.key);

const pad = (n: number) => String(n).padStart(10, '0');
