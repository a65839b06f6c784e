import {
  assertMayStartJob,
  assertProductsIn,
  type BulkJob,
  type BulkRequestInput,
  bulkFingerprint,
  grantsToRestore,
  grantsToRevoke,
  initialPages,
  type JobMarker,
  type JobMessage,
  type JobPage,
  type JobView,
  jobView,
  newJob,
  type Outcome,
  PAGE_SIZE,
  type PageSource,
  tallyPage,
  validateBulkRequest,
} from '../domain/bulk-jobs.ts';
import {
  ConcurrentModificationError,
  ConflictError,
  DomainError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  JobMarkerExistsError,
  SiteResourceNotFoundError,
} from '../domain/errors.ts';
import { toInstant } from '../domain/time.ts';
import type { Actor, Purchase, PurchaseChange } from '../domain/types.ts';
import type { BulkJobStore, JobQueue } from '../ports/bulk-jobs.ts';
import type { Page } from '../ports/purchases.ts';
import type { Dependencies } from './deps.ts';
import { openJobPage } from './job-pages.ts';
import { mapLimit } from './map-limit.ts';
import { applyAccessChange } from './purchases.ts';

/** What the bulk use cases receive: the usual dependencies plus the job store and the queue of pages. */
export interface BulkDeps extends Dependencies {
  jobs: BulkJobStore;
  jobQueue: JobQueue;
}

/** Purchases of one page decided at once: bounded, so one page never floods the table or the scheduler. */
export const PURCHASE_CONCURRENCY = 8;

/** The answer to a start or undo request: 202 with the job id, the same job again when an Idempotency-Key replays. */
export interface StartResult {
  statusCode: 202;
  body: { jobId: string };
  replayed: boolean;
}

/**
 * Use case card: start a bulk revocation (rule 13, DESIGN.md §2.1).
 * In: `{offerId}` or `{customerIds}` (≤ 10 000), optional `productIds` (of the offer, or of the site's catalog
 * for a customer list), an optional Idempotency-Key. Out: 202 `{jobId}`; the work runs from the queue.
 * Refuses (400 naming the field, nothing written): both or neither selections, too many ids, an unknown offer
 * (400 naming `offerId`, as a grant does: the offer is part of the body, not of the path), products not in it.
 * Admins and support only (`assertMayStartJob`). The same key with the same request answers the same job; with
 * another request, 422 naming `Idempotency-Key`.
 */
export async function startBulkRevocation(
  deps: BulkDeps,
  siteId: string,
  input: BulkRequestInput,
  idempotencyKey: string | null,
  actor: Actor,
  now: Date,
): Promise<StartResult> {
  assertMayStartJob(actor);
  const request = validateBulkRequest(input);
  if (request.type === 'offer') {
    const offer = await deps.catalog.getOffer(siteId, request.offerId);
    if (!offer) {
      throw new InvalidInputError(`offer ${request.offerId} does not exist`, [
        { field: 'offerId', message: `offer ${request.offerId} does not exist` },
      ]);
    }
    assertProductsIn(request.productIds, new Set(offer.productIds), `is not a product of offer ${offer.offerId}`);
  } else if (request.productIds) {
    const known = await deps.catalog.getProducts(siteId, request.productIds);
    assertProductsIn(request.productIds, new Set(known.keys()), 'is not a product of this site');
  }
  const fingerprint = bulkFingerprint('revoke', request);
  const replay = await replayOf(deps, siteId, idempotencyKey, fingerprint);
  if (replay) return replay;

  const jobId = deps.newId('blk');
  const pages = initialPages(siteId, jobId, request);
  const job = newJob({
    jobId,
    siteId,
    kind: 'revoke',
    undoOf: null,
    selection:
      request.type === 'offer'
        ? { type: 'offer', offerId: request.offerId }
        : { type: 'customers', customerCount: request.customerIds.length },
    productIds: request.productIds,
    // A customer list's pages are all known now; an offer's are found page by page.
    pageCount: request.type === 'customers' ? pages.length : null,
    requestedBy: actor,
    at: toInstant(now),
  });
  return createAndQueue(deps, job, pages, idempotencyKey, fingerprint);
}

/**
 * Use case card: undo a bulk revocation (rule 13, §2.1). In: a completed revocation job. Out: 202 `{jobId}` of a
 * new job (kind `undo`) that resumes exactly the grants that job revoked whose latest change is still that
 * revocation: a grant resumed, or revoked again, since is left alone (`grantsToRestore`). 404 for an unknown
 * job; 409 for an undo of an undo or of a job that has not completed (its set of revocations is not final).
 */
