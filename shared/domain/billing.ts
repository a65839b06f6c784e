import { ConflictError, InvalidInputError } from './errors.ts';
import { revokedLabel } from './labels.ts';
import { resolveDate } from './local-time.ts';
import { boundary } from './periods.ts';
import { type Charge, chargesUntil } from './preview.ts';
import { earliest, hasPassed, toInstant } from './time.ts';
import type {
  Actor,
  CancelWhen,
  Grant,
  HistoryEntry,
  Instant,
  LocalDate,
  LocalDay,
  Purchase,
  PurchaseChange,
  PurchaseStatus,
  SystemReason,
} from './types.ts';

/**
 * The billing state machine (rules 4–8, 10, 14). Every function here is pure: it takes the purchase as read
 * and `now`, and returns the next state with its history entries, or throws a named error that explains
 * why the transition is refused. Use cases persist the result with a write conditioned on the version
 * read and on `from`, the statuses the transition was decided from.
 *
 *   active ──cancel(period_end|date)──▶ pending_cancellation ──stop──▶ active
 *     │  ▲                                  │ (effectiveAt reached)
 *     │  └────────unpause───── paused       ▼
 *     ├──pause──────────────────▲        canceled  (terminal: never reinstated, rule 6)
 *     └──cancel(now) / processor ended ──▶ canceled
 *   past_due behaves like active (access continues); completed = payment plan paid off.
 */

const SYSTEM = (reason: SystemReason): Actor => ({ type: 'system', reason });
const RECURRING = new Set(['subscription', 'payment_plan']);
const LIVE: readonly PurchaseStatus[] = ['active', 'past_due', 'pending_cancellation', 'paused'];

export function isRecurring(purchase: Pick<Purchase, 'kind'>): boolean {
  return RECURRING.has(purchase.kind);
}

function kindLabel(purchase: Pick<Purchase, 'kind'>) {
  return purchase.kind === 'payment_plan' ? 'payment plan' : 'subscription';
}

/** Rule 6 (and the one-time/free case of rule 4): why a purchase cannot take a billing action. */
export function refuseIfNotBillable(purchase: Purchase, action: string): void {
  if (!isRecurring(purchase)) {
    throw new ConflictError(
      `cannot ${action}: this is a ${purchase.kind === 'free' ? 'free' : 'one-time'} purchase, there are no payments to cancel or pause`,
    );
  }
  if (purchase.status === 'canceled') {
    if (purchase.kind === 'payment_plan' && purchase.installments) {
      const left = Math.max(0, purchase.installments.total - purchase.installments.paid);
      throw new ConflictError(
        `cannot ${action}: this payment plan was canceled and can never be reinstated; ${left} of ${purchase.installments.total} installments were left unpaid, so sell the customer a new plan for the remaining balance`,
      );
    }
    throw new ConflictError(
      `cannot ${action}: this ${kindLabel(purchase)} was canceled and can never be reinstated; the customer must purchase again`,
    );
  }
  if (purchase.status === 'completed') {
    throw new ConflictError(`cannot ${action}: this payment plan is paid off; there are no payments left`);
  }
}

/** Access ends at the earliest of the offer's access period and a pending or effective cancellation. */
export function deriveAccessEndsAt(purchase: Pick<Purchase, 'accessPeriodEndsAt' | 'cancellation'>): Instant | null {
  return earliest([purchase.accessPeriodEndsAt, purchase.cancellation?.effectiveAt]);
}

function next(purchase: Purchase, changes: Partial<Purchase>, now: Date): Purchase {
  const merged = { ...purchase, ...changes };
  return {
    ...merged,
    accessEndsAt: deriveAccessEndsAt(merged),
    updatedAt: toInstant(now),
    version: purchase.version + 1,
  };
}

function revokeAll(products: Grant[], reason: SystemReason, at: Instant): Grant[] {
  const actor: Actor = { type: 'system', reason };
  return products.map((grant) =>
    grant.access === 'revoked'
      ? grant
      : { ...grant, access: 'revoked', revokedAt: at, revokedBy: actor, label: revokedLabel(actor) },
  );
}

