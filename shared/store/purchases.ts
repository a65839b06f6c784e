import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  ConcurrentModificationError,
  ConflictError,
  DuplicateProcessorEventError,
  JobMarkerExistsError,
} from '../domain/errors.ts';
import { type DomainEvent, sequenceChange } from '../domain/events.ts';
import type { Customer, HistoryEntry, Purchase, PurchaseChange } from '../domain/types.ts';
import type { UpcomingChange } from '../domain/upcoming.ts';
import type { ProcessorEventRecord } from '../ports/processor-events.ts';
import type {
  DuePurchase,
  DueQuery,
  EventFilter,
  Page,
  PurchaseStore,
  SaveOptions,
  SubscriptionFilter,
  UpcomingQuery,
} from '../ports/purchases.ts';
import { historyPuts, items, jobMarkerPut, processorEventPut, upcomingWrites } from './items.ts';
import { keys } from './keys.ts';
import { queryPage } from './pagination.ts';
import { TABLE_SCHEMA } from './schema.ts';
import { cancellationReasons, type Item, strip, type Table, type TransactItem } from './table.ts';
import { listDue, listUpcoming } from './upcoming.ts';

/**
 * DynamoDB implementation of PurchaseStore. Every change is one transaction: the purchase (conditioned on its
 * version and from-statuses), the customer's access copy, the history entries and, when given, the processor
 * event and the completed idempotency key, so an update is never lost and history never lies; and, last, the
 * purchase's timed-change entries (calendar and due index, items.ts `upcomingWrites`).
 */
export class DynamoPurchaseStore implements PurchaseStore {
  constructor(private readonly table: Table) {}

  async getPurchase(siteId: string, purchaseId: string): Promise<Purchase | null> {
    return strip<Purchase>(await this.table.get(keys.purchase(siteId, purchaseId)));
  }

