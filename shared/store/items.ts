import { isRecurring } from '../domain/billing.ts';
import type { BulkJob, JobMarker, JobPage } from '../domain/bulk-jobs.ts';
import { type RecordedEntry, toEvent } from '../domain/events.ts';
import { IDEMPOTENCY_RETENTION_DAYS, type IdempotencyRecord } from '../domain/idempotency.ts';
import type { Purchase } from '../domain/types.ts';
import {
  isStatusUpcomingType,
  isSwept,
  possibleUpcomingTypes,
  statusUpcomingChange,
  type UpcomingChange,
  type UpcomingType,
  upcomingChanges,
} from '../domain/upcoming.ts';
import type { ProcessorEventRecord } from '../ports/processor-events.ts';
import { keys } from './keys.ts';
import type { Item, TransactItem } from './table.ts';

/**
 * How each record is laid out as a table item (keys.ts has the key design). Purchases carry the index keys
 * of the lists they appear in: by offer and by status (recurring only), and the calendar's and the due
 * index's keys of the one timed change their status implies (`statusUpcomingChange`: a renewal, an
 * installment, a cancellation taking effect or a pause ending), with that change in `upcomingChange` (what
 * the calendar index projects). An access period ending, which can come alongside any of those, is an item
 * of its own (`upcomingEntry`) with the same keys.
 */
export const items = {
  purchase(purchase: Purchase): Item {
    const change = statusUpcomingChange(purchase);
    return {
      ...keys.purchase(purchase.siteId, purchase.purchaseId),
      entity: 'purchase',
      ...keys.byOffer(purchase.siteId, purchase.offerId, purchase.createdAt, purchase.purchaseId),
      ...(isRecurring(purchase)
        ? keys.byStatus(purchase.siteId, purchase.status, purchase.createdAt, purchase.purchaseId)
        : {}),
      ...(change ? upcomingIndexKeys(purchase.siteId, change) : {}),
      // What the calendar index projects of this item (schema.ts): the line it shows, not the whole purchase.
      ...(change ? { upcomingChange: calendarLine(change) } : {}),
      ...purchase,
    };
  },

  /**
   * A timed change of a purchase that its status does not imply (an access period ending): in the site's
   * calendar (gsi5) and the sweeper's due index (gsi3). Small (~300 bytes): one write unit.
   */
  upcomingEntry(siteId: string, change: UpcomingChange): Item {
    return {
      ...keys.upcomingEntry(siteId, change.purchaseId, change.type),
      entity: 'upcoming',
      ...upcomingIndexKeys(siteId, change),
      siteId,
      ...change,
    };
  },

  /** The customer's copy, which lets an access check be one Query of the customer's partition. */
  customerCopy(purchase: Purchase): Item {
    return {
      ...keys.customerPurchase(purchase.siteId, purchase.customerId, purchase.purchaseId),
      entity: 'customerPurchase',
      ...purchase,
    };
  },

  processorLink(purchase: Purchase, subscriptionId: string): Item {
    return {
      ...keys.processorLink(purchase.processor, subscriptionId),
      entity: 'processorLink',
      siteId: purchase.siteId,
      purchaseId: purchase.purchaseId,
      customerId: purchase.customerId,
    };
  },

  processorEvent(event: ProcessorEventRecord): Item {
    return {
      ...keys.processorEvent(event.processor, event.eventId),
      entity: 'processorEvent',
      ...event,
      // Processors redeliver for days, not months: the record may expire after 90 days (table TTL).
      ttl: Math.floor(Date.parse(event.receivedAt) / 1000) + 90 * 86_400,
    };
  },

  bulkJob(job: BulkJob): Item {
    return { ...keys.bulkJob(job.siteId, job.jobId), entity: 'bulkJob', ...job };
  },

  jobPage(page: JobPage): Item {
    return { ...keys.jobPage(page.siteId, page.jobId, page.page), entity: 'jobPage', ...page };
  },

  jobMarker(marker: JobMarker): Item {
    return { ...keys.jobMarker(marker.siteId, marker.jobId, marker.purchaseId), entity: 'jobMarker', ...marker };
  },

  idempotency(record: IdempotencyRecord): Item {
    return {
      ...keys.idempotency(record.siteId, record.purchaseId, record.scope, record.key),
      entity: 'idempotency',
      ...record,
      ttl: Math.floor(Date.parse(record.createdAt) / 1000) + IDEMPOTENCY_RETENTION_DAYS * 86_400,
    };
  },
};

