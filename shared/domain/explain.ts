import { type AccessReason, type ProductAccess, productAccess } from './access.ts';
import { pendingActions, type TimerPurpose } from './billing.ts';
import type { DomainEvent } from './events.ts';
import { toInstant } from './time.ts';
import type { Actor, Cancellation, HistoryType, Instant, Purchase } from './types.ts';

/**
 * "Why does this customer have access?" (DESIGN.md §2.1 Explain). A pure function of each granting purchase
 * (its stored state and its event log), the product and the instant asked about.
 *
 * - The verdict is `productAccess` (domain/access.ts), the access check's own function, applied to the state
 *   each purchase had at `at`, so explain can never disagree with the access check.
 * - The state at `at` comes from the purchase's event log: every event carries `data.purchase`, the purchase
 *   after its change, so the state at an instant is the snapshot of the last event that occurred at or before
 *   it (several events at one instant: the last in sequence order). No event by then = the purchase did not
 *   exist yet = no grant. When `at` is now or later, the state is the stored purchase itself (the access
 *   check's input) and the answer is that state projected to `at`, exactly as the access check would answer
 *   at a future `now`; timed changes before `at` appear in the verdict, not as facts.
 * - Facts are the events up to `at` that concern the product (see `concerns`); pending are the timed changes
 *   the state at `at` still waits for that lie after `at` (one that lay before `at` is already in the verdict:
 *   access is exact even when a timer fires late, rule 14).
 */

/** Names shared with the `upcoming` calendar (§2.1). */
export type PendingType = 'cancellation_effective' | 'access_period_ends' | 'pause_ends';
const PENDING_TYPE: Record<TimerPurpose, PendingType> = {
  cancellation: 'cancellation_effective',
  access_period: 'access_period_ends',
  pause_end: 'pause_ends',
};

export interface ExplainFact {
  at: Instant;
  type: HistoryType;
  actor: Actor;
  label?: string;
  details: Record<string, unknown>;
}

export interface ExplainedGrant {
  purchaseId: string;
  offerId: string;
  /** The purchase's billing status at `at`. */
  status: Purchase['status'];
  /** This product's grant at `at`. */
  access: 'active' | 'revoked';
  /** The grant's revocation label at `at` (`Revoked by automation` …), null while active. */
  label: string | null;
  accessEndsAt: Instant | null;
  /** The cancellation (pending or effective) the purchase carried at `at`, with its effective time. */
  cancellation: Cancellation | null;
  /** This purchase's own verdict for the product at `at` (the overall verdict is the best of them). */
  hasAccess: boolean;
  until: Instant | null;
  reason: AccessReason;
  facts: ExplainFact[];
}

export interface PendingChange {
  at: Instant;
  type: PendingType;
  purchaseId: string;
}

export interface Explanation extends ProductAccess {
  at: Instant;
  grants: ExplainedGrant[];
  pending: PendingChange[];
}

/** What explain reads of one purchase: its stored state and its events, oldest first (sequence order). */
export interface PurchaseRecord {
  current: Purchase;
  events: DomainEvent[];
}

/** The inputs of `productAccess` and `pendingActions`, which the stored purchase and every event snapshot have. */
type State = Pick<
  Purchase,
  | 'purchaseId'
  | 'offerId'
  | 'status'
  | 'products'
  | 'accessEndsAt'
  | 'accessPeriodEndsAt'
  | 'currentPeriodEnd'
  | 'cancellation'
  | 'pause'
>;

/** Entries that always concern every product of their purchase: they decide when access ends (or not). */
const PURCHASE_WIDE: ReadonlySet<HistoryType> = new Set<HistoryType>([
  'cancellation.requested',
  'cancellation.stopped',
  'cancellation.effective',
  'billing.paused',
  'billing.unpaused',
]);
/** Entries that name the products they changed in `details.productIds`. */
const PER_PRODUCT: ReadonlySet<HistoryType> = new Set<HistoryType>([
  'purchase.granted',
  'access.revoked',
  'access.resumed',
  'access.period_ended',
]);

