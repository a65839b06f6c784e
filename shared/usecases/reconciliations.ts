import { isRecurring } from '../domain/billing.ts';
import type { JobMessage } from '../domain/bulk-jobs.ts';
import {
  ConcurrentModificationError,
  DuplicateProcessorEventError,
  IdempotencyKeyReusedError,
  SiteResourceNotFoundError,
} from '../domain/errors.ts';
import { ACCOUNT_SETTING, connectedAccount, requireConnectedAccount } from '../domain/processor-accounts.ts';
import type { SubscriptionState } from '../domain/processor-events.ts';
import {
  assertMayReconcile,
  compareSubscription,
  type DriftItem,
  decodeWalkCursor,
  encodeWalkCursor,
  isReconciled,
  newReconciliation,
  RECONCILIATION_PAGE_SIZE,
  type ReconciledProcessor,
  type ReconciliationJob,
  type ReconciliationMarker,
  type ReconciliationPage,
  type ReconciliationView,
  reconciliationFingerprint,
  reconciliationView,
  repairEvent,
  tallyReconciliation,
  type WalkPosition,
} from '../domain/reconciliation.ts';
import { toInstant } from '../domain/time.ts';
import type { Actor, Purchase, SiteSettings } from '../domain/types.ts';
import type { JobQueue } from '../ports/bulk-jobs.ts';
import { ProcessorError, type ProcessorThrottle } from '../ports/processor.ts';
import type { Page } from '../ports/purchases.ts';
import type { ReconciliationStore } from '../ports/reconciliations.ts';
import type { StartResult } from './bulk-revocations.ts';
import type { Dependencies } from './deps.ts';
import { openJobPage } from './job-pages.ts';
import { mapLimit } from './map-limit.ts';
import { retryOnConflict } from './retry.ts';
import { applyToPurchase } from './webhooks.ts';

/** What the reconciliation use cases receive: the usual dependencies, the job store, the page queue, the pacing. */
export interface ReconciliationDeps extends Dependencies {
  reconciliations: ReconciliationStore;
  reconciliationQueue: JobQueue;
  /** Reads at the processors go through this: their published rate limits, 429s retried (processor-throttle.ts). */
  throttle: ProcessorThrottle;
}

/** Purchases of one page read at once; the throttle paces them to the processor's rate whatever this is. */
export const READ_CONCURRENCY = 4;

/** Offers read from the catalog at once while walking it (a site has few; one small Query usually reads all). */
export const OFFERS_PER_READ = 25;

export interface ReconciliationInput {
  processor?: ReconciledProcessor | undefined;
  repair?: boolean | undefined;
}

/**
 * Use case card: start a reconciliation (DESIGN.md §2.1). In: `{processor?, repair?}`, an optional
 * Idempotency-Key. Out: 202 `{jobId}`; the worker reads the processors page by page.
 * Admins and support only (`assertMayReconcile`). A site that asks for one processor without having connected
 * its account (rule 17) gets 409 naming the setting, as billing through it would: nothing could be read. Asked
 * for every processor, the job reads what it can and lists each purchase it could not act on as `skipped`.
 */
export async function startReconciliation(
  deps: ReconciliationDeps,
  siteId: string,
  input: ReconciliationInput,
  idempotencyKey: string | null,
  actor: Actor,
  now: Date,
): Promise<StartResult> {
  assertMayReconcile(actor);
  const processor = input.processor ?? null;
  const repair = input.repair ?? false;
  if (processor) requireConnectedAccount(await deps.catalog.getSettings(siteId), processor);
  const fingerprint = reconciliationFingerprint(processor, repair);
  if (idempotencyKey) {
    const earlier = await deps.reconciliations.findIdempotentJob(siteId, idempotencyKey);
    if (earlier) return replayed(deps, siteId, idempotencyKey, earlier, fingerprint);
  }
  const jobId = deps.newId('rec');
  const job = newReconciliation({ jobId, siteId, processor, repair, requestedBy: actor, at: toInstant(now) });
  const first: ReconciliationPage = {
    siteId,
    jobId,
    page: 0,
    cursor: null,
    purchaseIds: null,
    last: false,
    counted: false,
  };
  const earlier = await deps.reconciliations.createJob(
    job,
    first,
    idempotencyKey ? { key: idempotencyKey, fingerprint } : null,
  );
  if (earlier) return replayed(deps, siteId, idempotencyKey!, earlier, fingerprint);
  await deps.reconciliationQueue.send({ siteId, jobId, page: 0 });
  return { statusCode: 202, body: { jobId }, replayed: false };
}

