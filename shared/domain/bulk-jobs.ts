import { createHash } from 'node:crypto';
import { type FieldProblem, ForbiddenError, InvalidInputError } from './errors.ts';
import type { Actor, Instant, Purchase } from './types.ts';

/**
 * Bulk revocation jobs (rule 13, DESIGN.md §2.1). A job revokes (or, as an undo, resumes) access for many
 * purchases through the same rules as a single revoke, one page of purchases per queue message. Every rule a
 * job follows is here as a pure function: who may start one, what a selection may be, which grants a purchase
 * gives up, how a page is tallied, and which grants an undo may give back.
 */

/** The most customer ids one request may name (the bound: the request stays well under 256 KB). */
export const MAX_CUSTOMER_IDS = 10_000;
/** Purchases per page (one queue message): big enough to amortise the page's writes, small enough to show progress. */
export const PAGE_SIZE = 100;
/** Customers per page of a `customerIds` job (each customer's purchases are read from their own partition). */
export const CUSTOMERS_PER_PAGE = 100;
/** The job item keeps the first failures only; `failed` counts them all. */
export const MAX_LISTED_FAILURES = 100;

export type JobKind = 'revoke' | 'undo';
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';

/** What a job walks: an offer's purchases, a list of customers' purchases, or (an undo) another job's revocations. */
export type JobSelection =
  | { type: 'offer'; offerId: string }
  | { type: 'customers'; customerCount: number }
  | { type: 'job'; jobId: string };

export interface JobFailure {
  purchaseId: string;
  reason: string;
}

/**
 * What every job that runs over the queue of pages has (bulk jobs, reconciliations): its status, how many pages
 * it has and has counted, who asked and when. The store's lifecycle writes (shared/store/job-items.ts) touch
 * only these.
 */
export interface QueuedJob {
  jobId: string;
  siteId: string;
  status: JobStatus;
  /** How many pages the job has, known once the last page is read (at once for a customer list). */
  pageCount: number | null;
  pagesCounted: number;
  requestedBy: Actor;
  createdAt: Instant;
  startedAt: Instant | null;
  finishedAt: Instant | null;
  /** Why a job failed as a whole (its source vanished); null otherwise. */
  error: string | null;
}

/** One page of a queued job: its purchases fixed by the first delivery, counted once. */
export interface QueuedPage {
  siteId: string;
  jobId: string;
  page: number;
  purchaseIds: string[] | null;
  last: boolean;
  counted: boolean;
}

export interface BulkJob extends QueuedJob {
  kind: JobKind;
  /** The job an undo reverts; null for a revocation job. */
  undoOf: string | null;
  selection: JobSelection;
  /** The products to revoke; null: every product of each purchase. */
  productIds: string[] | null;
  total: number;
  done: number;
  skipped: number;
  failed: number;
  failures: JobFailure[];
}

/** Where one page's purchases come from: a cursor on a list, or a slice of the requested customers. */
export type PageSource =
  | { type: 'offer'; offerId: string; cursor: string | null }
  | { type: 'customers'; customerIds: string[] }
  | { type: 'job'; jobId: string; cursor: string | null };

/**
 * One page of a job. `purchaseIds` is fixed by the first worker that reads the page (a conditional write), so
 * a redelivered message works on exactly the same purchases even if the list changed meanwhile; `counted` is
 * set, with the job's counters, exactly once.
 */
export interface JobPage extends QueuedPage {
  source: PageSource;
}

export type Outcome = 'done' | 'skipped' | 'failed';

/**
 * What a job did to one purchase, written once (conditionally) and, for `done`, in the same transaction as the
 * purchase change: a redelivered page finds it and neither acts nor counts twice.
 */
export interface JobMarker {
  siteId: string;
  jobId: string;
  purchaseId: string;
  outcome: Outcome;
  /** The grants revoked (an undo: resumed). */
  productIds: string[];
  reason: string | null;
  at: Instant;
}

/** One queue message: one page of one job. */
export interface JobMessage {
  siteId: string;
  jobId: string;
  page: number;
}