export async function undoBulkRevocation(
  deps: BulkDeps,
  siteId: string,
  jobId: string,
  idempotencyKey: string | null,
  actor: Actor,
  now: Date,
): Promise<StartResult> {
  assertMayStartJob(actor);
  const original = await deps.jobs.getJob(siteId, jobId);
  if (!original) throw new SiteResourceNotFoundError(`bulk revocation job ${jobId} not found`);
  if (original.kind !== 'revoke') throw new ConflictError(`job ${jobId} is an undo; only a revocation can be undone`);
  if (original.status !== 'completed') {
    throw new ConflictError(`job ${jobId} is ${original.status}; a job can be undone once it has completed`);
  }
  const fingerprint = bulkFingerprint('undo', { undoOf: jobId });
  const replay = await replayOf(deps, siteId, idempotencyKey, fingerprint);
  if (replay) return replay;
  const undoId = deps.newId('blk');
  const job = newJob({
    jobId: undoId,
    siteId,
    kind: 'undo',
    undoOf: jobId,
    selection: { type: 'job', jobId },
    productIds: original.productIds,
    pageCount: null,
    requestedBy: actor,
    at: toInstant(now),
  });
  return createAndQueue(deps, job, initialPages(siteId, undoId, { undoOf: jobId }), idempotencyKey, fingerprint);
}

export async function getBulkJob(deps: Pick<BulkDeps, 'jobs'>, siteId: string, jobId: string): Promise<JobView> {
  const job = await deps.jobs.getJob(siteId, jobId);
  if (!job) throw new SiteResourceNotFoundError(`bulk revocation job ${jobId} not found`);
  return jobView(job);
}

/** Use case card: a site's recent jobs, newest first, paginated (a forged cursor is a 400 naming `cursor`). */
export async function listBulkJobs(
  deps: Pick<BulkDeps, 'jobs'>,
  siteId: string,
  limit: number,
  cursor: string | null,
): Promise<Page<JobView>> {
  const page = await deps.jobs.listJobs(siteId, limit, cursor);
  return { items: page.items.map(jobView), nextCursor: page.nextCursor };
}