export interface CancelRequest {
  when: CancelWhen;
  /**
   * Required for `date`: when payments stop and access ends. An instant, or a day `YYYY-MM-DD` meaning
   * through the end of that day in `timezone` (rule 15).
   */
  date?: Instant | LocalDate | undefined;
  /** The site's time zone, for a `date` given as a day. @default 'UTC' */
  timezone?: string | undefined;
}

export interface CancelPlan {
  effectiveAt: Instant;
  /** The day the admin picked, when `date` was one: shown beside `effectiveAt`. */
  localDay: LocalDay | null;
  /** Renewals still charged before the cancellation takes effect (only a date beyond the period has any). */
  charges: Charge[];
}

/**
 * When a cancellation would take effect and what it would still charge: the preview, and the first half of
 * `cancel`. `period_end` needs a known period end (409 otherwise); `date` must lie in the future (400).
 */
export function planCancellation(purchase: Purchase, request: CancelRequest, now: Date): CancelPlan {
  refuseIfNotBillable(purchase, 'cancel payments');
  const at = toInstant(now);
  if (request.when === 'now') return { effectiveAt: at, localDay: null, charges: [] };
  if (request.when === 'period_end') {
    const periodEnd = currentPeriodEnd(purchase, now);
    if (!periodEnd) {
      throw new ConflictError('cannot cancel at the end of the billing period: the current period end is not known');
    }
    return { effectiveAt: periodEnd, localDay: null, charges: [] };
  }
  if (!request.date) {
    throw new InvalidInputError('a custom-date cancellation needs a date', [
      { field: 'date', message: 'required when when is "date"' },
    ]);
  }
  const date = resolveDate(request.date, request.timezone ?? 'UTC', 'date');
  if (hasPassed(date.at, now)) {
    throw new InvalidInputError('the cancellation date must be in the future', [
      { field: 'date', message: 'must be in the future' },
    ]);
  }
  const periodEnd = currentPeriodEnd(purchase, now);
  const price = purchase.price;
  const charges =
    periodEnd && price.type !== 'free' && price.type !== 'one_time'
      ? chargesUntil(periodEnd, price, price, date.at, remainingPayments(purchase))
      : [];
  return { effectiveAt: date.at, localDay: date.localDay, charges };
}

function remainingPayments(purchase: Purchase): number | null {
  return purchase.installments ? Math.max(0, purchase.installments.total - purchase.installments.paid) : null;
}

/**
 * The end of the billing period running at `now`. A stored period end that has passed (no renewal was
 * recorded yet) rolls forward by whole cycles, so "end of the current period" never lies in the past.
 */
export function currentPeriodEnd(purchase: Purchase, now: Date): Instant | null {
  const stored = purchase.currentPeriodEnd;
  const price = purchase.price;
  if (!stored || (price.type !== 'subscription' && price.type !== 'payment_plan')) return stored;
  let k = 0;
  let end = stored;
  while (hasPassed(end, now) && k < 10_000) end = boundary(stored, price, ++k);
  return end;
}

/** Cancel payments (rule 4). `now` cancels at once and revokes every grant with label `Revoked`. */
export function cancel(purchase: Purchase, request: CancelRequest, actor: Actor, now: Date): PurchaseChange {
  const plan = planCancellation(purchase, request, now);
  const at = toInstant(now);
  if (request.when === 'now') return cancelImmediately(purchase, actor, now);
  if (purchase.status === 'paused') {
    throw new ConflictError('cannot schedule a cancellation while billing is paused: unpause first, or cancel now');
  }
  const cancellation = {
    when: request.when,
    effectiveAt: plan.effectiveAt,
    requestedBy: actor,
    requestedAt: at,
    localDay: plan.localDay,
  };
  const entry: HistoryEntry = {
    at,
    type: 'cancellation.requested',
    actor,
    details: {
      when: request.when,
      effectiveAt: plan.effectiveAt,
      charges: plan.charges,
      ...(plan.localDay ? { localDay: plan.localDay } : {}),
    },
  };
  return { purchase: next(purchase, { status: 'pending_cancellation', cancellation }, now), history: [entry] };
}