/**
 * Puts of the history entries of one change, each also its domain event (the outbox item the stream
 * publisher picks up: entity `history`, envelope in `event`). A history entry is written once.
 */
export function historyPuts(tableName: string, purchase: Purchase, entries: RecordedEntry[]): TransactItem[] {
  return entries.map((entry, index) => ({
    Put: {
      TableName: tableName,
      Item: {
        ...keys.history(purchase.siteId, purchase.purchaseId, purchase.version, index),
        ...keys.bySiteEvents(purchase.siteId, entry.at, purchase.purchaseId, entry.sequence),
        entity: 'history',
        ...entry,
        event: toEvent(purchase, entry),
      },
      // A clash means the version was reused, which must not happen.
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  }));
}

/** A timed change's keys in the calendar (gsi5) and, for the three actions a timer applies, the due index (gsi3). */
function upcomingIndexKeys(siteId: string, change: UpcomingChange): Item {
  return {
    ...keys.byUpcoming(siteId, change.at, change.purchaseId, change.type),
    ...(isSwept(change.type) ? keys.byDue(change.at, siteId, change.purchaseId, change.type) : {}),
  };
}

/**
 * The calendar entries of their own of a purchase's new state (the status's change rides on the purchase
 * item), for its transaction: a put for each such change it has ahead that differs from `before`, a delete
 * for each type it had (or, `before` unknown, could have) but no longer has (deleting an absent item is a
 * no-op). At most one item today, none conditional, so they never change why a transaction is refused, and
 * they go last so the other items keep their positions.
 */
export function upcomingWrites(tableName: string, purchase: Purchase, before?: Purchase | null): TransactItem[] {
  const ownEntries = (of: Purchase) => upcomingChanges(of).filter((change) => !isStatusUpcomingType(change.type));
  const ahead = ownEntries(purchase);
  const present = new Set<UpcomingType>(ahead.map((change) => change.type));
  // `before` (null: a new purchase) is what the stored entries say now: write only what differs.
  const stored =
    before === undefined
      ? null
      : new Map((before ? ownEntries(before) : []).map((change) => [change.type, JSON.stringify(change)]));
  const puts: TransactItem[] = ahead
    .filter((change) => stored?.get(change.type) !== JSON.stringify(change))
    .map((change) => ({
      Put: { TableName: tableName, Item: items.upcomingEntry(purchase.siteId, change) },
    }));
  const candidates = stored ? [...stored.keys()] : possibleUpcomingTypes(purchase);
  const deletes: TransactItem[] = candidates
    .filter((type) => !present.has(type))
    .map((type) => ({
      Delete: { TableName: tableName, Key: keys.upcomingEntry(purchase.siteId, purchase.purchaseId, type) },
    }));
  return [...puts, ...deletes];
}

/** A change without what its item already says (purchase, customer, offer), as a purchase item carries it. */
function calendarLine(change: UpcomingChange): Item {
  const { purchaseId: _purchase, customerId: _customer, offerId: _offer, ...line } = change;
  return line;
}

/**
 * The calendar's shape of an item found in the calendar index (only its projected attributes): a purchase
 * item holds the change its status implies in `upcomingChange`; an entry of its own holds its change.
 */
export function upcomingOf(item: Item): UpcomingChange {
  if (typeof item.upcomingChange === 'object' && item.upcomingChange !== null) {
    const { upcomingChange, ...rest } = item;
    return upcomingOf({ ...rest, ...(upcomingChange as Item) });
  }
  const change: UpcomingChange = {
    at: String(item.at),
    type: item.type as UpcomingType,
    purchaseId: String(item.purchaseId),
    customerId: String(item.customerId),
    offerId: String(item.offerId),
    productIds: (item.productIds as string[] | undefined) ?? [],
  };
  if (typeof item.amount === 'number') change.amount = item.amount;
  if (typeof item.currency === 'string') change.currency = item.currency;
  return change;
}

/** A put of a processor event that fails when the event was seen: the dedup record of a delivery. */
export function processorEventPut(tableName: string, event: ProcessorEventRecord): TransactItem {
  return {
    Put: { TableName: tableName, Item: items.processorEvent(event), ConditionExpression: 'attribute_not_exists(pk)' },
  };
}

/** A put of a bulk job's marker for one purchase that fails when the job already decided that purchase. */
export function jobMarkerPut(tableName: string, marker: JobMarker): TransactItem {
  return {
    Put: { TableName: tableName, Item: items.jobMarker(marker), ConditionExpression: 'attribute_not_exists(pk)' },
  };
}
