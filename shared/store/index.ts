import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Stores } from '../ports/stores.ts';
import { DynamoCatalogStore } from './catalog.ts';
import { DynamoIdempotencyStore } from './idempotency.ts';
import { DynamoProcessorEventStore } from './processor-events.ts';
import { DynamoPurchaseStore } from './purchases.ts';
import { Table } from './table.ts';

/** The DynamoDB implementations of every store port, on one table (the single-table design of keys.ts). */
export function createDynamoStores(db: DynamoDBDocumentClient, tableName: string): Stores {
  const table = new Table(db, tableName);
  return {
    catalog: new DynamoCatalogStore(table),
    purchases: new DynamoPurchaseStore(table),
    processorEvents: new DynamoProcessorEventStore(table),
    idempotency: new DynamoIdempotencyStore(table),
  };
}