/**
 * Payments stop at once and every grant is revoked with label `Revoked`: an admin's `now`, or (issue 4) a
 * processor that ended the subscription. History shows who asked and that it took effect.
 */
export function cancelImmediately(
  purchase: Purchase,
  actor: Actor,
  now: Date,
  details: Record<string, unknown> = {},
): PurchaseChange {
  refuseIfNotBillable(purchase, 'cancel payments');
  const at = toInstant(now);
  const cancellation = { when: 'now' as const, effectiveAt: at, requestedBy: actor, requestedAt: at };
  const changed = next(
    purchase,
    {
      status: 'canceled',
      cancellation,
      pause: null,
      products: revokeAll(purchase.products, 'cancellation_effective', at),
    },
    now,
  );
  return {
    purchase: changed,
    history: [
      { at, type: 'cancellation.requested', actor, details: { ...details, when: 'now', effectiveAt: at } },
      {
        at,
        type: 'cancellation.effective',
        actor: SYSTEM('cancellation_effective'),
        label: 'Revoked',
        details: { effectiveAt: at, requestedBy: actor, requestedAt: at },
      },
    ],
  };
}

export const CANCEL_FROM: readonly PurchaseStatus[] = LIVE;

/** "Don't cancel payments" (rule 5): back to active; payments resume on the previously scheduled date. */
export function stopCancellation(purchase: Purchase, actor: Actor, now: Date): PurchaseChange {
  refuseIfNotBillable(purchase, 'stop the cancellation');
  if (purchase.status !== 'pending_cancellation' || !purchase.cancellation) {
    throw new ConflictError(`there is no pending cancellation to stop (status is ${purchase.status})`);
  }
  const at = toInstant(now);
  return {
    purchase: next(purchase, { status: 'active', cancellation: null }, now),
    history: [
      { at, type: 'cancellation.stopped', actor, details: { canceledEffectiveAt: purchase.cancellation.effectiveAt } },
    ],
  };
}
export const STOP_FROM: readonly PurchaseStatus[] = ['pending_cancellation'];

/**
 * Pause billing (rule 7), optionally until `resumesAt`: an instant, or a day `YYYY-MM-DD` meaning paused
 * through the end of that day in `timezone` (rule 15). Access continues while paused.
 */
export function pause(
  purchase: Purchase,
  until: Instant | LocalDate | null,
  actor: Actor,
  now: Date,
  timezone = 'UTC',
): PurchaseChange {
  refuseIfNotBillable(purchase, 'pause billing');
  if (purchase.status === 'paused') throw new ConflictError('billing is already paused');
  if (purchase.status === 'pending_cancellation') {
    throw new ConflictError('cannot pause a subscription with a pending cancellation: stop the cancellation first');
  }
  const resolved = until === null ? null : resolveDate(until, timezone, 'resumesAt');
  const resumesAt = resolved?.at ?? null;
  if (resumesAt !== null && hasPassed(resumesAt, now)) {
    throw new InvalidInputError('resumesAt must be in the future', [
      { field: 'resumesAt', message: 'must be in the future' },
    ]);
  }
  const at = toInstant(now);
  return {
    purchase: next(
      purchase,
      { status: 'paused', pause: { pausedAt: at, resumesAt, localDay: resolved?.localDay ?? null } },
      now,
    ),
    history: [
      {
        at,
        type: 'billing.paused',
        actor,
        details: { resumesAt, ...(resolved?.localDay ? { localDay: resolved.localDay } : {}) },
      },
    ],
  };
}
export const PAUSE_FROM: readonly PurchaseStatus[] = ['active', 'past_due'];

/** Resume billing (rule 7). */
export function unpause(purchase: Purchase, actor: Actor, now: Date): PurchaseChange {
  refuseIfNotBillable(purchase, 'unpause billing');
  if (purchase.status !== 'paused') throw new ConflictError(`billing is not paused (status is ${purchase.status})`);
  const at = toInstant(now);
  return {
    purchase: next(purchase, { status: 'active', pause: null }, now),
    history: [{ at, type: 'billing.unpaused', actor, details: { pausedAt: purchase.pause?.pausedAt ?? null } }],
  };
}
export const UNPAUSE_FROM: readonly PurchaseStatus[] = ['paused'];

