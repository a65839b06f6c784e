import { currentPeriodEnd, deriveAccessEndsAt } from './billing.ts';
import { revokedLabel } from './labels.ts';
import type { PaymentReport, ProcessorEvent, SubscriptionState } from './processor-events.ts';
import { hasPassed, toInstant } from './time.ts';
import type { Actor, Grant, HistoryEntry, Purchase, PurchaseChange } from './types.ts';

/**
 * Rule 9: what a processor's event means for a purchase. Canceling in the processor's dashboard must give
 * the same result as canceling in membergate, so these rules produce the same states as billing.ts.
 *
 * Ordering: a subscription state is applied only when it is at least as new as the last one applied
 * (`processorSyncedAt`, the processor's own timestamp), so a late `updated` cannot undo a `deleted`; and
 * `canceled` is final whatever arrives after it (rule 6). Payments are counted once per payment id.
 */
export function applyProcessorEvent(purchase: Purchase, event: ProcessorEvent, now: Date): PurchaseChange | null {
  const actor: Actor = { type: 'processor', processor: event.processor, eventId: event.eventId };
  const source = { eventId: event.eventId, eventType: event.type, ...(event.jobId ? { jobId: event.jobId } : {}) };
  let next: Purchase = purchase;
  const history: HistoryEntry[] = [];
  const at = toInstant(now);

  if (event.subscription && isNewer(purchase, event) && purchase.status !== 'canceled') {
    const step = applySubscriptionState(next, event, event.subscription, actor, now);
    next = step.purchase;
    history.push(...step.history.map((entry) => ({ ...entry, details: { ...entry.details, ...source } })));
  }
  // A canceled purchase still records refunds; it never counts new payments (it cannot be reinstated).
  if (event.payment && (next.status !== 'canceled' || event.payment.outcome === 'refunded')) {
    const step = applyPayment(next, event.payment, actor, at);
    next = step.purchase;
    history.push(...step.history.map((entry) => ({ ...entry, details: { ...entry.details, ...source } })));
  }
  if (history.length === 0 && next === purchase) return null;
  return {
    purchase: { ...next, accessEndsAt: deriveAccessEndsAt(next), updatedAt: at, version: purchase.version + 1 },
    history,
  };
}

function isNewer(purchase: Purchase, event: ProcessorEvent): boolean {
  return !purchase.processorSyncedAt || event.occurredAt >= purchase.processorSyncedAt;
}

function revokeAll(products: Grant[], at: string): Grant[] {
  const actor: Actor = { type: 'system', reason: 'cancellation_effective' };
  return products.map((grant) =>
    grant.access === 'revoked'
      ? grant
      : { ...grant, access: 'revoked', revokedAt: at, revokedBy: actor, label: revokedLabel(actor) },
  );
}

function applySubscriptionState(
  purchase: Purchase,
  event: ProcessorEvent,
  state: SubscriptionState,
  actor: Actor,
  now: Date,
): PurchaseChange {
  const history: HistoryEntry[] = [];
  const at = toInstant(now);
  let next: Purchase = {
    ...purchase,
    processorSyncedAt: event.occurredAt,
    currentPeriodStart: state.currentPeriodStart ?? purchase.currentPeriodStart,
    currentPeriodEnd: state.currentPeriodEnd ?? purchase.currentPeriodEnd,
  };
  const periodChanged = next.currentPeriodEnd !== purchase.currentPeriodEnd;

  if (state.status === 'canceled') {
    const accessUntil =
      state.accessEnds === 'period_end' ? (state.currentPeriodEnd ?? currentPeriodEnd(purchase, now)) : null;
    if (accessUntil && !hasPassed(accessUntil, now)) {
      // Billing already stopped at the processor (PayPal CANCELLED): access lasts to the end of the paid cycle.
      const cancellation = {
        when: 'period_end' as const,
        effectiveAt: accessUntil,
        requestedBy: actor,
        requestedAt: event.occurredAt,
        billingStopped: true,
      };
      next = { ...next, status: 'pending_cancellation', cancellation, pause: null };
      history.push({
        at,
        type: 'cancellation.requested',
        actor,
        details: { when: 'period_end', effectiveAt: accessUntil },
      });
      return { purchase: next, history };
    }
    const effectiveAt = hasPassed(event.occurredAt, now) ? event.occurredAt : at;
    const cancellation = purchase.cancellation ?? {
      when: 'now' as const,
      effectiveAt,
      requestedBy: actor,
      requestedAt: event.occurredAt,
    };
    next = {
      ...next,
      status: 'canceled',
      cancellation: { ...cancellation, effectiveAt: earliestOf(cancellation.effectiveAt, effectiveAt) },
      pause: null,
      products: revokeAll(purchase.products, effectiveAt),
    };
    history.push({
      at,
      type: 'cancellation.effective',
      actor,
      label: 'Revoked',
      details: { effectiveAt, requestedBy: cancellation.requestedBy },
    });
    return { purchase: next, history };
  }

  if (state.cancelAt && !hasPassed(state.cancelAt, now)) {
    const unchanged =
      purchase.status === 'pending_cancellation' && purchase.cancellation?.effectiveAt === state.cancelAt;
    if (!unchanged) {
      const when = state.cancelAtPeriodEnd ? ('period_end' as const) : ('date' as const);
      next = {
        ...next,
        status: 'pending_cancellation',
        pause: null,
        cancellation: { when, effectiveAt: state.cancelAt, requestedBy: actor, requestedAt: event.occurredAt },
      };
      history.push({ at, type: 'cancellation.requested', actor, details: { when, effectiveAt: state.cancelAt } });
    }
    return withPeriodNote(next, history, periodChanged, purchase, actor, at);
  }

  // PayPal has no scheduled cancellation of its own: a pending cancellation there is membergate's timer,
  // and a PayPal event without one must not clear it. Stripe reports its schedule in every update.
  const processorOwnsSchedule = event.processor !== 'paypal';
  if (purchase.status === 'pending_cancellation' && processorOwnsSchedule && !purchase.cancellation?.billingStopped) {
    next = { ...next, status: state.status, cancellation: null };
    history.push({
      at,
      type: 'cancellation.stopped',
      actor,
      details: { canceledEffectiveAt: purchase.cancellation?.effectiveAt ?? null },
    });
    if (state.status === 'paused')
      next = { ...next, pause: { pausedAt: event.occurredAt, resumesAt: state.resumesAt } };
    return withPeriodNote(next, history, periodChanged, purchase, actor, at);
  }
  if (purchase.status === 'pending_cancellation')
    return withPeriodNote(next, history, periodChanged, purchase, actor, at);

  if (state.status !== purchase.status && purchase.status !== 'completed') {
    next = {
      ...next,
      status: state.status,
      pause: state.status === 'paused' ? { pausedAt: event.occurredAt, resumesAt: state.resumesAt } : null,
    };
    const type =
      state.status === 'paused'
        ? 'billing.paused'
        : purchase.status === 'paused'
          ? 'billing.unpaused'
          : 'billing.updated';
    history.push({ at, type, actor, details: { from: purchase.status, to: state.status } });
  }
  return withPeriodNote(next, history, periodChanged, purchase, actor, at);
}