function grantOf(state: Pick<State, 'products'>, productId: string) {
  return state.products.find((grant) => grant.productId === productId) ?? null;
}

/**
 * Whether an event is one of the facts that decided this product's access: grant, revocations and resumes
 * naming it, the access period's end, every cancellation and pause step; and any other event (billing update,
 * payment, refund) only when it moved what access depends on: status, access end, the grant itself, or (for
 * `billing.updated`) the period end a `period_end` cancellation follows. Renewals and refunds that changed
 * none of that are history, not reasons.
 */
function concerns(event: DomainEvent, before: State | null, productId: string): boolean {
  const after = event.data.purchase;
  if (PER_PRODUCT.has(event.type)) {
    const named = event.data.details.productIds;
    return !Array.isArray(named) || named.includes(productId);
  }
  if (PURCHASE_WIDE.has(event.type)) return true;
  if (!before) return true;
  const moved =
    before.status !== after.status ||
    before.accessEndsAt !== after.accessEndsAt ||
    grantOf(before, productId)?.access !== grantOf(after, productId)?.access;
  if (moved) return true;
  return event.type === 'billing.updated' && before.currentPeriodEnd !== after.currentPeriodEnd;
}

function fact(event: DomainEvent): ExplainFact {
  const entry: ExplainFact = {
    at: event.occurredAt,
    type: event.type,
    actor: event.actor,
    details: event.data.details,
  };
  const label = event.data.label;
  if (label !== undefined) entry.label = label;
  return entry;
}

/** The state of one purchase at `at` and the events up to it; null when the purchase did not exist yet. */
function replay(record: PurchaseRecord, at: Date, now: Date): { state: State; events: DomainEvent[] } | null {
  if (at.getTime() >= now.getTime()) {
    // Now or later: the stored state, and the events it reflects (one written between our two reads is not).
    const events = record.events.filter((event) => event.data.purchase.version <= record.current.version);
    return { state: record.current, events };
  }
  const events = record.events.filter((event) => Date.parse(event.occurredAt) <= at.getTime());
  const last = events.at(-1);
  return last ? { state: last.data.purchase, events } : null;
}

export function explainAccess(records: readonly PurchaseRecord[], productId: string, at: Date, now: Date): Explanation {
  const grants: ExplainedGrant[] = [];
  const states: State[] = [];
  const pending: PendingChange[] = [];
  for (const record of records) {
    const replayed = replay(record, at, now);
    const grant = replayed && grantOf(replayed.state, productId);
    if (!replayed || !grant) continue;
    const { state } = replayed;
    states.push(state);
    const facts: ExplainFact[] = [];
    let before: State | null = null;
    for (const event of replayed.events) {
      if (concerns(event, before, productId)) facts.push(fact(event));
      before = event.data.purchase;
    }
    const verdict = productAccess([state], productId, at);
    grants.push({
      purchaseId: state.purchaseId,
      offerId: state.offerId,
      status: state.status,
      access: grant.access,
      label: grant.label,
      accessEndsAt: state.accessEndsAt,
      cancellation: state.cancellation,
      hasAccess: verdict.hasAccess,
      until: verdict.until,
      reason: verdict.reason,
      facts,
    });
    // pendingActions reads only fields every State has (status, cancellation, access period, grants, pause).
    for (const action of pendingActions(state as Purchase)) {
      if (Date.parse(action.at) > at.getTime()) {
        pending.push({ at: action.at, type: PENDING_TYPE[action.purpose], purchaseId: state.purchaseId });
      }
    }
  }
  pending.sort((a, b) => a.at.localeCompare(b.at) || a.purchaseId.localeCompare(b.purchaseId));
  const { hasAccess, until, reason } = productAccess(states, productId, at);
  return { productId, at: toInstant(at), hasAccess, until, reason, grants, pending };
}