/** What a page adds to the job's counters. */
export interface PageTally {
  total: number;
  done: number;
  skipped: number;
  failed: number;
  failures: JobFailure[];
}

/** A validated request for a revocation job. */
export type BulkRequest =
  | { type: 'offer'; offerId: string; productIds: string[] | null }
  | { type: 'customers'; customerIds: string[]; productIds: string[] | null };

/**
 * Who may start (or undo) a bulk job: an admin, or the platform's support staff acting for the site. An
 * automation token may read jobs but not start one: a runaway rule revoking a whole offer is the failure
 * worth preventing, and a single revoke (which automation may do) cannot do that.
 */
export function assertMayStartJob(actor: Actor, what = 'start or undo a bulk revocation job'): void {
  if (actor.type === 'admin' || actor.type === 'support') return;
  throw new ForbiddenError(`only an admin or support token may ${what}`);
}

/** The request's shape as parsed at the edge (zod has bounded lengths and id syntax). */
export interface BulkRequestInput {
  offerId?: string | undefined;
  customerIds?: string[] | undefined;
  productIds?: string[] | undefined;
}

/** Exactly one of `offerId` and `customerIds`, at most MAX_CUSTOMER_IDS ids (repeats collapse), products once each. */
export function validateBulkRequest(input: BulkRequestInput): BulkRequest {
  const problems: FieldProblem[] = [];
  const hasOffer = input.offerId !== undefined;
  const hasCustomers = input.customerIds !== undefined;
  if (hasOffer && hasCustomers) {
    problems.push(
      { field: 'offerId', message: 'send either offerId or customerIds, not both' },
      { field: 'customerIds', message: 'send either offerId or customerIds, not both' },
    );
  } else if (!hasOffer && !hasCustomers) {
    problems.push({ field: 'offerId', message: 'send offerId or customerIds' });
  }
  if (hasCustomers && input.customerIds!.length === 0) {
    problems.push({ field: 'customerIds', message: 'list at least one customer' });
  }
  if (hasCustomers && input.customerIds!.length > MAX_CUSTOMER_IDS) {
    problems.push({ field: 'customerIds', message: `at most ${MAX_CUSTOMER_IDS} customer ids per job` });
  }
  if (input.productIds !== undefined && input.productIds.length === 0) {
    problems.push({ field: 'productIds', message: 'list at least one product, or omit productIds for all' });
  }
  if (problems.length > 0) {
    // One rule may name two fields with one message: say it once.
    throw new InvalidInputError([...new Set(problems.map((p) => p.message))].join('; '), problems);
  }
  const productIds = input.productIds === undefined ? null : [...new Set(input.productIds)];
  return hasOffer
    ? { type: 'offer', offerId: input.offerId!, productIds }
    : { type: 'customers', customerIds: [...new Set(input.customerIds!)], productIds };
}

/** `productIds` that are not among `allowed` (the offer's products), each named by its index: a 400. */
export function assertProductsIn(productIds: string[] | null, allowed: ReadonlySet<string>, where: string): void {
  if (productIds === null) return;
  const problems = productIds.flatMap((productId, index) =>
    allowed.has(productId) ? [] : [{ field: `productIds[${index}]`, message: `product ${productId} ${where}` }],
  );
  if (problems.length > 0) throw new InvalidInputError(problems.map((p) => p.message).join('; '), problems);
}

