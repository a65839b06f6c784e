import type { CatalogStore } from './catalog.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { ProcessorEventStore } from './processor-events.ts';
import type { PurchaseStore } from './purchases.ts';

/**
 * The stores use cases read and write through: DynamoDB on AWS and locally (shared/store/index.ts), in memory
 * in unit tests (test/support/memory-store.ts), both held to one contract suite (test/contract/).
 */
export interface Stores {
  catalog: CatalogStore;
  purchases: PurchaseStore;
  processorEvents: ProcessorEventStore;
  idempotency: IdempotencyStore;
}