  async createPurchase(change: PurchaseChange, processorEvent?: ProcessorEventRecord): Promise<void> {
    const { purchase, entries } = sequenceChange(change);
    const TableName = this.table.name;
    const transaction: TransactItem[] = [
      { Put: { TableName, Item: items.purchase(purchase), ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName, Item: items.customerCopy(purchase) } },
      ...historyPuts(TableName, purchase, entries),
    ];
    const subscriptionId = purchase.processorSubscriptionId;
    const linkIndex = subscriptionId
      ? transaction.push({
          Put: {
            TableName,
            Item: items.processorLink(purchase, subscriptionId),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        }) - 1
      : -1;
    const eventIndex = processorEvent ? transaction.push(processorEventPut(TableName, processorEvent)) - 1 : -1;
    transaction.push(...upcomingWrites(TableName, purchase, null));
    try {
      await this.table.db.send(new TransactWriteCommand({ TransactItems: transaction }));
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (processorEvent && reasons?.[eventIndex] === 'ConditionalCheckFailed') {
        throw new DuplicateProcessorEventError(processorEvent.eventId);
      }
      // A processor subscription's purchase id is derived from it: linking it twice fails both conditions.
      if (reasons?.[linkIndex] === 'ConditionalCheckFailed') {
        throw new ConflictError(
          `${purchase.processor} subscription ${subscriptionId} already belongs to another purchase`,
          [{ field: 'processorSubscriptionId', message: 'already linked to another purchase' }],
        );
      }
      if (reasons?.[0] === 'ConditionalCheckFailed') {
        throw new ConflictError(`purchase ${purchase.purchaseId} already exists`);
      }
      // Another transaction was writing one of these items at the same moment (real DynamoDB; Local runs
      // transactions one at a time): the caller re-reads and decides again, as after a version conflict.
      if (reasons?.includes('TransactionConflict'))
        throw new ConcurrentModificationError(`purchase ${purchase.purchaseId}`);
      throw error;
    }
  }

  async savePurchase(change: PurchaseChange, expectedVersion: number, options: SaveOptions = {}): Promise<void> {
    const { purchase, entries } = sequenceChange(change);
    const { allowedFrom, processorEvent, idempotency, jobMarker } = options;
    const TableName = this.table.name;
    const values: Item = { ':expected': expectedVersion };
    const names: Record<string, string> = { '#version': 'version' };
    let condition = '#version = :expected';
    if (allowedFrom && allowedFrom.length > 0) {
      const placeholders = allowedFrom.map((status, i) => {
        values[`:from${i}`] = status;
        return `:from${i}`;
      });
      names['#status'] = 'status';
      condition += ` AND #status IN (${placeholders.join(', ')})`;
    }
    const transaction: TransactItem[] = [
      {
        Put: {
          TableName,
          Item: items.purchase(purchase),
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ExpressionAttributeNames: names,
        },
      },
      { Put: { TableName, Item: items.customerCopy(purchase) } },
      ...historyPuts(TableName, purchase, entries),
    ];
    const eventIndex = processorEvent ? transaction.push(processorEventPut(TableName, processorEvent)) - 1 : -1;
    if (idempotency) {
      transaction.push({
        Put: {
          TableName,
          Item: items.idempotency({ ...idempotency, status: 'completed' }),
          // Completes only the claim this request saw: a concurrent request that completed first wins.
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :pending AND fingerprint = :fingerprint)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':fingerprint': idempotency.fingerprint },
        },
      });
    }
    const markerIndex = jobMarker ? transaction.push(jobMarkerPut(TableName, jobMarker)) - 1 : -1;
    transaction.push(...upcomingWrites(TableName, purchase, options.before));
    try {
      await this.table.db.send(new TransactWriteCommand({ TransactItems: transaction }));
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (processorEvent && reasons?.[eventIndex] === 'ConditionalCheckFailed') {
        throw new DuplicateProcessorEventError(processorEvent.eventId);
      }
      if (jobMarker && reasons?.[markerIndex] === 'ConditionalCheckFailed') {
        throw new JobMarkerExistsError(jobMarker.jobId, jobMarker.purchaseId);
      }
      if (reasons?.includes('ConditionalCheckFailed') || reasons?.includes('TransactionConflict')) {
        throw new ConcurrentModificationError(`purchase ${purchase.purchaseId}`);
      }
      throw error;
    }
  }

  async listHistory(siteId: string, purchaseId: string): Promise<HistoryEntry[]> {
    const found = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.purchasePartition(siteId, purchaseId), ':prefix': keys.historyPrefix },
      ConsistentRead: true,
    });
    return found.map(historyEntryOf);
  }

  /** A site's events oldest first, or one purchase's in sequence order; optionally of one type. */
  listEvents(siteId: string, filter: EventFilter, limit: number, cursor: string | null): Promise<Page<DomainEvent>> {
    const values: Item = filter.purchaseId
      ? { ':pk': keys.purchasePartition(siteId, filter.purchaseId), ':prefix': keys.historyPrefix }
      : { ':pk': keys.siteEventsPartition(siteId) };
    if (filter.type) values[':type'] = filter.type;
    return queryPage<Item>(
      this.table,
      {
        ...(filter.purchaseId
          ? { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ConsistentRead: true }
          : { IndexName: TABLE_SCHEMA.siteEvents.indexName, KeyConditionExpression: 'gsi4pk = :pk' }),
        ExpressionAttributeValues: values,
        ...(filter.type ? { FilterExpression: '#type = :type', ExpressionAttributeNames: { '#type': 'type' } } : {}),
      },
      limit,
      cursor,
    ).then((page) => ({ items: page.items.map((item) => item.event as DomainEvent), nextCursor: page.nextCursor }));
  }

  async findByProcessorSubscription(
    processor: string,
    subscriptionId: string,
  ): Promise<{ siteId: string; purchaseId: string } | null> {
    const link = await this.table.get(keys.processorLink(processor, subscriptionId));
    return link ? { siteId: String(link.siteId), purchaseId: String(link.purchaseId) } : null;
  }

  async getCustomerPurchases(siteId: string, customerId: string): Promise<Purchase[]> {
    const found = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': keys.customerPartition(siteId, customerId),
        ':prefix': keys.customerPurchasePrefix,
      },
      ConsistentRead: true,
    });
    return found.map((item) => strip<Purchase>(item)!);
  }

  async getCustomerWithPurchases(
    siteId: string,
    customerId: string,
  ): Promise<{ customer: Customer | null; purchases: Purchase[] }> {
    const found = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.customerPartition(siteId, customerId) },
      ConsistentRead: true,
    });
    let customer: Customer | null = null;
    const purchases: Purchase[] = [];
    for (const item of found) {
      if (item.sk === 'PROFILE') customer = strip<Customer>(item);
      else if (String(item.sk).startsWith(keys.customerPurchasePrefix)) purchases.push(strip<Purchase>(item)!);
    }
    return { customer, purchases };
  }

  listSubscriptions(
    siteId: string,
    filter: SubscriptionFilter,
    limit: number,
    cursor: string | null,
  ): Promise<Page<Purchase>> {
    const values: Item = { ':pk': keys.subscriptionsPartition(siteId) };
    let keyCondition = 'gsi2pk = :pk';
    if (filter.status) {
      keyCondition += ' AND begins_with(gsi2sk, :status)';
      values[':status'] = `${filter.status}#`;
    }
    return queryPage<Purchase>(
      this.table,
      {
        IndexName: TABLE_SCHEMA.byStatus.indexName,
        KeyConditionExpression: keyCondition,
        ExpressionAttributeValues: filter.offerId ? { ...values, ':offerId': filter.offerId } : values,
        ...(filter.offerId ? { FilterExpression: 'offerId = :offerId' } : {}),
      },
      limit,
      cursor,
    );
  }

  listPurchasesByOffer(siteId: string, offerId: string, limit: number, cursor: string | null): Promise<Page<Purchase>> {
    return queryPage<Purchase>(
      this.table,
      {
        IndexName: TABLE_SCHEMA.byOffer.indexName,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.offerPurchasesPartition(siteId, offerId) },
      },
      limit,
      cursor,
    );
  }

  listDue(now: Date, query?: DueQuery): Promise<Page<DuePurchase>> {
    return listDue(this.table, now, query);
  }

  listUpcoming(
    siteId: string,
    query: UpcomingQuery,
    limit: number,
    cursor: string | null,
  ): Promise<Page<UpcomingChange>> {
    return listUpcoming(this.table, siteId, query, limit, cursor);
  }
}

/** The audit-trail shape of a stored entry (its event fields are for the event log). */
function historyEntryOf(item: Item): HistoryEntry {
  const entry: HistoryEntry = {
    at: String(item.at),
    type: item.type as HistoryEntry['type'],
    actor: item.actor as HistoryEntry['actor'],
    details: (item.details ?? {}) as Record<string, unknown>,
  };
  if (typeof item.label === 'string') entry.label = item.label;
  return entry;
}
