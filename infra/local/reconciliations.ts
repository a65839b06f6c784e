import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createReconciliationWorkerHandler } from '../../functions/reconciliation-worker/app.ts';
import type { ProcessorThrottle } from '../../shared/adapters/processor-throttle.ts';
import type { Clock } from '../../shared/domain/time.ts';
import { createDynamoReconciliationStore } from '../../shared/store/index.ts';
import type { Dependencies } from '../../shared/usecases/deps.ts';
import type { ReconciliationDeps } from '../../shared/usecases/reconciliations.ts';
import { type LocalPageQueue, startLocalPageQueue } from './bulk-jobs.ts';

export interface LocalReconciliationsOptions {
  db: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  deps: Dependencies;
  /** The worker's pacing: the same limits as on AWS (shared/wiring.ts `reconciliationThrottle`). */
  throttle: ProcessorThrottle;
  visibilityTimeoutMs?: number;
}

export type LocalReconciliations = LocalPageQueue<ReconciliationDeps>;

/**
 * Reconciliations on the local runtime, shaped like the stack's (a page queue persisted in DynamoDB Local for
 * SQS, the worker handler the Lambda runs), reading the local Stripe and PayPal sandboxes.
 */
export function startLocalReconciliations(options: LocalReconciliationsOptions): LocalReconciliations {
  const { db, tableName } = options;
  return startLocalPageQueue<ReconciliationDeps>({
    db,
    tableName,
    clock: options.clock,
    name: 'reconciliations',
    visibilityTimeoutMs: options.visibilityTimeoutMs,
    withQueue: (reconciliationQueue) => ({
      ...options.deps,
      reconciliations: createDynamoReconciliationStore(db, tableName),
      reconciliationQueue,
      throttle: options.throttle,
    }),
    worker: createReconciliationWorkerHandler,
  });
}
