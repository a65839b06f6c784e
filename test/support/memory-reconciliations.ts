import type {
  DriftItem,
  ReconciliationJob,
  ReconciliationMarker,
  ReconciliationPage,
  ReconciliationTally,
} from '../../shared/domain/reconciliation.ts';
import type { IdempotentJob } from '../../shared/ports/bulk-jobs.ts';
import type { Page } from '../../shared/ports/purchases.ts';
import type { ReconciliationStore } from '../../shared/ports/reconciliations.ts';
import { copy, page as pageOf } from './memory-paging.ts';

const key = (...parts: (string | number)[]) => JSON.stringify(parts);

/** The in-memory twin of DynamoReconciliationStore. Each method checks, then applies, with no `await` between. */
export class MemoryReconciliationStore implements ReconciliationStore {
  private readonly jobs = new Map<string, { job: ReconciliationJob; sequence: number }>();
  private readonly pages = new Map<string, ReconciliationPage>();
  private readonly keys = new Map<string, IdempotentJob>();
  readonly markers = new Map<string, ReconciliationMarker>();
  private sequence = 0;

  async createJob(
    job: ReconciliationJob,
    first: ReconciliationPage,
    idempotency: { key: string; fingerprint: string } | null,
  ): Promise<IdempotentJob | null> {
    const idempotencyKey = idempotency ? key(job.siteId, idempotency.key) : null;
    const earlier = idempotencyKey ? this.keys.get(idempotencyKey) : undefined;
    if (earlier) return copy(earlier);
    this.jobs.set(key(job.siteId, job.jobId), { job: copy(job), sequence: ++this.sequence });
    this.pages.set(key(first.siteId, first.jobId, first.page), copy(first));
    if (idempotencyKey) this.keys.set(idempotencyKey, { jobId: job.jobId, fingerprint: idempotency!.fingerprint });
    return null;
  }

  async findIdempotentJob(siteId: string, idempotencyKey: string): Promise<IdempotentJob | null> {
    return copy(this.keys.get(key(siteId, idempotencyKey)) ?? null);
  }

  async getJob(siteId: string, jobId: string): Promise<ReconciliationJob | null> {
    return copy(this.jobs.get(key(siteId, jobId))?.job ?? null);
  }

  async listJobs(siteId: string, limit: number, cursor: string | null): Promise<Page<ReconciliationJob>> {
    const rows = [...this.jobs.values()]
      .filter(({ job }) => job.siteId === siteId)
      .map(({ job, sequence }) => ({ sortKey: String(sequence).padStart(10, '0'), item: job }));
    return pageOf(rows, ['reconciliations', siteId], limit, cursor, 'descending');
  }

  async getPage(siteId: string, jobId: string, page: number): Promise<ReconciliationPage | null> {
    return copy(this.pages.get(key(siteId, jobId, page)) ?? null);
  }

  async resolvePage(page: ReconciliationPage, next: ReconciliationPage | null): Promise<ReconciliationPage> {
    const stored = this.pages.get(key(page.siteId, page.jobId, page.page));
    if (!stored) throw new Error(`no page ${page.page}`);
    if (stored.purchaseIds !== null) return copy(stored);
    this.pages.set(key(page.siteId, page.jobId, page.page), copy(page));
    if (next) this.pages.set(key(next.siteId, next.jobId, next.page), copy(next));
    const job = this.jobs.get(key(page.siteId, page.jobId));
    if (page.last && job) job.job.pageCount = page.page + 1;
    return copy(page);
  }

  async markRunning(siteId: string, jobId: string, at: string): Promise<void> {
    const job = this.jobs.get(key(siteId, jobId))?.job;
    if (job?.status === 'queued') Object.assign(job, { status: 'running', startedAt: at });
  }

  async putMarker(marker: ReconciliationMarker): Promise<ReconciliationMarker | null> {
    const markerKey = key(marker.siteId, marker.jobId, marker.purchaseId);
    const earlier = this.markers.get(markerKey);
    if (earlier) return copy(earlier);
    this.markers.set(markerKey, copy(marker));
    return null;
  }

  async settleRepair(siteId: string, jobId: string, purchaseId: string, repaired: boolean, reason: string | null) {
    const marker = this.markers.get(key(siteId, jobId, purchaseId));
    if (!marker) throw new Error(`no marker for ${purchaseId}`);
    Object.assign(marker, { repaired, reason });
  }

  async listDrift(siteId: string, jobId: string, limit: number, cursor: string | null): Promise<Page<DriftItem[]>> {
    const rows = [...this.markers.values()]
      .filter((marker) => marker.siteId === siteId && marker.jobId === jobId && marker.outcome === 'drifted')
      .map((marker) => ({ sortKey: marker.purchaseId, item: marker.items }));
    return pageOf(rows, ['drift', siteId, jobId], limit, cursor);
  }

  async countPage(siteId: string, jobId: string, page: number, tally: ReconciliationTally): Promise<boolean> {
    const stored = this.pages.get(key(siteId, jobId, page));
    const job = this.jobs.get(key(siteId, jobId))?.job;
    if (!stored || stored.counted || !job) return false;
    stored.counted = true;
    job.checked += tally.checked;
    job.drifted += tally.drifted;
    job.repaired += tally.repaired;
    job.skipped += tally.skipped;
    job.failed += tally.failed;
    job.pagesCounted += 1;
    job.problems.push(...copy(tally.problems));
    return true;
  }

  async completeIfCounted(siteId: string, jobId: string, at: string): Promise<ReconciliationJob | null> {
    const job = this.jobs.get(key(siteId, jobId))?.job;
    if (!job) return null;
    if (job.pageCount === job.pagesCounted && (job.status === 'queued' || job.status === 'running')) {
      Object.assign(job, { status: 'completed', finishedAt: at });
    }
    return copy(job);
  }

  async failJob(siteId: string, jobId: string, error: string, at: string): Promise<void> {
    const job = this.jobs.get(key(siteId, jobId))?.job;
    if (job && (job.status === 'queued' || job.status === 'running')) {
      Object.assign(job, { status: 'failed', finishedAt: at, error });
    }
  }
}