async function createAndQueue(
  deps: BulkDeps,
  job: BulkJob,
  pages: JobPage[],
  idempotencyKey: string | null,
  fingerprint: string,
): Promise<StartResult> {
  const earlier = await deps.jobs.createJob(job, pages, idempotencyKey ? { key: idempotencyKey, fingerprint } : null);
  if (earlier) {
    // A concurrent request with the same key won the race.
    if (earlier.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError(idempotencyKey!);
    return replayed(deps, job.siteId, earlier.jobId);
  }
  await deps.jobQueue.send({ siteId: job.siteId, jobId: job.jobId, page: 0 });
  return { statusCode: 202, body: { jobId: job.jobId }, replayed: false };
}

async function replayOf(
  deps: BulkDeps,
  siteId: string,
  key: string | null,
  fingerprint: string,
): Promise<StartResult | null> {
  if (!key) return null;
  const earlier = await deps.jobs.findIdempotentJob(siteId, key);
  if (!earlier) return null;
  if (earlier.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError(key);
  return replayed(deps, siteId, earlier.jobId);
}

/**
 * The earlier job again. If it is still queued, its first page is sent again: the first request may have died
 * between writing the job and queueing it, and a duplicate page message is harmless (the worker's markers).
 */
async function replayed(deps: BulkDeps, siteId: string, jobId: string): Promise<StartResult> {
  const job = await deps.jobs.getJob(siteId, jobId);
  if (job?.status === 'queued') await deps.jobQueue.send({ siteId, jobId, page: 0 });
  return { statusCode: 202, body: { jobId }, replayed: true };
}

/** What a page run came to; a counted page says how its purchases ended (the worker's progress metric). */
export type PageResult =
  | 'unknown_job'
  | 'finished'
  | 'already_counted'
  | 'source_gone'
  | { counted: { done: number; skipped: number; failed: number } };

/**
 * Use case card: the worker's step, one page of one job per queue message (at least once).
 * 1. The page's purchases are fixed by the first delivery (a conditional write), with the next page created in
 *    the same write; the next page is queued before this one is worked, so pages flow while this one runs.
 * 2. Each purchase goes through the revoke (or, for an undo, resume) use case with the job's marker in the same
 *    transaction; a purchase with nothing to do gets a `skipped` marker, one whose change fails for a reason
 *    that will not pass on retry a `failed` one. A purchase already decided (a redelivery) keeps its marker.
 * 3. The page's markers are tallied into the job's counters with the page's `counted` flag, once; the job
 *    completes when every page is counted. A crash anywhere leaves a message that redoes only what is missing.
 */
export async function runJobPage(deps: BulkDeps, message: JobMessage, now: Date): Promise<PageResult> {
  const { siteId, jobId } = message;
  const at = toInstant(now);
  const opened = await openJobPage(deps.jobs, message, at);
  if (typeof opened === 'string') return opened;
  const { job } = opened;
  let page = opened.page;

  let known = new Map<string, Purchase>();
  if (page.purchaseIds === null) {
    const read = await readSource(deps, job, page);
    if (read === 'source_gone') {
      await deps.jobs.failJob(siteId, jobId, 'the job to undo no longer exists', at);
      return 'source_gone';
    }
    const last = page.source.type === 'customers' ? page.page + 1 >= (job.pageCount ?? 0) : read.next === null;
    const resolved: JobPage = { ...page, purchaseIds: read.purchaseIds, last };
    const next: JobPage | null = read.next
      ? { siteId, jobId, page: page.page + 1, source: read.next, purchaseIds: null, last: false, counted: false }
      : null;
    const stored = await deps.jobs.resolvePage(resolved, next);
    if (stored.purchaseIds === resolved.purchaseIds) known = read.known;
    page = stored;
  }
  if (!page.last) await deps.jobQueue.send({ siteId, jobId, page: page.page + 1 });

  const markers = await mapLimit(page.purchaseIds ?? [], PURCHASE_CONCURRENCY, (purchaseId) =>
    decidePurchase(deps, job, purchaseId, known.get(purchaseId), now),
  );
  const tally = tallyPage(markers, job.failures.length);
  await deps.jobs.countPage(siteId, jobId, page.page, tally);
  await deps.jobs.completeIfCounted(siteId, jobId, at);
  return { counted: { done: tally.done, skipped: tally.skipped, failed: tally.failed } };
}

interface SourcePage {
  purchaseIds: string[];
  /** The purchases as the list returned them, for a first attempt without another read. */
  known: Map<string, Purchase>;
  next: PageSource | null;
}

async function readSource(deps: BulkDeps, job: BulkJob, page: JobPage): Promise<SourcePage | 'source_gone'> {
  const source = page.source;
  switch (source.type) {
    case 'offer': {
      const found = await deps.purchases.listPurchasesByOffer(job.siteId, source.offerId, PAGE_SIZE, source.cursor);
      return {
        purchaseIds: found.items.map((p) => p.purchaseId),
        known: new Map(found.items.map((p) => [p.purchaseId, p])),
        next: found.nextCursor ? { ...source, cursor: found.nextCursor } : null,
      };
    }
    case 'customers': {
      const lists = await mapLimit(source.customerIds, PURCHASE_CONCURRENCY, (customerId) =>
        deps.purchases.getCustomerPurchases(job.siteId, customerId),
      );
      // The customer's copies: enough to decide on first, and the write is conditioned on their version.
      const purchases = lists.flat();
      return {
        purchaseIds: purchases.map((p) => p.purchaseId),
        known: new Map(purchases.map((p) => [p.purchaseId, p])),
        next: null,
      };
    }
    case 'job': {
      if (!(await deps.jobs.getJob(job.siteId, source.jobId))) return 'source_gone';
      const found = await deps.jobs.listMarkers(job.siteId, source.jobId, 'done', PAGE_SIZE, source.cursor);
      return {
        purchaseIds: found.items.map((marker) => marker.purchaseId),
        known: new Map(),
        next: found.nextCursor ? { ...source, cursor: found.nextCursor } : null,
      };
    }
  }
}

/** An error that a retry will not cure: the purchase is counted `failed` with it as the reason. */
function isPermanent(error: unknown): error is DomainError {
  return error instanceof DomainError && !(error instanceof ConcurrentModificationError);
}

/** One purchase of a page: its marker, written now or found from an earlier delivery. */
async function decidePurchase(
  deps: BulkDeps,
  job: BulkJob,
  purchaseId: string,
  known: Purchase | undefined,
  now: Date,
): Promise<JobMarker> {
  const marker = (outcome: Outcome, productIds: string[], reason: string | null): JobMarker => ({
    siteId: job.siteId,
    jobId: job.jobId,
    purchaseId,
    outcome,
    productIds,
    reason,
    at: toInstant(now),
  });
  const settle = async (decided: JobMarker) => (await deps.jobs.putMarker(decided)) ?? decided;
  let written: JobMarker | null = null;
  try {
    const undoOf = job.undoOf;
    const { before, after } = await applyAccessChange(
      deps,
      job.siteId,
      purchaseId,
      job.kind === 'undo' ? 'resume' : 'revoke',
      job.kind === 'undo' ? (p) => grantsToRestore(p, undoOf ?? '') : (p) => grantsToRevoke(p, job.productIds),
      job.requestedBy,
      now,
      {
        jobId: job.jobId,
        undoOf,
        known,
        save: (change: PurchaseChange) => {
          written = marker('done', changedProducts(change), null);
          return { jobMarker: written };
        },
      },
    );
    if (before !== after && written) return written;
    return await settle(marker('skipped', [], null));
  } catch (error) {
    if (error instanceof JobMarkerExistsError) {
      const earlier = await deps.jobs.getMarker(job.siteId, job.jobId, purchaseId);
      if (earlier) return earlier;
    }
    if (isPermanent(error)) return settle(marker('failed', [], error.message));
    throw error;
  }
}

/** The grants a change revoked or resumed, as its history entry names them. */
function changedProducts(change: PurchaseChange): string[] {
  const ids = change.history[0]?.details.productIds;
  return Array.isArray(ids) ? ids.map(String) : [];
}
