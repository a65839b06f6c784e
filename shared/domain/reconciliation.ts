import { createHash } from 'node:crypto';
import { assertMayStartJob, type QueuedJob, type QueuedPage, queuedJobStart } from './bulk-jobs.ts';
import { isId } from './ids.ts';
import type { ProcessorEvent, SubscriptionState } from './processor-events.ts';
import type { Actor, Instant, Processor, Purchase } from './types.ts';

/**
 * Drift reconciliation (DESIGN.md §2.1): the ledger's view of a processor-linked purchase against the
 * processor's own view of its subscription. Pure: the worker reads both sides, this says which fields disagree,
 * and a repair is the processor's state turned into the same ProcessorEvent a webhook is (processor-sync.ts).
 */

/** The processors a reconciliation may be asked for; `stripe` covers the platform's own account (`native`) too. */
export type ReconciledProcessor = 'stripe' | 'paypal';
export const RECONCILED_PROCESSORS: Readonly<Record<ReconciledProcessor, readonly Processor[]>> = {
  stripe: ['stripe', 'native'],
  paypal: ['paypal'],
};

/** The fields compared, as the report names them. */
export type DriftField = 'status' | 'cancelAt' | 'currentPeriodEnd' | 'pause.resumesAt';

export interface DriftItem {
  purchaseId: string;
  processorSubscriptionId: string;
  field: DriftField;
  /** The ledger's value, as the purchase shows it (null: none). */
  ledger: string | null;
  /** The processor's value, normalised to the ledger's terms (null: none). */
  processor: string | null;
}

/** Processors report whole seconds (Stripe) and the ledger keeps milliseconds: instants this close agree. */
const INSTANT_TOLERANCE_MS = 1_000;

function sameInstant(a: Instant | null, b: Instant | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(Date.parse(a) - Date.parse(b)) < INSTANT_TOLERANCE_MS;
}

/** The processor statuses the ledger's status agrees with, or null when the status is not compared. */
function agreeingStatuses(purchase: Purchase): readonly SubscriptionState['status'][] | null {
  switch (purchase.status) {
    case 'canceled':
      return ['canceled'];
    // Billing stopped at the processor (PayPal CANCELLED), access runs to the end of the paid cycle.
    case 'pending_cancellation':
      return purchase.cancellation?.billingStopped ? ['canceled'] : ['active', 'past_due'];
    // A paid-off plan: the processor may still list the subscription until its last period ends.
    case 'completed':
      return null;
    default:
      return [purchase.status];
  }
}

/** The end of billing the ledger expects the processor to have scheduled (Stripe `cancel_at`). */
function ledgerCancelAt(purchase: Purchase): Instant | null {
  if (purchase.status !== 'pending_cancellation' || purchase.cancellation?.billingStopped) return null;
  return purchase.cancellation?.effectiveAt ?? null;
}

/**
 * The fields on which the ledger and the processor disagree, in a fixed order: status, cancel time, period end,
 * pause end. Compared only where the processor is the one that keeps the field: PayPal cannot schedule a
 * cancellation or a pause end (membergate keeps those timers), so for PayPal only status and period end count.
 * A canceled subscription's period and schedule no longer matter. A purchase with no subscription id: nothing.
 */
export function compareSubscription(purchase: Purchase, processor: SubscriptionState): DriftItem[] {
  const subscriptionId = purchase.processorSubscriptionId;
  if (!subscriptionId) return [];
  const items: DriftItem[] = [];
  const drift = (field: DriftField, ledger: string | null, theirs: string | null) =>
    items.push({
      purchaseId: purchase.purchaseId,
      processorSubscriptionId: subscriptionId,
      field,
      ledger,
      processor: theirs,
    });
  const keepsSchedule = purchase.processor !== 'paypal';

  const statuses = agreeingStatuses(purchase);
  if (statuses && !statuses.includes(processor.status)) drift('status', purchase.status, processor.status);
  const ended = processor.status === 'canceled' || purchase.status === 'canceled';
  if (ended) return items;

  if (keepsSchedule) {
    const ours = ledgerCancelAt(purchase);
    if (!sameInstant(ours, processor.cancelAt)) drift('cancelAt', ours, processor.cancelAt);
  }
  // A processor that does not say (a PayPal subscription between cycles) is not a disagreement.
  if (processor.currentPeriodEnd !== null && !sameInstant(purchase.currentPeriodEnd, processor.currentPeriodEnd)) {
    drift('currentPeriodEnd', purchase.currentPeriodEnd, processor.currentPeriodEnd);
  }
  if (keepsSchedule && purchase.status === 'paused' && processor.status === 'paused') {
    const ours = purchase.pause?.resumesAt ?? null;
    if (!sameInstant(ours, processor.resumesAt)) drift('pause.resumesAt', ours, processor.resumesAt);
  }
  return items;
}

