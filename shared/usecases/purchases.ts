import { ConflictError, InvalidInputError } from '../domain/errors.ts';
import type { DomainEvent } from '../domain/events.ts';
import { grantOffer, type JobContext, resumeAccess, revokeAccess } from '../domain/grants.ts';
import { linkedPurchaseId } from '../domain/ids.ts';
import { billsThroughSiteAccount, requireConnectedAccount } from '../domain/processor-accounts.ts';
import type { Actor, HistoryEntry, Processor, Purchase, PurchaseChange, PurchaseStatus } from '../domain/types.ts';
import type { EventFilter, Page, SaveOptions } from '../ports/purchases.ts';
import type { Dependencies } from './deps.ts';
import { loadPurchase } from './load.ts';
import { retryOnConflict } from './retry.ts';
import { syncTimers } from './timers.ts';
import { type PurchaseView, purchaseView } from './views.ts';

export interface GrantRequest {
  customerId: string;
  offerId: string;
  processor: Processor;
  processorSubscriptionId?: string | null | undefined;
  currentPeriodEnd?: string | null | undefined;
}

/**
 * Use case card: grant an offer (manual grant or import).
 * In: site, customer id, offer id, optional processor link. Out: the new purchase (201).
 * Refuses unknown customers and offers (400 naming the field) and archived offers (409).
 */
export async function grantOfferToCustomer(
  deps: Dependencies,
  siteId: string,
  request: GrantRequest,
  actor: Actor,
  now: Date,
): Promise<PurchaseView> {
  const [customer, offer] = await Promise.all([
    deps.catalog.getCustomer(siteId, request.customerId),
    deps.catalog.getOffer(siteId, request.offerId),
  ]);
  const problems = [
    ...(customer ? [] : [{ field: 'customerId', message: `customer ${request.customerId} does not exist` }]),
    ...(offer ? [] : [{ field: 'offerId', message: `offer ${request.offerId} does not exist` }]),
  ];
  if (problems.length > 0 || !customer || !offer) {
    throw new InvalidInputError(problems.map((p) => p.message).join('; '), problems);
  }
  if (offer.archivedAt) throw new ConflictError(`offer ${offer.offerId} is archived and cannot be granted`);
  if (request.processor !== 'none' && !request.processorSubscriptionId && offer.price.type === 'subscription') {
    throw new InvalidInputError('a processor subscription needs its id', [
      { field: 'processorSubscriptionId', message: `required when processor is ${request.processor}` },
    ]);
  }
  // Without a processor nothing bills, so a subscription id would link webhooks to a purchase no processor owns.
  if (request.processor === 'none' && request.processorSubscriptionId) {
    throw new InvalidInputError('a purchase without a processor has no processor subscription', [
      { field: 'processorSubscriptionId', message: 'only with processor stripe, paypal or native' },
    ]);
  }
  if (request.currentPeriodEnd && Date.parse(request.currentPeriodEnd) <= now.getTime()) {
    throw new InvalidInputError('currentPeriodEnd must be in the future', [
      { field: 'currentPeriodEnd', message: 'must be in the future' },
    ]);
  }
  // The site's settings matter only for an accessDays offer (its calendar days, rule 15) or a purchase billed
  // through the site's own processor account (rule 17); otherwise they are not worth a read.
  const settings =
    offer.accessDays !== null || billsThroughSiteAccount(request.processor)
      ? await deps.catalog.getSettings(siteId)
      : null;
  const processorAccount = settings ? requireConnectedAccount(settings, request.processor) : null;
  const subscriptionId = request.processorSubscriptionId ?? null;
  const change = grantOffer({
    // A processor subscription's purchase has an id derived from it, so its webhooks read it in one GetItem.
    purchaseId:
      request.processor !== 'none' && subscriptionId
        ? linkedPurchaseId(request.processor, subscriptionId)
        : deps.newId('pur'),
    customer,
    offer,
    processorAccount,
    ...(settings ? { timezone: settings.timezone } : {}),
    processor: request.processor,
    processorSubscriptionId: request.processorSubscriptionId ?? null,
    currentPeriodEnd: request.currentPeriodEnd ?? null,
    actor,
    now,
  });
  await deps.purchases.createPurchase(change);
  await syncTimers(deps.scheduler, null, change.purchase);
  return purchaseView(change.purchase);
}

export async function getPurchase(deps: Dependencies, siteId: string, purchaseId: string): Promise<PurchaseView> {
  return purchaseView(await loadPurchase(deps, siteId, purchaseId));
}

export async function getHistory(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
): Promise<{ items: HistoryEntry[] }> {
  await loadPurchase(deps, siteId, purchaseId);
  return { items: await deps.purchases.listHistory(siteId, purchaseId) };
}

