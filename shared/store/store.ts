import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isRecurring, nextDueAt } from '../domain/billing.ts';
import { ConcurrentModificationError, ConflictError, InvalidInputError } from '../domain/errors.ts';
import { IDEMPOTENCY_RETENTION_DAYS, type IdempotencyRecord } from '../domain/idempotency.ts';
import type {
  Customer,
  HistoryEntry,
  Offer,
  Product,
  Purchase,
  PurchaseChange,
  PurchaseStatus,
  SiteSettings,
} from '../domain/types.ts';
import { keys } from './keys.ts';
import { TABLE_SCHEMA } from './schema.ts';

type Item = Record<string, unknown>;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'entity', 'ttl'];

function strip<T>(item: Item | undefined): T | null {
  if (!item) return null;
  const copy: Item = { ...item };
  for (const attribute of KEY_ATTRIBUTES) delete copy[attribute];
  return copy as T;
}

/** A processor event as recorded for deduplication. */
export interface ProcessorEventRecord {
  processor: string;
  eventId: string;
  type: string;
  siteId: string | null;
  purchaseId: string | null;
  receivedAt: string;
  outcome: string;
}

/** The processor event was already recorded: a redelivery. */
export class DuplicateProcessorEventError extends Error {
  constructor(readonly eventId: string) {
    super(`processor event ${eventId} was already processed`);
    this.name = 'DuplicateProcessorEventError';
  }
}

/** What may go with a purchase change in its transaction. */
export interface SaveOptions {
  /** The write applies only while the purchase's status is one of these (a transition's from-states). */
  allowedFrom?: readonly PurchaseStatus[] | undefined;
  /** The processor event that caused the change, recorded once (DuplicateProcessorEventError if seen). */
  processorEvent?: ProcessorEventRecord | undefined;
  /** The caller's Idempotency-Key, completed with the answer; only while still pending with this fingerprint. */
  idempotency?: IdempotencyRecord | undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_SETTINGS: Omit<SiteSettings, 'siteId'> = { selfCancelEnabled: false, timezone: 'UTC' };

/**
 * The only module that knows the table's keys. Reads of state that a decision depends on are strongly
 * consistent; every purchase change is one transaction: the purchase (conditioned on its version), the
 * customer's access copy, and the history entries, so an update is never lost and history never lies.
 */
export class Store {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  // ---- site, catalog, customers ----

  async getSettings(siteId: string): Promise<SiteSettings> {
    const item = await this.get(keys.settings(siteId));
    return { siteId, ...DEFAULT_SETTINGS, ...strip<Partial<SiteSettings>>(item) };
  }

  async putSettings(settings: SiteSettings): Promise<void> {
    await this.put({ ...keys.settings(settings.siteId), entity: 'settings', ...settings });
  }

  getProduct(siteId: string, productId: string): Promise<Product | null> {
    return this.get(keys.product(siteId, productId)).then((item) => strip<Product>(item));
  }

  async putProduct(product: Product): Promise<void> {
    await this.put({ ...keys.product(product.siteId, product.productId), entity: 'product', ...product });
  }

  getOffer(siteId: string, offerId: string): Promise<Offer | null> {
    return this.get(keys.offer(siteId, offerId)).then((item) => strip<Offer>(item));
  }

  async putOffer(offer: Offer): Promise<void> {
    await this.put({ ...keys.offer(offer.siteId, offer.offerId), entity: 'offer', ...offer });
  }

  /** Products by id in one round trip per 100 ids would need BatchGet; catalogs per offer are small. */
  async getProducts(siteId: string, productIds: string[]): Promise<Map<string, Product>> {
    const found = await Promise.all(productIds.map((id) => this.getProduct(siteId, id)));
    return new Map(found.filter((p): p is Product => p !== null).map((p) => [p.productId, p]));
  }

  getCustomer(siteId: string, customerId: string): Promise<Customer | null> {
    return this.get(keys.customer(siteId, customerId)).then((item) => strip<Customer>(item));
  }

  async putCustomer(customer: Customer): Promise<void> {
    await this.put({ ...keys.customer(customer.siteId, customer.customerId), entity: 'customer', ...customer });
  }

