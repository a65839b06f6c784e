import type { BulkJob, JobMarker, JobMessage, JobPage, PageTally } from '../domain/bulk-jobs.ts';
import type { Page } from './purchases.ts';

/** A job an Idempotency-Key already started, and the fingerprint of the request that started it. */
export interface IdempotentJob {
  jobId: string;
  fingerprint: string;
}

/**
 * Port for bulk jobs (rule 13): the job with its counters, its pages and its per-purchase markers. Adapters:
 * DynamoDB (shared/store/bulk-jobs.ts), in memory (test/support/memory-bulk-jobs.ts), held to one contract
 * (test/contract/bulk-jobs.contract.ts). A marker of a purchase that changed is written by the PurchaseStore,
 * in the purchase's own transaction (`SaveOptions.jobMarker`); this port writes the others.
 */
export interface BulkJobStore {
  /**
   * Writes a new job and its first pages. With an idempotency key, the key is recorded in the same write;
   * when the key was already used, nothing is written and the earlier job is answered instead.
   */
  createJob(
    job: BulkJob,
    pages: readonly JobPage[],
    idempotency: { key: string; fingerprint: string } | null,
  ): Promise<IdempotentJob | null>;
  /** The job an Idempotency-Key started, if any. */
  findIdempotentJob(siteId: string, key: string): Promise<IdempotentJob | null>;
  getJob(siteId: string, jobId: string): Promise<BulkJob | null>;
  /** A site's jobs, newest first. */
  listJobs(siteId: string, limit: number, cursor: string | null): Promise<Page<BulkJob>>;
  getPage(siteId: string, jobId: string, page: number): Promise<JobPage | null>;
  /**
   * Fixes a page's purchases (only if no worker fixed them first) and, in the same write, creates the next page
   * (unless it exists) or, for the last page, records the job's page count. Answers the page as stored.
   */
  resolvePage(page: JobPage, next: JobPage | null): Promise<JobPage>;
  /** queued → running (no-op otherwise). */
  markRunning(siteId: string, jobId: string, at: string): Promise<void>;
  /** Null when this call wrote the marker; the earlier marker when the purchase was already decided. */
  putMarker(marker: JobMarker): Promise<JobMarker | null>;
  getMarker(siteId: string, jobId: string, purchaseId: string): Promise<JobMarker | null>;
  /** A job's markers of one outcome, in purchase id order (an undo walks its job's `done` markers). */
  listMarkers(
    siteId: string,
    jobId: string,
    outcome: JobMarker['outcome'],
    limit: number,
    cursor: string | null,
  ): Promise<Page<JobMarker>>;
  /** Adds a page's tally to the job and marks the page counted, together and once: false if it was counted. */
  countPage(siteId: string, jobId: string, page: number, tally: PageTally): Promise<boolean>;
  /** Marks the job completed if every page is counted (and it is not already); answers the job as stored. */
  completeIfCounted(siteId: string, jobId: string, at: string): Promise<BulkJob | null>;
  /** Marks a job failed as a whole (its source is gone), unless it finished. */
  failJob(siteId: string, jobId: string, error: string, at: string): Promise<void>;
}

/**
 * Port for the queue of job pages (DESIGN.md §6: every job fans out over a queue). AWS: an SQS queue
 * (shared/adapters/sqs-job-queue.ts) read by the worker function with bounded concurrency; locally, the queue
 * stand-in persisted in DynamoDB Local (infra/local/bulk-jobs.ts). At least once: a page may arrive twice,
 * and the worker makes that harmless.
 */
export interface JobQueue {
  send(message: JobMessage): Promise<void>;
}

/** Reads a queued page message; throws on anything else (the message is then retried, then dead-lettered). */
export function parseJobMessage(body: string): JobMessage {
  const parsed = JSON.parse(body) as Partial<JobMessage>;
  if (typeof parsed.siteId !== 'string' || typeof parsed.jobId !== 'string' || !Number.isInteger(parsed.page)) {
    throw new Error('not a bulk job message');
  }
  return { siteId: parsed.siteId, jobId: parsed.jobId, page: parsed.page! };
}
