import { pendingActions, type TimerPurpose } from './billing.ts';
import { InvalidInputError } from './errors.ts';
import type { Instant, Purchase } from './types.ts';

/**
 * The calendar of timed changes (DESIGN.md §2.1 "Upcoming"): what a purchase has ahead, as pure functions of
 * its stored state. The store keeps one small index entry per (purchase, type), written in the purchase's own
 * transaction from `upcomingChanges`, so the calendar and the state can never disagree.
 */
export const UPCOMING_TYPES = [
  'cancellation_effective',
  'access_period_ends',
  'pause_ends',
  'renewal',
  'installment',
] as const;
export type UpcomingType = (typeof UPCOMING_TYPES)[number];

export interface UpcomingChange {
  at: Instant;
  type: UpcomingType;
  purchaseId: string;
  customerId: string;
  offerId: string;
  /** The products the change is about: those whose access it ends, or every product of the purchase. */
  productIds: string[];
  /** Renewals and installments: what will be charged (the purchase's price, in minor units). */
  amount?: number;
  currency?: string;
}

/** The three types a timer (and the sweeper) acts on, and the timer purpose each one is. */
export const SWEPT_TYPES: Readonly<Record<TimerPurpose, UpcomingType>> = {
  cancellation: 'cancellation_effective',
  access_period: 'access_period_ends',
  pause_end: 'pause_ends',
};

export function isSwept(type: UpcomingType): boolean {
  return type === 'cancellation_effective' || type === 'access_period_ends' || type === 'pause_ends';
}

/** Billing runs (a renewal or an installment is ahead) only in these statuses; paused, pending, ended do not bill. */
const BILLING: ReadonlySet<Purchase['status']> = new Set(['active', 'past_due']);

/**
 * Every timed change the purchase has ahead, at most one per type, soonest first:
 * - the three timed actions the state machine waits for (`pendingActions`: a pending cancellation taking
 *   effect, an `accessDays` period ending while a grant is active, a pause with `resumesAt` ending);
 * - a subscription's next renewal at `currentPeriodEnd`, while it bills (active or past_due; a pending
 *   cancellation shows as `cancellation_effective` instead, a paused or ended one has none);
 * - a payment plan's next installment at `currentPeriodEnd`, while installments are left.
 * Only the *next* renewal or installment: the processor reports each new period, which moves it.
 */
export function upcomingChanges(purchase: Purchase): UpcomingChange[] {
  const base = { purchaseId: purchase.purchaseId, customerId: purchase.customerId, offerId: purchase.offerId };
  const all = purchase.products.map((grant) => grant.productId);
  const active = purchase.products.filter((grant) => grant.access === 'active').map((grant) => grant.productId);
  const changes: UpcomingChange[] = pendingActions(purchase).map((action) => {
    const type = SWEPT_TYPES[action.purpose];
    // Ending access touches the products that still have it; a pause ending touches billing, so all of them.
    return { ...base, at: action.at, type, productIds: type === 'pause_ends' ? all : active };
  });
  const price = purchase.price;
  if (BILLING.has(purchase.status) && purchase.currentPeriodEnd) {
    if (price.type === 'subscription') {
      changes.push({
        ...base,
        at: purchase.currentPeriodEnd,
        type: 'renewal',
        productIds: all,
        amount: price.amount,
        currency: price.currency,
      });
    } else if (
      price.type === 'payment_plan' &&
      (!purchase.installments || purchase.installments.paid < purchase.installments.total)
    ) {
      changes.push({
        ...base,
        at: purchase.currentPeriodEnd,
        type: 'installment',
        productIds: all,
        amount: price.amount,
        currency: price.currency,
      });
    }
  }
  return changes.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.type < b.type ? -1 : 1));
}

/**
 * The types that follow from the purchase's status, so that a purchase has at most one of them at a time:
 * `cancellation_effective` only while `pending_cancellation`, `pause_ends` only while `paused`, `renewal` or
 * `installment` only while billing (`active`, `past_due`). The store keeps this one change on the purchase's
 * own item (no item of its own), so the commonest changes — a renewal moving, a cancellation scheduled or
 * withdrawn — rewrite the purchase and nothing else.
 */
export const STATUS_UPCOMING_TYPES: readonly UpcomingType[] = [
  'cancellation_effective',
  'pause_ends',
  'renewal',
  'installment',
];

export function isStatusUpcomingType(type: UpcomingType): boolean {
  return STATUS_UPCOMING_TYPES.includes(type);
}

/** The one change of a status type the purchase has ahead, if any (see `STATUS_UPCOMING_TYPES`). */
export function statusUpcomingChange(purchase: Purchase): UpcomingChange | null {
  const changes = upcomingChanges(purchase).filter((change) => isStatusUpcomingType(change.type));
  if (changes.length > 1) {
    // Unreachable while each status type belongs to one status; a guard so a new rule cannot lose a change.
    throw new Error(`purchase ${purchase.purchaseId} has ${changes.map((c) => c.type).join(', ')} ahead at once`);
  }
  return changes[0] ?? null;
}

/**
 * The types this purchase could ever have an index entry *of its own* of, whatever its state (every type but
 * the status types, which ride on the purchase item): the store deletes the entries of these types that the
 * new state no longer has when it does not know the old state, and never touches the others. Only a purchase
 * with an access period has one.
 */
export function possibleUpcomingTypes(purchase: Pick<Purchase, 'accessPeriodEndsAt'>): UpcomingType[] {
  return purchase.accessPeriodEndsAt ? ['access_period_ends'] : [];
}

/** The default window of the calendar, and the longest one asked for at once. */
export const UPCOMING_DEFAULT_DAYS = 30;
export const UPCOMING_MAX_DAYS = 366;
const DAY_MS = 86_400_000;

export interface UpcomingWindow {
  from: Instant;
  to: Instant;
}

/**
 * The half-open window `[from, to)` of a calendar request: `from` defaults to now, `to` to 30 days after
 * `from`. `to` must lie after `from`, and the window may span at most 366 days (a year, leap or not): a
 * request walks one index partition per UTC day, so the range bounds the work of a whole listing.
 */
export function upcomingWindow(from: Instant | null, to: Instant | null, now: Date): UpcomingWindow {
  const start = from ?? now.toISOString();
  const end = to ?? new Date(Date.parse(start) + UPCOMING_DEFAULT_DAYS * DAY_MS).toISOString();
  if (Date.parse(end) <= Date.parse(start)) {
    throw new InvalidInputError('to must be after from', [{ field: 'to', message: `must be after from (${start})` }]);
  }
  if (Date.parse(end) - Date.parse(start) > UPCOMING_MAX_DAYS * DAY_MS) {
    throw new InvalidInputError(`the window may span at most ${UPCOMING_MAX_DAYS} days`, [
      { field: 'to', message: `must be at most ${UPCOMING_MAX_DAYS} days after from` },
    ]);
  }
  return { from: start, to: end };
}

/** The UTC days `[from, to)` touches, oldest first: the calendar index's partitions for the window. */
export function utcDays(window: UpcomingWindow): string[] {
  const days: string[] = [];
  const last = new Date(Date.parse(window.to) - 1).toISOString().slice(0, 10);
  for (let t = Date.parse(window.from.slice(0, 10)); ; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    days.push(day);
    if (day >= last) return days;
  }
}

/**
 * The order of the calendar and of its index's sort key: by instant, then purchase, then type, so equal
 * instants page deterministically.
 */
export function upcomingSortKey(change: Pick<UpcomingChange, 'at' | 'purchaseId' | 'type'>): string {
  return `${change.at}#${change.purchaseId}#${change.type}`;
}
