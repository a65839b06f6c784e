import { InvalidInputError } from './errors.ts';
import { revokedLabel } from './labels.ts';
import { addLocalDays } from './local-time.ts';
import { boundary } from './periods.ts';
import { toInstant } from './time.ts';
import type { Actor, Customer, Grant, HistoryEntry, Offer, Processor, Purchase, PurchaseChange } from './types.ts';

export interface GrantOfferInput {
  purchaseId: string;
  customer: Pick<Customer, 'siteId' | 'customerId'>;
  offer: Offer;
  processor: Processor;
  processorSubscriptionId: string | null;
  /** The account the subscription lives in (rule 17; see processor-accounts.ts). @default null */
  processorAccount?: string | null;
  currentPeriodEnd: string | null;
  actor: Actor;
  now: Date;
  /** The site's time zone: `accessDays` counts its calendar days (rule 15). @default 'UTC' */
  timezone?: string;
}

/**
 * Use case card: grant an offer.
 * In: the offer as it is now, the customer, the actor. Out: a new purchase with one active grant per
 * product of the offer (copied now, so later offer edits never change what this customer holds) and a
 * `purchase.granted` history entry. Rule 10: an offer with `accessDays` fixes `accessEndsAt` at purchase.
 */
export function grantOffer(input: GrantOfferInput): PurchaseChange {
  const { offer, now } = input;
  const at = toInstant(now);
  const accessEndsAt = offer.accessDays === null ? null : addLocalDays(at, offer.accessDays, input.timezone ?? 'UTC');
  const price = offer.price;
  const recurring = price.type === 'subscription' || price.type === 'payment_plan';
  const purchase: Purchase = {
    purchaseId: input.purchaseId,
    siteId: input.customer.siteId,
    customerId: input.customer.customerId,
    offerId: offer.offerId,
    processor: input.processor,
    processorSubscriptionId: input.processorSubscriptionId,
    processorAccount: input.processorAccount ?? null,
    kind: price.type,
    price,
    status: 'active',
    currentPeriodStart: recurring ? at : null,
    // Billing recorded here (no processor): the first period runs one cycle from purchase. A processor's
    // period comes from the import or, later, from its webhooks.
    currentPeriodEnd: recurring
      ? (input.currentPeriodEnd ?? (input.processor === 'none' ? boundary(at, price, 1) : null))
      : null,
    installments: price.type === 'payment_plan' ? { paid: 1, total: price.installments } : null,
    cancellation: null,
    pause: null,
    accessPeriodEndsAt: accessEndsAt,
    accessEndsAt,
    products: offer.productIds.map((productId) => ({
      productId,
      access: 'active',
      revokedAt: null,
      revokedBy: null,
      label: null,
    })),
    refunds: [],
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  const entry: HistoryEntry = {
    at,
    type: 'purchase.granted',
    actor: input.actor,
    details: { offerId: offer.offerId, productIds: offer.productIds, accessEndsAt: purchase.accessEndsAt },
  };
  return { purchase, history: [entry] };
}

/** Resolves `productIds` (absent = every product of the purchase); an id the purchase lacks is a 400 naming it. */
export function selectGrants(purchase: Purchase, productIds: string[] | undefined): string[] {
  if (productIds === undefined) return purchase.products.map((g) => g.productId);
  const held = new Set(purchase.products.map((g) => g.productId));
  const problems = productIds.flatMap((productId, index) =>
    held.has(productId)
      ? []
      : [{ field: `productIds[${index}]`, message: `product ${productId} is not part of this purchase` }],
  );
  if (problems.length > 0) {
    throw new InvalidInputError(problems.map((p) => p.message).join('; '), problems);
  }
  return [...new Set(productIds)];
}

/** The bulk job a revoke or resume is part of (rule 13): its id goes on the grants and into the history entry. */
export interface JobContext {
  jobId: string;
  /** An undo job names the job it reverts. */
  undoOf?: string | null;
}

/** A job's ids in a history entry's details (and so in its event); nothing for a single revoke. */
function jobDetails(job: JobContext | undefined): Record<string, string> {
  if (!job) return {};
  return job.undoOf ? { jobId: job.jobId, undoOf: job.undoOf } : { jobId: job.jobId };
}

function withGrants(purchase: Purchase, products: Grant[], now: Date): Purchase {
  return { ...purchase, products, updatedAt: toInstant(now), version: purchase.version + 1 };
}

/**
 * Use case card: revoke access (rules 1–3).
 * Marks the chosen grants `revoked` with actor, time and label. Billing fields are never touched and nothing
 * is deleted. Grants already revoked keep their original actor; if nothing changes the result is null.
 */
export function revokeAccess(
  purchase: Purchase,
  productIds: string[] | undefined,
  actor: Actor,
  now: Date,
  job?: JobContext,
): PurchaseChange | null {
  const chosen = new Set(selectGrants(purchase, productIds));
  const at = toInstant(now);
  const label = revokedLabel(actor);
  const changed: string[] = [];
  const products = purchase.products.map((grant): Grant => {
    if (!chosen.has(grant.productId) || grant.access === 'revoked') return grant;
    changed.push(grant.productId);
    // Only a job's revocation names its job; a single revoke leaves the field out, so no undo can claim it.
    const { revokedByJob: _earlier, ...rest } = grant;
    return {
      ...rest,
      access: 'revoked',
      revokedAt: at,
      revokedBy: actor,
      label,
      ...(job ? { revokedByJob: job.jobId } : {}),
    };
  });
  if (changed.length === 0) return null;
  return {
    purchase: withGrants(purchase, products, now),
    history: [{ at, type: 'access.revoked', actor, label, details: { productIds: changed, ...jobDetails(job) } }],
  };
}

/** Use case card: resume access (rule 2). Restores revoked grants; billing untouched; null if nothing changes. */
export function resumeAccess(
  purchase: Purchase,
  productIds: string[] | undefined,
  actor: Actor,
  now: Date,
  job?: JobContext,
): PurchaseChange | null {
  const chosen = new Set(selectGrants(purchase, productIds));
  const changed: string[] = [];
  const products = purchase.products.map((grant): Grant => {
    if (!chosen.has(grant.productId) || grant.access === 'active') return grant;
    changed.push(grant.productId);
    const { revokedByJob: _revoked, ...rest } = grant;
    return { ...rest, access: 'active', revokedAt: null, revokedBy: null, label: null };
  });
  if (changed.length === 0) return null;
  return {
    purchase: withGrants(purchase, products, now),
    history: [
      { at: toInstant(now), type: 'access.resumed', actor, details: { productIds: changed, ...jobDetails(job) } },
    ],
  };
}
