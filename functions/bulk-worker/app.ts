import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describeError, log } from '#shared/log.ts';
import { parseJobMessage } from '#shared/ports/bulk-jobs.ts';
import { type BulkDeps, runJobPage } from '#shared/usecases/bulk-revocations.ts';

/**
 * Bulk job worker: one page of one job per SQS record (the event source's batch size is 1, and its
 * `maxConcurrency` bounds how many pages run at once across all jobs). A failed page is reported on its own
 * (`batchItemFailures`) and redelivered after the visibility timeout; the page's markers make that redo only
 * what is missing. After five receives it goes to the dead-letter queue, whose alarm calls a human.
 */
export function createBulkWorkerHandler(deps: BulkDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const message = parseJobMessage(record.body);
        const result = await runJobPage(deps, message, deps.clock());
        log.info('bulk job page', { jobId: message.jobId, page: message.page, result });
      } catch (error) {
        log.error('bulk job page failed', { messageId: record.messageId, error: describeError(error) });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
