import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Stores } from '../ports/stores.ts';
import { DynamoBulkJobStore } from './bulk-jobs.ts';
import { DynamoCatalogStore } from './catalog.ts';
import { DynamoIdempotencyStore } from './idempotency.ts';
import { DynamoProcessorEventStore } from './processor-events.ts';
import { DynamoPurchaseStore } from './purchases.ts';
import { DynamoReconciliationStore } from './reconciliations.ts';
import { Table } from './table.ts';
import { DynamoWebhookStore } from './webhook-endpoints.ts';

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

/**
 * Integrator webhook endpoints and their delivery jobs, on the same table. Apart from `Stores`: only the
 * webhook functions (endpoints API, fan-out, delivery) use it.
 */
export function createDynamoWebhookStore(db: DynamoDBDocumentClient, tableName: string): DynamoWebhookStore {
  return new DynamoWebhookStore(new Table(db, tableName));
}

/** Bulk revocation jobs, on the same table; only the bulk functions (API and worker) use it. */
export function createDynamoBulkJobStore(db: DynamoDBDocumentClient, tableName: string): DynamoBulkJobStore {
  return new DynamoBulkJobStore(new Table(db, tableName));
}

/** Reconciliation jobs, on the same table; only the reconciliation functions (API and worker) use it. */
export function createDynamoReconciliationStore(
  db: DynamoDBDocumentClient,
  tableName: string,
): DynamoReconciliationStore {
  return new DynamoReconciliationStore(new Table(db, tableName));
}
