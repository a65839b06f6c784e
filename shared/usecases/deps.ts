import type { Clock } from '../domain/time.ts';
import type { CatalogStore } from '../ports/catalog.ts';
import type { IdempotencyStore } from '../ports/idempotency.ts';
import type { ProcessorEventStore } from '../ports/processor-events.ts';
import type { ProcessorRegistry } from '../ports/processor.ts';
import type { PurchaseStore } from '../ports/purchases.ts';
import type { TimerScheduler } from '../ports/scheduler.ts';

/** The stores use cases read and write through: DynamoDB on AWS and locally, in memory in unit tests. */
export interface Stores {
  catalog: CatalogStore;
  purchases: PurchaseStore;
  processorEvents: ProcessorEventStore;
  idempotency: IdempotencyStore;
}

/** What use cases receive: the stores, the ports and the clock. Wired in shared/wiring.ts (AWS) and infra/local. */
export interface Dependencies extends Stores {
  clock: Clock;
  newId: (prefix: string) => string;
  scheduler: TimerScheduler;
  processors: ProcessorRegistry;
}