/** The processor event id of a job's repair of one purchase: recorded with the repair, so it lands once. */
export function repairEventId(jobId: string, purchaseId: string): string {
  return `reconciliation:${jobId}:${purchaseId}`;
}

/** The history entries' `eventType` of a repair: says why the purchase changed. */
export const REPAIR_EVENT_TYPE = 'membergate.reconciliation';

/**
 * The processor's state as the event a webhook would have delivered: applied by the webhook's own rules
 * (applyProcessorEvent), so a repair gives exactly what the missed webhook would have. `readAt` (when the
 * processor was read) orders it against webhooks: one the processor produced later wins (`processorSyncedAt`).
 */
export function repairEvent(
  purchase: Purchase,
  state: SubscriptionState,
  jobId: string,
  readAt: Instant,
): ProcessorEvent {
  if (purchase.processor === 'none' || !purchase.processorSubscriptionId) {
    throw new Error(`purchase ${purchase.purchaseId} has no processor subscription to repair from`);
  }
  return {
    processor: purchase.processor,
    eventId: repairEventId(jobId, purchase.purchaseId),
    type: REPAIR_EVENT_TYPE,
    occurredAt: readAt,
    subscriptionId: purchase.processorSubscriptionId,
    account: purchase.processorAccount ?? null,
    siteId: purchase.siteId,
    link: null,
    subscription: state,
    payment: null,
    jobId,
  };
}

// ---- the job ------------------------------------------------------------------------------------------------

/**
 * How many reconciliation pages run at once across the deployment (the worker's SQS `maxConcurrency`): the
 * processors' read budget is shared among them (shared/adapters/processor-throttle.ts).
 */
export const RECONCILIATION_WORKER_MAX_CONCURRENCY = 2;

/** Purchases read per page (one queue message): at 25 reads/s (Stripe test mode) a page takes ~4 s. */
export const RECONCILIATION_PAGE_SIZE = 100;
/** The job item keeps the first failures and skips only; the counters count them all. */
export const MAX_LISTED_PROBLEMS = 100;

export interface ReconciliationProblem {
  purchaseId: string;
  reason: string;
}

/** A job's counters are its pages' tallies summed. */
export interface ReconciliationJob extends QueuedJob, ReconciliationTally {
  /** The processor asked for; null: every processor-linked purchase. */
  processor: ReconciledProcessor | null;
  repair: boolean;
}

/**
 * One page of a job: where the walk over the site's purchases stands when the page starts (`encodeWalkCursor`;
 * null: at the beginning), its purchases fixed by the first delivery.
 */
export interface ReconciliationPage extends QueuedPage {
  cursor: string | null;
}

/**
 * Where a job's walk stands: the offer it is in (offers in id order) and that offer's by-offer cursor (null: at
 * the offer's first purchase). Neither the offer nor the by-offer order (`<createdAt>#<purchaseId>`) of a
 * purchase changes with its status, so a purchase never moves behind the walk.
 */
export interface WalkPosition {
  offerId: string;
  cursor: string | null;
}

/** A page cursor the job did not write: the page fails (and is redelivered, then dead-lettered), never skipped. */
export class ReconciliationCursorError extends Error {
  constructor(jobId: string) {
    super(`the page cursor of reconciliation ${jobId} is not one it wrote`);
    this.name = 'ReconciliationCursorError';
  }
}

/**
 * A page cursor, opaque to everyone but the job: the position, bound to the job that wrote it. Only the worker
 * ever writes one (on the next page's item), so it is not signed; the inner cursor is the store's own, which
 * binds it to its site and offer and refuses any other.
 */
export function encodeWalkCursor(jobId: string, position: WalkPosition): string {
  return Buffer.from(JSON.stringify({ job: jobId, offer: position.offerId, at: position.cursor })).toString(
    'base64url',
  );
}

