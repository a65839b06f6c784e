import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Customer, Instant, Offer, Product, SiteSettings } from '../domain/types.ts';
import { type CatalogStore, DEFAULT_SETTINGS } from '../ports/catalog.ts';
import { keys } from './keys.ts';
import { type Item, strip, type Table } from './table.ts';

type Key = { pk: string; sk: string };

/** Just past every offer key of a site's partition (`OFFER#…`): `$` is the character after `#`. */
const OFFERS_END = 'OFFER$';

/**
 * DynamoDB implementation of CatalogStore. Each write is one UpdateItem of only the fields it is given (never
 * read-merge-put), so concurrent partial writes both land; archiving is conditioned on not being archived.
 */
export class DynamoCatalogStore implements CatalogStore {
  constructor(private readonly table: Table) {}

  async getSettings(siteId: string): Promise<SiteSettings> {
    return settingsOf(siteId, await this.table.get(keys.settings(siteId)));
  }

  async updateSettings(siteId: string, patch: Partial<Omit<SiteSettings, 'siteId'>>): Promise<SiteSettings> {
    const fields = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    return settingsOf(siteId, await this.update(keys.settings(siteId), 'settings', { siteId, ...fields }));
  }

  async getProduct(siteId: string, productId: string): Promise<Product | null> {
    return withArchivedAt(strip<Product>(await this.table.get(keys.product(siteId, productId))));
  }

  /** Products by id; catalogs per offer are small, so one consistent read each, in parallel. */
  async getProducts(siteId: string, productIds: string[]): Promise<Map<string, Product>> {
    const found = await Promise.all(productIds.map((id) => this.getProduct(siteId, id)));
    return new Map(found.filter((p): p is Product => p !== null).map((p) => [p.productId, p]));
  }

  async upsertProduct(product: Omit<Product, 'archivedAt'>): Promise<Product> {
    const item = await this.update(keys.product(product.siteId, product.productId), 'product', product, ['archivedAt']);
    return withArchivedAt(strip<Product>(item))!;
  }

  archiveProduct(siteId: string, productId: string, at: Instant): Promise<Product | null> {
    return this.archive<Product>(keys.product(siteId, productId), at);
  }

  async getOffer(siteId: string, offerId: string): Promise<Offer | null> {
    return withArchivedAt(strip<Offer>(await this.table.get(keys.offer(siteId, offerId))));
  }

  async upsertOffer(offer: Omit<Offer, 'archivedAt'>): Promise<Offer> {
    const item = await this.update(keys.offer(offer.siteId, offer.offerId), 'offer', offer, ['archivedAt']);
    return withArchivedAt(strip<Offer>(item))!;
  }

  archiveOffer(siteId: string, offerId: string, at: Instant): Promise<Offer | null> {
    return this.archive<Offer>(keys.offer(siteId, offerId), at);
  }

  /**
   * One Query of the site's partition between `OFFER#<after>` and `OFFER$` (`$` follows `#`, so the range holds
   * offers only, never products or settings); BETWEEN is inclusive, so `after` itself is read and dropped.
   * Strongly consistent, like every read of the base table here.
   */
  async listOffers(siteId: string, after: string | null, limit: number): Promise<Offer[]> {
    if (limit < 1) return [];
    const from = keys.offer(siteId, after ?? '').sk;
    const offers: Offer[] = [];
    let startKey: Item | undefined;
    do {
      const result = await this.table.db.send(
        new QueryCommand({
          TableName: this.table.name,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': keys.site(siteId), ':from': from, ':to': OFFERS_END },
          ConsistentRead: true,
          // One more than asked for when `after` is given: it is in the range and is dropped.
          Limit: limit - offers.length + (after === null ? 0 : 1),
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? []) {
        const offer = withArchivedAt(strip<Offer>(item))!;
        if (offer.offerId !== after) offers.push(offer);
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey && offers.length < limit);
    return offers.slice(0, limit);
  }

  async getCustomer(siteId: string, customerId: string): Promise<Customer | null> {
    return strip<Customer>(await this.table.get(keys.customer(siteId, customerId)));
  }

  async upsertCustomer(customer: Customer): Promise<Customer> {
    const item = await this.update(keys.customer(customer.siteId, customer.customerId), 'customer', customer);
    return strip<Customer>(item)!;
  }

  async createCustomerIfMissing(customer: Customer): Promise<void> {
    try {
      await this.table.db.send(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...keys.customer(customer.siteId, customer.customerId), entity: 'customer', ...customer },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** SET the given fields (and REMOVE `remove`) in one UpdateItem; the item after the change. */
  private async update(key: Key, entity: string, fields: object, remove: string[] = []): Promise<Item> {
    const names: Record<string, string> = {};
    const values: Item = {};
    const assignments = Object.entries({ ...fields, entity }).map(([name, value], i) => {
      names[`#f${i}`] = name;
      values[`:v${i}`] = value;
      return `#f${i} = :v${i}`;
    });
    const removals = remove.map((name, i) => {
      names[`#r${i}`] = name;
      return `#r${i}`;
    });
    const result = await this.table.db.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: key,
        UpdateExpression: `SET ${assignments.join(', ')}${removals.length ? ` REMOVE ${removals.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return result.Attributes ?? {};
  }

  /**
   * Sets `archivedAt` only if the item exists and is not archived yet (a record written before archives were
   * removed may hold `archivedAt: null`); a second archive returns the item with its first archive time.
   */
  private async archive<T extends { archivedAt: Instant | null }>(key: Key, at: Instant): Promise<T | null> {
    try {
      const result = await this.table.db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: key,
          UpdateExpression: 'SET archivedAt = :at, updatedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(archivedAt) OR archivedAt = :null)',
          ExpressionAttributeValues: { ':at': at, ':null': null },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<T>(result.Attributes);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return withArchivedAt(strip<T>(await this.table.get(key)));
    }
  }
}

function settingsOf(siteId: string, item: Item | undefined): SiteSettings {
  return { siteId, ...DEFAULT_SETTINGS, ...strip<Partial<SiteSettings>>(item) };
}

/** A live product or offer has no `archivedAt` attribute; the domain shows it as null. */
function withArchivedAt<T extends { archivedAt: Instant | null }>(record: T | null): T | null {
  return record ? { ...record, archivedAt: record.archivedAt ?? null } : null;
}
