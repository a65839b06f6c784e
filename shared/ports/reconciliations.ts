import type {
  DriftItem,
  ReconciliationJob,
  ReconciliationMarker,
  ReconciliationPage,
  ReconciliationTally,
} from '../domain/reconciliation.ts';
import type { IdempotentJob } from './bulk-jobs.ts';
import type { Page } from './purchases.ts';

/**
 * Port for reconciliation jobs (DESIGN.md §2.1): the job with its counters, its pages, and one marker per
 * purchase holding what the job found (the report's items). Adapters: DynamoDB (shared/store/reconciliations.ts,
 * on the lifecycle shared with bulk jobs, shared/store/job-items.ts) and in memory
 * (test/support/memory-reconciliations.ts). The page queue is the JobQueue port of bulk jobs (same message).
 */
export interface ReconciliationStore {
  /** A new job and its first page; with a key, the earlier job of that key instead when it was used. */
  createJob(
    job: ReconciliationJob,
    first: ReconciliationPage,
    idempotency: { key: string; fingerprint: string } | null,
  ): Promise<IdempotentJob | null>;
  findIdempotentJob(siteId: string, key: string): Promise<IdempotentJob | null>;
  getJob(siteId: string, jobId: string): Promise<ReconciliationJob | null>;
  /** A site's reconciliations, newest first. */
  listJobs(siteId: string, limit: number, cursor: string | null): Promise<Page<ReconciliationJob>>;
  getPage(siteId: string, jobId: string, page: number): Promise<ReconciliationPage | null>;
  /** Fixes a page's purchases once, with the next page (or the job's page count) in the same write. */
  resolvePage(page: ReconciliationPage, next: ReconciliationPage | null): Promise<ReconciliationPage>;
  markRunning(siteId: string, jobId: string, at: string): Promise<void>;
  /** Null when this call wrote the marker; the earlier one when the purchase was already decided. */
  putMarker(marker: ReconciliationMarker): Promise<ReconciliationMarker | null>;
  /** Records the outcome of a drifted purchase's repair (idempotent). */
  settleRepair(
    siteId: string,
    jobId: string,
    purchaseId: string,
    repaired: boolean,
    reason: string | null,
  ): Promise<void>;
  /** The drift items of a job, by purchase id, a page of purchases at a time. */
  listDrift(siteId: string, jobId: string, limit: number, cursor: string | null): Promise<Page<DriftItem[]>>;
  /** Adds a page's tally to the job and marks the page counted, together and once. */
  countPage(siteId: string, jobId: string, page: number, tally: ReconciliationTally): Promise<boolean>;
  completeIfCounted(siteId: string, jobId: string, at: string): Promise<ReconciliationJob | null>;
  failJob(siteId: string, jobId: string, error: string, at: string): Promise<void>;
}
