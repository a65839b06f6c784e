import { parseJobMessage } from '#shared/ports/bulk-jobs.ts';
import { type ReconciliationDeps, runReconciliationPage } from '#shared/usecases/reconciliations.ts';
import { createPageWorkerHandler } from '../bulk-worker/app.ts';

/**
 * Reconciliation worker: one page of one reconciliation per SQS record, the same shape as the bulk job worker
 * (batch size 1, bounded `maxConcurrency`, failures reported per message, dead-lettered after five receives).
 */
export function createReconciliationWorkerHandler(deps: ReconciliationDeps) {
  return createPageWorkerHandler('reconciliation page', 'reconciliation', (body) =>
    runReconciliationPage(deps, parseJobMessage(body), deps.clock()),
  );
}