  /** Creates the customer unless it exists (a processor may report a purchase before the site sent the customer). */
  async createCustomerIfMissing(customer: Customer): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.customer(customer.siteId, customer.customerId), entity: 'customer', ...customer },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** The customer and every purchase they hold: one strongly consistent Query of their partition. */
  async getCustomerWithPurchases(
    siteId: string,
    customerId: string,
  ): Promise<{ customer: Customer | null; purchases: Purchase[] }> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.customerPartition(siteId, customerId) },
      ConsistentRead: true,
    });
    let customer: Customer | null = null;
    const purchases: Purchase[] = [];
    for (const item of items) {
      if (item.sk === 'PROFILE') customer = strip<Customer>(item);
      else if (String(item.sk).startsWith(keys.customerPurchasePrefix)) purchases.push(strip<Purchase>(item)!);
    }
    return { customer, purchases };
  }

  /** Only the customer's purchases (the access check's single read). */
  async getCustomerPurchases(siteId: string, customerId: string): Promise<Purchase[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': keys.customerPartition(siteId, customerId),
        ':prefix': keys.customerPurchasePrefix,
      },
      ConsistentRead: true,
    });
    return items.map((item) => strip<Purchase>(item)!);
  }

  // ---- purchases ----

  async getPurchase(siteId: string, purchaseId: string): Promise<Purchase | null> {
    return strip<Purchase>(await this.get(keys.purchase(siteId, purchaseId)));
  }

  /** The purchase a processor subscription belongs to (a webhook's way in). */
  async findByProcessorSubscription(
    processor: string,
    subscriptionId: string,
  ): Promise<{ siteId: string; purchaseId: string } | null> {
    const link = await this.get(keys.processorLink(processor, subscriptionId));
    return link ? { siteId: String(link.siteId), purchaseId: String(link.purchaseId) } : null;
  }

  async hasProcessorEvent(processor: string, eventId: string): Promise<boolean> {
    return (await this.get(keys.processorEvent(processor, eventId))) !== undefined;
  }

  /** Records a processor event that changed nothing, so a redelivery is recognised. False when seen before. */
  async recordProcessorEvent(event: ProcessorEventRecord): Promise<boolean> {
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: [this.eventItem(event)] }));
      return true;
    } catch (error) {
      if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  /**
   * Writes a new purchase. A processor subscription id may be linked to one purchase only (409 otherwise).
   * With `event`, the processor event is recorded in the same transaction (DuplicateProcessorEventError if seen).
   */
  async createPurchase(change: PurchaseChange, event?: ProcessorEventRecord): Promise<void> {
    const { purchase } = change;
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: this.purchaseItem(purchase),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      { Put: { TableName: this.tableName, Item: this.customerCopy(purchase) } },
      ...this.historyItems(purchase, change.history),
    ];
    if (purchase.processorSubscriptionId) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.processorLink(purchase.processor, purchase.processorSubscriptionId),
            entity: 'processorLink',
            siteId: purchase.siteId,
            purchaseId: purchase.purchaseId,
            customerId: purchase.customerId,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    if (event) items.push(this.eventItem(event));
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (event && reasons?.at(-1) === 'ConditionalCheckFailed') throw new DuplicateProcessorEventError(event.eventId);
      if (reasons?.[0] === 'ConditionalCheckFailed') {
        throw new ConflictError(`purchase ${purchase.purchaseId} already exists`);
      }
      if (reasons?.includes('ConditionalCheckFailed') && purchase.processorSubscriptionId) {
        throw new ConflictError(
          `${purchase.processor} subscription ${purchase.processorSubscriptionId} already belongs to another purchase`,
          [{ field: 'processorSubscriptionId', message: 'already linked to another purchase' }],
        );
      }
      throw error;
    }
  }

  /**
   * Writes a change to an existing purchase if nobody else changed it since `expectedVersion` was read and,
   * when given, its status is still one of `allowedFrom`; with it, in the same transaction, the processor
   * event and the completed idempotency record. Otherwise ConcurrentModificationError (the caller re-reads).
   */
  async savePurchase(change: PurchaseChange, expectedVersion: number, options: SaveOptions = {}): Promise<void> {
    const { purchase } = change;
    const { allowedFrom, processorEvent, idempotency } = options;
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
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: this.purchaseItem(purchase),
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ExpressionAttributeNames: names,
        },
      },
      { Put: { TableName: this.tableName, Item: this.customerCopy(purchase) } },
      ...this.historyItems(purchase, change.history),
    ];
    const eventIndex = processorEvent ? items.push(this.eventItem(processorEvent)) - 1 : -1;
    if (idempotency) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: this.idempotencyItem({ ...idempotency, status: 'completed' }),
          // Completes only the claim this request saw: a concurrent request that completed first wins.
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :pending AND fingerprint = :fingerprint)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':fingerprint': idempotency.fingerprint },
        },
      });
    }
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (processorEvent && reasons?.[eventIndex] === 'ConditionalCheckFailed') {
        throw new DuplicateProcessorEventError(processorEvent.eventId);
      }
      if (reasons?.includes('ConditionalCheckFailed') || reasons?.includes('TransactionConflict')) {
        throw new ConcurrentModificationError(`purchase ${purchase.purchaseId}`);
      }
      throw error;
    }
  }

  // ---- idempotency keys ----

  async getIdempotencyRecord(
    siteId: string,
    purchaseId: string,
    scope: string,
    key: string,
  ): Promise<IdempotencyRecord | null> {
    return strip<IdempotencyRecord>(await this.get(keys.idempotency(siteId, purchaseId, scope, key)));
  }

  /**
   * Claims a key as pending before anything is done. Returns null when this request claimed it, else the
   * record another request wrote first (pending or completed).
   */
  async claimIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord | null> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.idempotencyItem(record),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return null;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.getIdempotencyRecord(record.siteId, record.purchaseId, record.scope, record.key);
    }
  }

  async listHistory(siteId: string, purchaseId: string): Promise<HistoryEntry[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.purchasePartition(siteId, purchaseId), ':prefix': keys.historyPrefix },
      ConsistentRead: true,
    });
    return items.map((item) => strip<HistoryEntry>(item)!);
  }

  async listPurchasesByOffer(siteId: string, offerId: string, limit: number, cursor: string | null) {
    return this.queryPage<Purchase>(
      {
        TableName: this.tableName,
        IndexName: TABLE_SCHEMA.byOffer.indexName,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.offerPurchasesPartition(siteId, offerId) },
      },
      limit,
      cursor,
    );
  }

  /** Subscriptions and payment plans of a site, optionally of one status and/or one offer. */
  async listSubscriptions(
    siteId: string,
    filter: { status?: PurchaseStatus | undefined; offerId?: string | undefined },
    limit: number,
    cursor: string | null,
  ): Promise<Page<Purchase>> {
    const values: Item = { ':pk': keys.subscriptionsPartition(siteId) };
    let keyCondition = 'gsi2pk = :pk';
    if (filter.status) {
      keyCondition += ' AND begins_with(gsi2sk, :status)';
      values[':status'] = `${filter.status}#`;
    }
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: TABLE_SCHEMA.byStatus.indexName,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeValues: values,
    };
    if (filter.offerId) {
      input.FilterExpression = 'offerId = :offerId';
      values[':offerId'] = filter.offerId;
    }
    return this.queryPage<Purchase>(input, limit, cursor);
  }

  /**
   * Purchases whose earliest timed action is due at `now`, from the due index (one partition per UTC day,
   * `lookbackDays` back): the sweeper's way to find what a lost timer left undone.
   */
  async listDue(
    now: Date,
    lookbackDays = 7,
    limit = 500,
  ): Promise<{ siteId: string; purchaseId: string; dueAt: string }[]> {
    const result: { siteId: string; purchaseId: string; dueAt: string }[] = [];
    const nowInstant = now.toISOString();
    for (let daysBack = lookbackDays; daysBack >= 0 && result.length < limit; daysBack--) {
      const day = new Date(now.getTime() - daysBack * 86_400_000).toISOString().slice(0, 10);
      const items = await this.queryAll({
        TableName: this.tableName,
        IndexName: TABLE_SCHEMA.byDue.indexName,
        KeyConditionExpression: 'gsi3pk = :pk AND gsi3sk <= :now',
        ExpressionAttributeValues: { ':pk': keys.duePartition(day), ':now': `${nowInstant}#~` },
        ProjectionExpression: 'siteId, purchaseId, gsi3sk',
      });
      for (const item of items) {
        result.push({
          siteId: String(item.siteId),
          purchaseId: String(item.purchaseId),
          dueAt: String(item.gsi3sk).split('#')[0]!,
        });
      }
    }
    return result.slice(0, limit);
  }

  // ---- local scheduler (local runtime only) ----

  async putLocalSchedule(name: string, schedule: Item): Promise<void> {
    await this.put({ ...keys.localSchedule(name), entity: 'localSchedule', name, ...schedule });
  }

  async deleteLocalSchedule(name: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.localSchedule(name) }));
  }

  async listLocalSchedules(): Promise<Item[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.localSchedulePartition },
      ConsistentRead: true,
    });
    return items.map((item) => strip<Item>(item)!);
  }

  // ---- item shapes ----

  private purchaseItem(purchase: Purchase): Item {
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
  }

  private eventItem(event: ProcessorEventRecord): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...keys.processorEvent(event.processor, event.eventId),
          entity: 'processorEvent',
          ...event,
          // Processors redeliver for days, not months: the record may expire after 90 days (table TTL).
          ttl: Math.floor(Date.parse(event.receivedAt) / 1000) + 90 * 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  private idempotencyItem(record: IdempotencyRecord): Item {
    return {
      ...keys.idempotency(record.siteId, record.purchaseId, record.scope, record.key),
      entity: 'idempotency',
      ...record,
      ttl: Math.floor(Date.parse(record.createdAt) / 1000) + IDEMPOTENCY_RETENTION_DAYS * 86_400,
    };
  }

  private customerCopy(purchase: Purchase): Item {
    return {
      ...keys.customerPurchase(purchase.siteId, purchase.customerId, purchase.purchaseId),
      entity: 'customerPurchase',
      ...purchase,
    };
  }

  private historyItems(purchase: Purchase, history: HistoryEntry[]): TransactItem[] {
    return history.map((entry, index) => ({
      Put: {
        TableName: this.tableName,
        Item: {
          ...keys.history(purchase.siteId, purchase.purchaseId, purchase.version, index),
          entity: 'history',
          ...entry,
        },
        // A history entry is written once; a clash means the version was reused, which must not happen.
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }));
  }

  // ---- plumbing ----

  private async get(key: { pk: string; sk: string }): Promise<Item | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return result.Item;
  }

  private async put(item: Item): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  private async queryAll(input: QueryCommandInput): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const result = await this.db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * One page of at most `limit` items. With a FilterExpression DynamoDB may return fewer per call, so this
   * keeps reading until the page is full or the index is exhausted. The cursor is opaque to callers and
   * bound to this exact list (table or index, key condition, filter and their values): a cursor of another
   * site, list or filter, or a forged one, is refused as bad input before it reaches DynamoDB.
   */
  private async queryPage<T>(input: QueryCommandInput, limit: number, cursor: string | null): Promise<Page<T>> {
    const shape = listShape(input);
    let startKey = cursor === null ? undefined : decodeCursor(cursor, shape);
    const items: Item[] = [];
    do {
      const result = await this.db.send(
        new QueryCommand({ ...input, Limit: limit - items.length, ExclusiveStartKey: startKey }),
      );
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return {
      items: items.map((item) => strip<T>(item)!),
      nextCursor: startKey ? encodeCursor(startKey, shape) : null,
    };
  }
}