function withPeriodNote(
  next: Purchase,
  history: HistoryEntry[],
  periodChanged: boolean,
  before: Purchase,
  actor: Actor,
  at: string,
): PurchaseChange {
  if (periodChanged && history.length === 0) {
    history.push({
      at,
      type: 'billing.updated',
      actor,
      details: { currentPeriodEnd: next.currentPeriodEnd, previousPeriodEnd: before.currentPeriodEnd },
    });
  }
  return { purchase: next, history };
}

function earliestOf(a: string, b: string) {
  return a <= b ? a : b;
}

const MAX_PAYMENT_IDS = 50;

function applyPayment(purchase: Purchase, payment: PaymentReport, actor: Actor, at: string): PurchaseChange {
  const seen = purchase.paymentIds ?? [];
  if (payment.outcome === 'refunded') {
    const refundKey = payment.refundId ?? `${payment.paymentId}:${payment.amount}`;
    if (purchase.refunds.some((refund) => refund.processorRefundId === refundKey)) return { purchase, history: [] };
    const refund = {
      refundId: `ref_${refundKey}`,
      amount: payment.amount,
      currency: payment.currency,
      at,
      by: actor,
      processorRefundId: refundKey,
      paymentId: payment.paymentId,
    };
    return {
      purchase: { ...purchase, refunds: [...purchase.refunds, refund] },
      history: [{ at, type: 'refund.created', actor, details: { amount: payment.amount, currency: payment.currency } }],
    };
  }
  const key = `${payment.outcome}:${payment.paymentId}`;
  if (seen.includes(key)) return { purchase, history: [] };
  let next: Purchase = { ...purchase, paymentIds: [...seen, key].slice(-MAX_PAYMENT_IDS) };

  if (payment.outcome === 'failed') {
    // Retries continue at the processor; access continues while they do (rule 9).
    if (purchase.status === 'active') next = { ...next, status: 'past_due' };
    return {
      purchase: next,
      history: [
        {
          at,
          type: 'payment.failed',
          actor,
          details: { paymentId: payment.paymentId, amount: payment.amount, status: next.status },
        },
      ],
    };
  }

  if (payment.periodEnd && (!purchase.currentPeriodEnd || payment.periodEnd > purchase.currentPeriodEnd)) {
    next = {
      ...next,
      currentPeriodStart: payment.periodStart ?? next.currentPeriodStart,
      currentPeriodEnd: payment.periodEnd,
    };
  }
  if (purchase.status === 'past_due') next = { ...next, status: 'active' };
  if (next.installments) {
    const paid = Math.min(next.installments.total, next.installments.paid + 1);
    next = { ...next, installments: { ...next.installments, paid } };
    if (paid >= next.installments!.total && (next.status === 'active' || next.status === 'past_due')) {
      next = { ...next, status: 'completed' };
    }
  }
  return {
    purchase: next,
    history: [
      {
        at,
        type: 'payment.succeeded',
        actor,
        details: {
          paymentId: payment.paymentId,
          amount: payment.amount,
          currency: payment.currency,
          currentPeriodEnd: next.currentPeriodEnd,
          installments: next.installments,
          status: next.status,
        },
      },
    ],
  };
}
