import { isRecurring, nextDueAt } from '../domain/billing.ts';
import type { BulkJob, JobMarker, JobPage } from '../domain/bulk-jobs.ts';
import { type RecordedEntry, toEvent } from '../domain/events.ts';
import { IDEMPOTENCY_RETENTION_DAYS, type IdempotencyRecord } from '../domain/idempotency.ts';
import type { Purchase } from '../domain/types.ts';
import type { ProcessorEventRecord } from '../ports/processor-events.ts';
import { keys } from './keys.ts';
import type { Item, TransactItem } from './table.ts';

/**
 * How each record is laid out as a table item (keys.ts has the key design). Purchases carry the index keys
 * of the lists they appear in: by offer, by status (recurring only) and by due time (when a timer is due).
 */
export const items = {
  purchase(purchase: Purchase): Item {
    const dueAt = nextDueAt(purchase);
    return {
      ...keys.purchase(purchase.siteId, purchase.purchaseId),
      entity: 'purchase',
      ...keys.byOffer(purchase.siteId, purchase.offerId, purchase.createdAt, purchase.purchaseId),
      ...(isRecurring(purchase)
        ? keys.byStatus(purchase.siteId, purchase.status, purchase.createdAt, purchase.purchaseId)
        : {}),
      ...(dueAt ? keys.byDue(dueAt, purchase.siteId, purchase.purchaseId) : {}),
      ...purchase,
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