/**
 * Optimistic concurrency for every purchase change: read, decide with a pure rule, write conditioned on
 * the version read. When another request won the race the rule is applied again to the fresh state, so
 * two concurrent changes both land (neither is lost) and a rule never acts on a state it did not see.
 * `decide` returns null when the state already is what was asked (an idempotent no-op).
 */
export async function changePurchase(
  deps: Pick<Dependencies, 'purchases'>,
  siteId: string,
  purchaseId: string,
  decide: (purchase: Purchase) => PurchaseChange | null,
  allowedFrom?: readonly PurchaseStatus[],
  options: ChangeOptions = {},
): Promise<{ before: Purchase; after: Purchase }> {
  return retryOnConflict(async (attempt) => {
    let current = attempt === 1 && options.known ? options.known : await loadPurchase(deps, siteId, purchaseId);
    let change = decide(current);
    // A copy from a list may be stale: "nothing to do" is only believed from a strongly consistent read.
    if (!change && current === options.known) {
      current = await loadPurchase(deps, siteId, purchaseId);
      change = decide(current);
    }
    if (!change) return { before: current, after: current };
    await deps.purchases.savePurchase(change, current.version, {
      allowedFrom,
      before: current,
      ...options.save?.(change),
    });
    return { before: current, after: change.purchase };
  });
}

/** What a caller of `changePurchase` may add: a copy already in hand, and what goes into the same write. */
export interface ChangeOptions {
  /**
   * The purchase as a list read it (a bulk job's page): the first attempt decides on it and writes conditioned
   * on its version, so a stale copy costs a retry with a fresh read, never a wrong write.
   */
  known?: Purchase | undefined;
  /** Extra parts of the change's transaction, given the change (a bulk job's marker). */
  save?: ((change: PurchaseChange) => SaveOptions) | undefined;
}

const ACCESS_RULES = { revoke: revokeAccess, resume: resumeAccess } as const;
export type AccessChange = keyof typeof ACCESS_RULES;

/**
 * Use case card: revoke or resume product access (rules 1–3). Per product or all (`productIds` absent);
 * billing is never touched. Revoking every grant also retires an access-period timer; resuming re-arms it.
 */
export async function changeAccess(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  change: AccessChange,
  productIds: string[] | undefined,
  actor: Actor,
  now: Date,
): Promise<PurchaseView> {
  const { after } = await applyAccessChange(deps, siteId, purchaseId, change, productIds, actor, now);
  return purchaseView(after);
}

/** A bulk job's part in an access change (rule 13): its ids, and its marker written in the same transaction. */
export interface AccessJob extends JobContext {
  known?: Purchase | undefined;
  save?: ChangeOptions['save'];
}

/**
 * The revoke/resume use case itself, for one purchase: what `changeAccess` answers over HTTP and what a bulk
 * job runs per purchase, so N job revocations are indistinguishable from N single revokes (same rule, same
 * transaction, same label, same event), the job's id added to the history entry's details.
 */
export async function applyAccessChange(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  change: AccessChange,
  /** Absent: every product; a function: chosen on the state being decided on (an undo's eligible grants). */
  productIds: string[] | undefined | ((purchase: Purchase) => string[]),
  actor: Actor,
  now: Date,
  job?: AccessJob,
): Promise<{ before: Purchase; after: Purchase }> {
  const rule = ACCESS_RULES[change];
  const context: JobContext | undefined = job ? { jobId: job.jobId, undoOf: job.undoOf ?? null } : undefined;
  const result = await changePurchase(
    deps,
    siteId,
    purchaseId,
    (p) => rule(p, typeof productIds === 'function' ? productIds(p) : productIds, actor, now, context),
    undefined,
    { known: job?.known, save: job?.save },
  );
  if (result.before !== result.after) await syncTimers(deps.scheduler, result.before, result.after);
  return result;
}

/**
 * Use case card: the site's domain events for polling consumers (DESIGN.md §5), oldest first, paginated;
 * `nextCursor` is passed back as `after`. With `purchaseId`, that purchase's events in sequence order.
 */
export async function listEvents(
  deps: Pick<Dependencies, 'purchases'>,
  siteId: string,
  filter: EventFilter,
  limit: number,
  after: string | null,
): Promise<Page<DomainEvent>> {
  try {
    return await deps.purchases.listEvents(siteId, filter, limit, after);
  } catch (error) {
    // The store names the cursor `cursor`; this list takes it as `after`.
    if (error instanceof InvalidInputError && error.details[0]?.field === 'cursor') {
      throw new InvalidInputError('after is not a cursor of this list', [
        { field: 'after', message: 'not a nextCursor returned by this list with these filters' },
      ]);
    }
    throw error;
  }
}