/** What a list's cursors must look like: the key attributes DynamoDB returns for it, and the list's identity. */
interface ListShape {
  keyAttributes: string[];
  partitionKey: string;
  sortKey: string;
  partitionValue: unknown;
  /** The sort key's `begins_with` prefix of the key condition, if any. */
  sortPrefix: string | null;
  /** A digest of everything that defines the list: a cursor carries it and must match. */
  binding: string;
}

function listShape(input: QueryCommandInput): ListShape {
  const index = [TABLE_SCHEMA.byOffer, TABLE_SCHEMA.byStatus, TABLE_SCHEMA.byDue].find(
    (candidate) => candidate.indexName === input.IndexName,
  );
  const tableKeys = [TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey];
  const values = input.ExpressionAttributeValues ?? {};
  const prefix = / AND begins_with\(\w+, (:\w+)\)/.exec(input.KeyConditionExpression ?? '')?.[1];
  const identity = JSON.stringify([
    input.TableName,
    input.IndexName ?? null,
    input.KeyConditionExpression,
    input.FilterExpression ?? null,
    Object.entries(values).sort(([a], [b]) => a.localeCompare(b)),
  ]);
  return {
    keyAttributes: index ? [...tableKeys, index.partitionKey, index.sortKey] : tableKeys,
    partitionKey: index?.partitionKey ?? TABLE_SCHEMA.partitionKey,
    sortKey: index?.sortKey ?? TABLE_SCHEMA.sortKey,
    partitionValue: values[':pk'],
    sortPrefix: prefix ? String(values[prefix]) : null,
    binding: createHash('sha256').update(identity).digest('base64url').slice(0, 22),
  };
}

