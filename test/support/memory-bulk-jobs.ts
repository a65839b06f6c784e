import type { BulkJob, JobMarker, JobMessage, JobPage, PageTally } from '../../shared/domain/bulk-jobs.ts';
import type { BulkJobStore, IdempotentJob, JobQueue } from '../../shared/ports/bulk-jobs.ts';
import type { Page } from '../../shared/ports/purchases.ts';
import type { Stores } from '../../shared/ports/stores.ts';
import { copy, page as pageOf } from './memory-paging.ts';
import { jobMarkerKey, memoryJobMarkers } from './memory-store.ts';

const key = (...parts: (string | number)[]) => JSON.stringify(parts);

/**
 * The in-memory twin of DynamoBulkJobStore, held to the same contract (test/contract/bulk-jobs.contract.ts).
 * It shares the markers of the memory stores it is built on, since the purchase store writes a changed
 * purchase's marker in the purchase's own write. Each method checks, then applies, with no `await` between.
 */
export class MemoryBulkJobStore implements BulkJobStore {
  private readonly jobs = new Map<string, { job: BulkJob; sequence: number }>();
  private readonly pages = new Map<string, JobPage>();
  private readonly keys = new Map<string, IdempotentJob>();
  private readonly markers: Map<string, JobMarker>;
  private sequence = 0;

  constructor(stores: Stores) {
    this.markers = memoryJobMarkers(stores);
  }

  async createJob(
    job: BulkJob,
    pages: readonly JobPage[],
    idempotency: { key: string; fingerprint: string } | null,
  ): Promise<IdempotentJob | null> {
    const idempotencyKey = idempotency ? key(job.siteId, idempotency.key) : null;
    const earlier = idempotencyKey ? this.keys.get(idempotencyKey) : undefined;
    if (earlier) return copy(earlier);
    if (this.jobs.has(key(job.siteId, job.jobId))) throw new Error(`job ${job.jobId} exists`);
    this.jobs.set(key(job.siteId, job.jobId), { job: copy(job), sequence: ++this.sequence });
    for (const page of pages) this.pages.set(key(page.siteId, page.jobId, page.page), copy(page));
    if (idempotencyKey) this.keys.set(idempotencyKey, { jobId: job.jobId, fingerprint: idempotency!.fingerprint });
    return null;
  }

  async findIdempotentJob(siteId: string, idempotencyKey: string): Promise<IdempotentJob | null> {
    return copy(this.keys.get(key(siteId, idempotencyKey)) ?? null);
  }

  async getJob(siteId: string, jobId: string): Promise<BulkJob | null> {
    return copy(this.jobs.get(key(siteId, jobId))?.job ?? null);
  }

  async listJobs(siteId: string, limit: number, cursor: string | null): Promise<Page<BulkJob>> {
    const rows = [...this.jobs.values()]
      .filter(({ job }) => job.siteId === siteId)
      .map(({ job, sequence }) => ({ sortKey: String(sequence).padStart(10, '0'), item: job }));
    return pageOf(rows, ['bulkJobs', siteId], limit, cursor, 'descending');
  }

  async getPage(siteId: string, jobId: string, page: number): Promise<JobPage | null> {
    return copy(this.pages.get(key(siteId, jobId, page)) ?? null);
  }

  async resolvePage(page: JobPage, next: JobPage | null): Promise<JobPage> {
    const pageKey = key(page.siteId, page.jobId, page.page);
    const stored = this.pages.get(pageKey);
    if (!stored) throw new Error(`no page ${page.page}`);
    if (stored.purchaseIds !== null) return copy(stored);
    const nextKey = next ? key(next.siteId, next.jobId, next.page) : null;
    if (nextKey && this.pages.has(nextKey)) throw new Error(`page ${next!.page} exists`);
    this.pages.set(pageKey, { ...stored, purchaseIds: [...page.purchaseIds!], last: page.last });
    if (next) this.pages.set(nextKey!, copy(next));
    const job = this.jobs.get(key(page.siteId, page.jobId));
    if (page.last && job) job.job.pageCount = page.page + 1;
    return copy(page);
  }

  async markRunning(siteId: string, jobId: string, at: string): Promise<void> {
    const job = this.jobs.get(key(siteId, jobId))?.job;
    if (job?.status === 'queued') {
      job.status = 'running';
      job.startedAt = at;
    }
  }

  async putMarker(marker: JobMarker): Promise<JobMarker | null> {
    const earlier = this.markers.get(jobMarkerKey(marker));
    if (earlier) return copy(earlier);
    this.markers.set(jobMarkerKey(marker), copy(marker));
    return null;
  }

  async getMarker(siteId: string, jobId: string, purchaseId: string): Promise<JobMarker | null> {
    return copy(this.markers.get(jobMarkerKey({ siteId, jobId, purchaseId })) ?? null);
  }

  async listMarkers(
    siteId: string,
    jobId: string,
    outcome: JobMarker['outcome'],
    limit: number,
    cursor: string | null,
  ): Promise<Page<JobMarker>> {
    const rows = [...this.markers.values()]
      .filter((marker) => marker.siteId === siteId && marker.jobId === jobId && marker.outcome === outcome)
      .map((marker) => ({ sortKey: marker.purchaseId, item: marker }));
    return pageOf(rows, ['jobMarkers', siteId, jobId, outcome], limit, cursor);
  }

  async countPage(siteId: string, jobId: string, page: number, tally: PageTally): Promise<boolean> {
    const stored = this.pages.get(key(siteId, jobId, page));
    const job = this.jobs.get(key(siteId, jobId))?.job;
    if (!stored || stored.counted || !job) return false;
    stored.counted = true;
    job.total += tally.total;
    job.done += tally.done;
    job.skipped += tally.skipped;
    job.failed += tally.failed;
    job.pagesCounted += 1;
    job.failures.push(...copy(tally.failures));
    return true;
  }

  async completeIfCounted(siteId: string, jobId: string, at: string): Promise<BulkJob | null> {
    const job = this.jobs.get(key(siteId, jobId))?.job;
    if (!job) return null;
    if (job.pageCount === job.pagesCounted && (job.status === 'queued' || job.status === 'running')) {
      job.status = 'completed';
      job.finishedAt = at;
    }
    return copy(job);
  }

  async failJob(siteId: string, jobId: string, error: string, at: string): Promise<void> {
    const job = this.jobs.get(key(siteId, jobId))?.job;
    if (job && (job.status === 'queued' || job.status === 'running')) {
      job.status = 'failed';
      job.finishedAt = at;
      job.error = error;
    }
  }
}

/** A job queue that keeps what was sent, for a test to deliver (or redeliver, or drop) at will. */
export class MemoryJobQueue implements JobQueue {
  readonly messages: JobMessage[] = [];
  async send(message: JobMessage): Promise<void> {
    this.messages.push({ ...message });
  }
}