/** The position a page cursor holds; anything but a cursor this job wrote throws `ReconciliationCursorError`. */
export function decodeWalkCursor(jobId: string, cursor: string): WalkPosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ReconciliationCursorError(jobId);
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw new ReconciliationCursorError(jobId);
  }
  const { job, offer, at, ...rest } = decoded as Record<string, unknown>;
  const wellFormed =
    job === jobId &&
    isId(offer) &&
    (at === null || (typeof at === 'string' && at !== '')) &&
    Object.keys(rest).length === 0;
  if (!wellFormed) throw new ReconciliationCursorError(jobId);
  return { offerId: offer as string, cursor: at as string | null };
}

/** What a job found for one purchase: written once, before any repair, so a redelivery reports the same. */
export interface ReconciliationMarker {
  siteId: string;
  jobId: string;
  purchaseId: string;
  /**
   * The page that decided it: a page counts only its own markers, so a redelivered page, or a purchase read by
   * two pages (which the walk by offer never does, but the count does not depend on it), counts once.
   */
  page: number;
  outcome: 'in_sync' | 'drifted' | 'skipped' | 'failed';
  items: DriftItem[];
  repaired: boolean;
  /** Why a repair was not applied, or why the purchase was skipped or failed. */
  reason: string | null;
  at: Instant;
}

export interface ReconciliationTally {
  checked: number;
  drifted: number;
  repaired: number;
  /** Linked purchases that could not be read (no account to act on, processor has no such subscription…). */
  skipped: number;
  failed: number;
  problems: ReconciliationProblem[];
}

/** Who may start one: an admin or support. Automation may read reports (a repair writes to many purchases). */
export function assertMayReconcile(actor: Actor): void {
  assertMayStartJob(actor, 'start a reconciliation');
}

export function reconciliationFingerprint(processor: ReconciledProcessor | null, repair: boolean): string {
  return createHash('sha256')
    .update(JSON.stringify({ operation: 'reconcile', processor, repair }))
    .digest('base64url');
}

export function newReconciliation(input: {
  jobId: string;
  siteId: string;
  processor: ReconciledProcessor | null;
  repair: boolean;
  requestedBy: Actor;
  at: Instant;
}): ReconciliationJob {
  return {
    jobId: input.jobId,
    siteId: input.siteId,
    processor: input.processor,
    repair: input.repair,
    checked: 0,
    drifted: 0,
    repaired: 0,
    skipped: 0,
    failed: 0,
    problems: [],
    ...queuedJobStart(input.requestedBy, input.at, null),
  };
}

/** Whether a purchase is one this job reconciles: linked to a subscription of a processor it covers. */
export function isReconciled(purchase: Purchase, processor: ReconciledProcessor | null): boolean {
  if (!purchase.processorSubscriptionId) return false;
  const covered = processor ? RECONCILED_PROCESSORS[processor] : [...RECONCILED_PROCESSORS.stripe, 'paypal'];
  return covered.includes(purchase.processor);
}

/** A page's counts from the markers it decided (a marker decided by another page is that page's). */
export function tallyReconciliation(markers: readonly ReconciliationMarker[], page: number, listed: number) {
  const tally: ReconciliationTally = { checked: 0, drifted: 0, repaired: 0, skipped: 0, failed: 0, problems: [] };
  for (const marker of markers) {
    if (marker.page !== page) continue;
    if (marker.outcome === 'skipped' || marker.outcome === 'failed') {
      tally[marker.outcome] += 1;
      if (listed + tally.problems.length < MAX_LISTED_PROBLEMS) {
        tally.problems.push({ purchaseId: marker.purchaseId, reason: marker.reason ?? marker.outcome });
      }
      continue;
    }
    tally.checked += 1;
    if (marker.outcome === 'drifted') tally.drifted += 1;
    if (marker.repaired) tally.repaired += 1;
  }
  return tally;
}

/** The report of §2.1: the job, and one page of its drift items (`nextCursor` for the rest). */
export function reconciliationView(
  job: ReconciliationJob,
  items: { items: DriftItem[]; nextCursor: string | null } | null,
) {
  return {
    jobId: job.jobId,
    siteId: job.siteId,
    status: job.status,
    processor: job.processor,
    repair: job.repair,
    checked: job.checked,
    drifted: job.drifted,
    repaired: job.repaired,
    skipped: job.skipped,
    failed: job.failed,
    problems: job.problems,
    requestedBy: job.requestedBy,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    ...(job.error ? { error: job.error } : {}),
    ...(items ? { items: items.items, nextCursor: items.nextCursor } : {}),
  };
}
export type ReconciliationView = ReturnType<typeof reconciliationView>;