function encodeCursor(key: Item, shape: ListShape): string {
  return Buffer.from(JSON.stringify({ list: shape.binding, key })).toString('base64url');
}

/**
 * Accepts only a cursor this list issued: the same list binding, exactly the key attributes of the table or
 * index, each a non-empty string, the partition being the list's own and the sort key within its prefix.
 */
function decodeCursor(cursor: string, shape: ListShape): Item {
  const refuse = (): never => {
    throw new InvalidInputError('cursor is not valid for this list', [
      { field: 'cursor', message: 'not a cursor returned by this list with these filters' },
    ]);
  };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return refuse();
  }
  if (typeof decoded !== 'object' || decoded === null) return refuse();
  const { list, key } = decoded as { list?: unknown; key?: unknown };
  if (list !== shape.binding || typeof key !== 'object' || key === null || Array.isArray(key)) return refuse();
  const attributes = Object.keys(key).sort();
  const values = key as Item;
  const wellFormed =
    attributes.length === shape.keyAttributes.length &&
    shape.keyAttributes.every((name) => typeof values[name] === 'string' && values[name] !== '') &&
    values[shape.partitionKey] === shape.partitionValue &&
    (shape.sortPrefix === null || String(values[shape.sortKey]).startsWith(shape.sortPrefix));
  return wellFormed ? values : refuse();
}

function cancellationReasons(error: unknown): string[] | null {
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
  }
  if (error instanceof ConditionalCheckFailedException) return ['ConditionalCheckFailed'];
  return null;
}