/** The request's fingerprint for its Idempotency-Key: a digest, since a customer list may hold 10 000 ids. */
export function bulkFingerprint(operation: string, request: BulkRequest | { undoOf: string }): string {
  const canonical =
    'undoOf' in request
      ? { operation, undoOf: request.undoOf }
      : {
          operation,
          type: request.type,
          target: request.type === 'offer' ? request.offerId : [...request.customerIds].sort(),
          productIds: request.productIds === null ? null : [...request.productIds].sort(),
        };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** The first pages of a new job: one cursor page for an offer, every slice at once for a customer list. */
export function initialPages(siteId: string, jobId: string, request: BulkRequest | { undoOf: string }): JobPage[] {
  const page = (index: number, source: PageSource): JobPage => ({
    siteId,
    jobId,
    page: index,
    source,
    purchaseIds: null,
    last: false,
    counted: false,
  });
  if ('undoOf' in request) return [page(0, { type: 'job', jobId: request.undoOf, cursor: null })];
  if (request.type === 'offer') return [page(0, { type: 'offer', offerId: request.offerId, cursor: null })];
  const pages: JobPage[] = [];
  for (let start = 0; start < request.customerIds.length; start += CUSTOMERS_PER_PAGE) {
    const customerIds = request.customerIds.slice(start, start + CUSTOMERS_PER_PAGE);
    pages.push(page(pages.length, { type: 'customers', customerIds }));
  }
  return pages;
}

/** A new job, queued, with nothing counted. */
export function newJob(input: {
  jobId: string;
  siteId: string;
  kind: JobKind;
  undoOf: string | null;
  selection: JobSelection;
  productIds: string[] | null;
  pageCount: number | null;
  requestedBy: Actor;
  at: Instant;
}): BulkJob {
  return {
    jobId: input.jobId,
    siteId: input.siteId,
    kind: input.kind,
    undoOf: input.undoOf,
    selection: input.selection,
    productIds: input.productIds,
    total: 0,
    done: 0,
    skipped: 0,
    failed: 0,
    failures: [],
    ...queuedJobStart(input.requestedBy, input.at, input.pageCount),
  };
}

/** The lifecycle fields of a job just created: queued, nothing counted. */
export function queuedJobStart(requestedBy: Actor, at: Instant, pageCount: number | null) {
  return {
    status: 'queued' as const,
    pageCount,
    pagesCounted: 0,
    requestedBy,
    createdAt: at,
    startedAt: null,
    finishedAt: null,
    error: null,
  };
}

/**
 * The grants a revocation job asks to revoke on this purchase: the requested products the purchase holds (a
 * purchase's product list was copied at purchase time, so a product added to the offer later is simply not
 * there), or all of them. Those already revoked stay as they are (the revoke rule); none left: skipped.
 */
export function grantsToRevoke(purchase: Purchase, productIds: string[] | null): string[] {
  const held = purchase.products.map((grant) => grant.productId);
  if (productIds === null) return held;
  const wanted = new Set(productIds);
  return held.filter((productId) => wanted.has(productId));
}

/**
 * Undo eligibility: the grants this job revoked whose latest change is still that revocation. A grant resumed
 * since has no `revokedByJob`; one revoked again since carries the other revocation's job (or none).
 */
export function grantsToRestore(purchase: Purchase, jobId: string): string[] {
  return purchase.products
    .filter((grant) => grant.access === 'revoked' && grant.revokedByJob === jobId)
    .map((grant) => grant.productId);
}

/** A page's counts from its markers: every purchase of the page is counted once, whatever delivery decided it. */
export function tallyPage(markers: readonly JobMarker[], listedFailures: number): PageTally {
  const tally: PageTally = { total: markers.length, done: 0, skipped: 0, failed: 0, failures: [] };
  for (const marker of markers) {
    tally[marker.outcome] += 1;
    if (marker.outcome === 'failed' && listedFailures + tally.failures.length < MAX_LISTED_FAILURES) {
      tally.failures.push({ purchaseId: marker.purchaseId, reason: marker.reason ?? 'failed' });
    }
  }
  return tally;
}

/** Completed once the last page is known and every page is counted. */
export function isFinished(job: Pick<BulkJob, 'pageCount' | 'pagesCounted'>): boolean {
  return job.pageCount !== null && job.pagesCounted >= job.pageCount;
}

/** The job shape of DESIGN.md §2.1, with fields in a stable order. */
export function jobView(job: BulkJob) {
  return {
    jobId: job.jobId,
    siteId: job.siteId,
    kind: job.kind,
    undoOf: job.undoOf,
    status: job.status,
    selection: job.selection,
    productIds: job.productIds,
    total: job.total,
    done: job.done,
    skipped: job.skipped,
    failed: job.failed,
    failures: job.failures,
    requestedBy: job.requestedBy,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    ...(job.error ? { error: job.error } : {}),
  };
}
export type JobView = ReturnType<typeof jobView>;