/** The earlier job of a key; still queued, its first page is sent again (the first request may have died). */
async function replayed(
  deps: ReconciliationDeps,
  siteId: string,
  key: string,
  earlier: { jobId: string; fingerprint: string },
  fingerprint: string,
): Promise<StartResult> {
  if (earlier.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError(key);
  const job = await deps.reconciliations.getJob(siteId, earlier.jobId);
  if (job?.status === 'queued') await deps.reconciliationQueue.send({ siteId, jobId: earlier.jobId, page: 0 });
  return { statusCode: 202, body: { jobId: earlier.jobId }, replayed: true };
}

/**
 * Use case card: the report of §2.1. Counters move while the job runs. `items` is paginated (`limit` purchases'
 * drift per page, each purchase's fields together, by purchase id; `nextCursor` for the rest), so a site with
 * 100 000 drifted purchases still answers in one small read.
 */
export async function getReconciliation(
  deps: Pick<ReconciliationDeps, 'reconciliations'>,
  siteId: string,
  jobId: string,
  limit: number,
  cursor: string | null,
): Promise<ReconciliationView> {
  const job = await deps.reconciliations.getJob(siteId, jobId);
  if (!job) throw new SiteResourceNotFoundError(`reconciliation ${jobId} not found`);
  const page = await deps.reconciliations.listDrift(siteId, jobId, limit, cursor);
  return reconciliationView(job, { items: page.items.flat(), nextCursor: page.nextCursor });
}

/** Use case card: a site's recent reconciliations, newest first, paginated (counters only, no items). */
export async function listReconciliations(
  deps: Pick<ReconciliationDeps, 'reconciliations'>,
  siteId: string,
  limit: number,
  cursor: string | null,
): Promise<Page<ReconciliationView>> {
  const page = await deps.reconciliations.listJobs(siteId, limit, cursor);
  return { items: page.items.map((job) => reconciliationView(job, null)), nextCursor: page.nextCursor };
}

/** What a page run came to; a counted page says how its purchases ended (the worker's progress metric). */
export type ReconciliationPageResult =
  | 'unknown_job'
  | 'finished'
  | 'already_counted'
  | { counted: { in_sync: number; drifted: number; repaired: number; skipped: number; failed: number } };

/**
 * Use case card: the worker's step, one page per queue message (at least once), shaped as bulk jobs' pages.
 * 1. The page's purchases are fixed by the first delivery (`readWalkPage`: the site's offers in id order, each
 *    offer's purchases from the by-offer index, `gsi1`), with the next page in the same write; the next page is
 *    queued before this one is worked.
 * 2. Each processor-linked purchase is read at its processor (paced, 429s retried) and compared; what was found
 *    is written once as the purchase's marker, before any repair, so a redelivery reports the same.
 * 3. With `repair`, a drifted purchase gets the processor's state through the webhook's own path, with an event
 *    id of the job and purchase recorded in the same transaction: it lands once, however often the page runs.
 * 4. The page's markers are tallied into the job's counters once (the page's `counted` flag).
 */
export async function runReconciliationPage(
  deps: ReconciliationDeps,
  message: JobMessage,
  now: Date,
): Promise<ReconciliationPageResult> {
  const { siteId, jobId } = message;
  const at = toInstant(now);
  const opened = await openJobPage(deps.reconciliations, message, at);
  if (typeof opened === 'string') return opened;
  const { job } = opened;
  let page = opened.page;

  if (page.purchaseIds === null) {
    const found = await readWalkPage(deps, job, page.cursor);
    // The by-offer index holds every purchase; the subscriptions and payment plans are what a processor bills.
    const linked = found.items.filter((purchase) => isRecurring(purchase) && isReconciled(purchase, job.processor));
    const resolved: ReconciliationPage = {
      ...page,
      purchaseIds: linked.map((purchase) => purchase.purchaseId),
      last: found.nextCursor === null,
    };
    const next: ReconciliationPage | null = found.nextCursor
      ? { siteId, jobId, page: page.page + 1, cursor: found.nextCursor, purchaseIds: null, last: false, counted: false }
      : null;
    page = await deps.reconciliations.resolvePage(resolved, next);
  }
  if (!page.last) await deps.reconciliationQueue.send({ siteId, jobId, page: page.page + 1 });

  const settings = await deps.catalog.getSettings(siteId);
  const pageNumber = page.page;
  const markers = await mapLimit(page.purchaseIds ?? [], READ_CONCURRENCY, (purchaseId) =>
    reconcilePurchase(deps, job, pageNumber, purchaseId, settings, now),
  );
  const tally = tallyReconciliation(markers, pageNumber, job.problems.length);
  await deps.reconciliations.countPage(siteId, jobId, pageNumber, tally);
  await deps.reconciliations.completeIfCounted(siteId, jobId, at);
  // One outcome per purchase: drifted ones are either repaired or left drifted.
  return {
    counted: {
      in_sync: tally.checked - tally.drifted,
      drifted: tally.drifted - tally.repaired,
      repaired: tally.repaired,
      skipped: tally.skipped,
      failed: tally.failed,
    },
  };
}

/**
 * The purchases of one page: the next `RECONCILIATION_PAGE_SIZE` of the site's purchases (every kind: the
 * caller keeps the linked ones) from where `cursor` says the walk stands, and the cursor of the next page (null:
 * the walk is done). The walk goes through the site's offers in id order, archived ones included (their
 * purchases still bill), and through each offer's purchases in the by-offer index (`<createdAt>#<purchaseId>`),
 * as bulk revocations page. Neither key changes with a purchase's status, and a purchase keeps its offer and
 * creation time, so a status change while the job runs moves nothing: every purchase that existed when the job
 * started is read exactly once (every purchase's offer exists, since a grant needs it, and offers are archived,
 * never deleted). What was created after the start may or may not be read: a purchase is read if the walk has
 * not yet passed its offer; an offer created meanwhile is read if its id sorts after the offer the walk stands
 * on, not otherwise.
 */
async function readWalkPage(
  deps: ReconciliationDeps,
  job: ReconciliationJob,
  cursor: string | null,
): Promise<Page<Purchase>> {
  const nextOffer = offerWalk(deps, job.siteId);
  let position: WalkPosition | null;
  if (cursor === null) {
    const first = await nextOffer(null);
    position = first === null ? null : { offerId: first, cursor: null };
  } else {
    position = decodeWalkCursor(job.jobId, cursor);
  }
  const items: Purchase[] = [];
  while (position !== null) {
    if (items.length >= RECONCILIATION_PAGE_SIZE) return { items, nextCursor: encodeWalkCursor(job.jobId, position) };
    const { offerId } = position;
    const found = await deps.purchases.listPurchasesByOffer(
      job.siteId,
      offerId,
      RECONCILIATION_PAGE_SIZE - items.length,
      position.cursor,
    );
    items.push(...found.items);
    if (found.nextCursor !== null) {
      position = { offerId, cursor: found.nextCursor };
      continue;
    }
    const following = await nextOffer(offerId);
    position = following === null ? null : { offerId: following, cursor: null };
  }
  return { items, nextCursor: null };
}

/** The offer after a given one (null: the first), read from the catalog `OFFERS_PER_READ` at a time. */
function offerWalk(deps: ReconciliationDeps, siteId: string) {
  let ahead: string[] = [];
  let exhausted = false;
  return async (after: string | null): Promise<string | null> => {
    if (ahead.length === 0 && !exhausted) {
      const offers = await deps.catalog.listOffers(siteId, after, OFFERS_PER_READ);
      ahead = offers.map((offer) => offer.offerId);
      exhausted = offers.length < OFFERS_PER_READ;
    }
    return ahead.shift() ?? null;
  };
}

/** One purchase: read at the processor, compared, its marker written once, repaired when asked. */
async function reconcilePurchase(
  deps: ReconciliationDeps,
  job: ReconciliationJob,
  page: number,
  purchaseId: string,
  settings: SiteSettings,
  now: Date,
): Promise<ReconciliationMarker> {
  const base = {
    siteId: job.siteId,
    jobId: job.jobId,
    purchaseId,
    page,
    items: [],
    repaired: false,
    at: toInstant(now),
  };
  const settle = async (marker: ReconciliationMarker) => (await deps.reconciliations.putMarker(marker)) ?? marker;
  // Read again, strongly consistent: the index the page came from may lag, and drift is judged on the latest.
  const purchase = await deps.purchases.getPurchase(job.siteId, purchaseId);
  if (!purchase) return settle({ ...base, outcome: 'skipped', reason: 'the purchase no longer exists' });
  // Purchases linked before accounts were recorded act on the site's connected account (rule 17).
  const account = purchase.processorAccount ?? connectedAccount(settings, purchase.processor);
  if ((purchase.processor === 'stripe' || purchase.processor === 'paypal') && !account) {
    const setting = ACCOUNT_SETTING[purchase.processor];
    return settle({
      ...base,
      outcome: 'skipped',
      reason: `the site has no ${purchase.processor} account connected (${setting}): the subscription cannot be read`,
    });
  }
  const onAccount: Purchase = { ...purchase, processorAccount: account };
  const readAt = toInstant(deps.clock());
  let state: SubscriptionState | null;
  try {
    state = await deps.throttle.read(purchase.processor, () =>
      deps.processors[purchase.processor].fetchSubscription(onAccount),
    );
  } catch (error) {
    // A refusal that a retry will not cure (a 4xx other than 429) fails this purchase; anything else the page.
    if (error instanceof ProcessorError && error.rejectsRequest) {
      return settle({ ...base, outcome: 'failed', reason: error.message });
    }
    throw error;
  }
  const items: DriftItem[] = state
    ? compareSubscription(purchase, state)
    : [
        {
          purchaseId,
          processorSubscriptionId: purchase.processorSubscriptionId ?? '',
          field: 'status',
          ledger: purchase.status,
          processor: null,
        },
      ];
  const stored = await settle({
    ...base,
    outcome: items.length > 0 ? 'drifted' : 'in_sync',
    items,
    reason: state ? null : 'the processor has no such subscription on this account',
  });
  if (stored.outcome !== 'drifted' || !job.repair || stored.repaired || !state) return stored;
  const result = await repair(deps, job, onAccount, state, readAt, now);
  await deps.reconciliations.settleRepair(job.siteId, job.jobId, purchaseId, result.repaired, result.reason);
  return { ...stored, repaired: result.repaired, reason: result.reason };
}

/**
 * The processor's state applied through the webhook's own path. Re-checked first: a purchase changed after the
 * processor was read (an admin's cancel, a webhook) is left alone, since the state read may be older than that
 * change; the next reconciliation compares again. A stale read at write time (the version condition) re-reads.
 */
async function repair(
  deps: ReconciliationDeps,
  job: ReconciliationJob,
  compared: Purchase,
  state: SubscriptionState,
  readAt: string,
  now: Date,
): Promise<{ repaired: boolean; reason: string | null }> {
  const event = repairEvent(compared, state, job.jobId, readAt);
  try {
    return await retryOnConflict(async () => {
      const current = await deps.purchases.getPurchase(compared.siteId, compared.purchaseId);
      if (!current) return { repaired: false, reason: 'the purchase no longer exists' };
      if (current.version !== compared.version && current.updatedAt > readAt) {
        return { repaired: false, reason: 'the purchase changed after the processor was read; not repaired' };
      }
      const outcome = await applyToPurchase(deps, current, event, now);
      switch (outcome.outcome) {
        case 'applied':
        case 'created':
        case 'duplicate':
          return { repaired: true, reason: null };
        case 'unchanged':
          return {
            repaired: false,
            reason: 'the webhook rules leave the purchase as it is (a newer processor state, or a canceled purchase)',
          };
        case 'ignored':
          return { repaired: false, reason: outcome.reason };
      }
    });
  } catch (error) {
    // The repair's event was recorded by an earlier delivery of this page: it landed then.
    if (error instanceof DuplicateProcessorEventError) return { repaired: true, reason: null };
    if (error instanceof ConcurrentModificationError) {
      return { repaired: false, reason: 'the purchase kept changing; not repaired' };
    }
    throw error;
  }
}
