import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describeError, log } from '#shared/log.ts';
import { countJobPurchases } from '#shared/metrics.ts';
import { parseJobMessage } from '#shared/ports/bulk-jobs.ts';
import { type BulkDeps, runJobPage } from '#shared/usecases/bulk-revocations.ts';

/**
 * An SQS handler for job pages (bulk jobs, reconciliations): one page per record (the event source's batch size
 * is 1, and its `maxConcurrency` bounds how many pages run at once across all jobs). A failed page is reported
 * on its own (`batchItemFailures`) and redelivered after the visibility timeout; the page's markers make that
 * redo only what is missing. After five receives it goes to the dead-letter queue, whose alarm calls a human.
 */
export function createPageWorkerHandler(
  what: string,
  job: 'bulk_revocation' | 'reconciliation',
  runPage: (body: string) => Promise<string | { counted: Record<string, number> }>,
) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const result = await runPage(record.body);
        if (typeof result !== 'string') countJobPurchases(job, result.counted);
        log.info(what, { messageId: record.messageId, body: record.body, result });
      } catch (error) {
        log.error(`${what} failed`, { messageId: record.messageId, error: describeError(error) });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

/** Bulk job worker: one page of one bulk revocation (or undo) per SQS record. */
export function createBulkWorkerHandler(deps: BulkDeps) {
  return createPageWorkerHandler('bulk job page', 'bulk_revocation', (body) =>
    runJobPage(deps, parseJobMessage(body), deps.clock()),
  );
}