// ---- timed actions ----

export type TimerPurpose = 'cancellation' | 'access_period' | 'pause_end';

export interface DueAction {
  purpose: TimerPurpose;
  at: Instant;
}

/** The timed actions this state still waits for. A timer that fires for anything else is stale. */
export function pendingActions(purchase: Purchase): DueAction[] {
  const actions: DueAction[] = [];
  if (purchase.status === 'pending_cancellation' && purchase.cancellation) {
    actions.push({ purpose: 'cancellation', at: purchase.cancellation.effectiveAt });
  }
  if (
    purchase.accessPeriodEndsAt &&
    purchase.status !== 'canceled' &&
    purchase.products.some((grant) => grant.access === 'active')
  ) {
    actions.push({ purpose: 'access_period', at: purchase.accessPeriodEndsAt });
  }
  if (purchase.status === 'paused' && purchase.pause?.resumesAt) {
    actions.push({ purpose: 'pause_end', at: purchase.pause.resumesAt });
  }
  return actions;
}

/** The earliest pending action: what the sweeper's due index records. */
export function nextDueAt(purchase: Purchase): Instant | null {
  return earliest(pendingActions(purchase).map((action) => action.at));
}

/**
 * Applies every timed action that is due at `now`, in time order, and only those: a late, early, duplicate
 * or stale timer is harmless because the decision comes from the state, not from the timer. Null when
 * nothing is due.
 */
export function applyDueActions(purchase: Purchase, now: Date): PurchaseChange | null {
  let current = purchase;
  const history: HistoryEntry[] = [];
  const due = pendingActions(purchase)
    .filter((action) => hasPassed(action.at, now))
    .sort((a, b) => a.at.localeCompare(b.at));
  for (const action of due) {
    const step = applyAction(current, action, now);
    if (!step) continue;
    // Each step bumps the version; collapse so that the whole batch is one version step.
    current = { ...step.purchase, version: purchase.version + 1 };
    history.push(...step.history);
  }
  if (history.length === 0) return null;
  return { purchase: current, history };
}

function applyAction(purchase: Purchase, action: DueAction, now: Date): PurchaseChange | null {
  const at = toInstant(now);
  switch (action.purpose) {
    case 'cancellation': {
      if (purchase.status !== 'pending_cancellation' || !purchase.cancellation) return null;
      const effectiveAt = purchase.cancellation.effectiveAt;
      const changed = next(
        purchase,
        {
          status: 'canceled',
          products: revokeAll(purchase.products, 'cancellation_effective', effectiveAt),
        },
        now,
      );
      return {
        purchase: changed,
        history: [
          {
            at,
            type: 'cancellation.effective',
            actor: SYSTEM('cancellation_effective'),
            label: 'Revoked',
            details: {
              effectiveAt,
              requestedBy: purchase.cancellation.requestedBy,
              requestedAt: purchase.cancellation.requestedAt,
            },
          },
        ],
      };
    }
    case 'access_period': {
      if (!purchase.accessPeriodEndsAt || !purchase.products.some((g) => g.access === 'active')) return null;
      const endedAt = purchase.accessPeriodEndsAt;
      const revoked = purchase.products.filter((g) => g.access === 'active').map((g) => g.productId);
      return {
        purchase: next(purchase, { products: revokeAll(purchase.products, 'access_period_ended', endedAt) }, now),
        history: [
          {
            at,
            type: 'access.period_ended',
            actor: SYSTEM('access_period_ended'),
            label: 'Revoked',
            details: { accessPeriodEndsAt: endedAt, productIds: revoked },
          },
        ],
      };
    }
    case 'pause_end': {
      if (purchase.status !== 'paused') return null;
      return {
        purchase: next(purchase, { status: 'active', pause: null }, now),
        history: [
          {
            at,
            type: 'billing.unpaused',
            actor: SYSTEM('pause_ended'),
            details: { resumesAt: purchase.pause?.resumesAt ?? null },
          },
        ],
      };
    }
  }
}
