import { describe, expect, it } from '@jest/globals';
import type { PaymentReport, ProcessorEvent, SubscriptionState } from '../../shared/domain/processor-events.ts';
import { applyProcessorEvent } from '../../shared/domain/processor-sync.ts';
import type { Actor, Purchase, PurchaseChange } from '../../shared/domain/types.ts';
import { ADMIN, activeGrant, aPurchase, NOW, revokedGrant } from './fixtures.ts';

// Rule 9: what a processor's event does to a purchase, event type by event type, and in which order they apply.

const AT = NOW.toISOString();
const OCCURRED = '2026-03-01T09:59:00.000Z';
const PERIOD_START = '2026-02-15T00:00:00.000Z';
const PERIOD_END = '2026-03-15T00:00:00.000Z';
const NEXT_END = '2026-04-15T00:00:00.000Z';
const STRIPE_ACTOR: Actor = { type: 'processor', processor: 'stripe', eventId: 'evt_1' };
const ENDED: Actor = { type: 'system', reason: 'cancellation_effective' };
const SOURCE = { eventId: 'evt_1', eventType: 'customer.subscription.updated' };

function event(overrides: Partial<ProcessorEvent> = {}): ProcessorEvent {
  return {
    processor: 'stripe',
    eventId: 'evt_1',
    type: 'customer.subscription.updated',
    occurredAt: OCCURRED,
    subscriptionId: 'sub_123',
    siteId: 'site-1',
    link: null,
    subscription: null,
    payment: null,
    ...overrides,
  };
}

function state(overrides: Partial<SubscriptionState> = {}): SubscriptionState {
  return {
    status: 'active',
    currentPeriodStart: PERIOD_START,
    currentPeriodEnd: PERIOD_END,
    cancelAt: null,
    cancelAtPeriodEnd: false,
    accessEnds: 'now',
    resumesAt: null,
    ...overrides,
  };
}

function payment(overrides: Partial<PaymentReport> = {}): PaymentReport {
  return {
    outcome: 'succeeded',
    paymentId: 'in_1',
    amount: 2900,
    currency: 'usd',
    periodStart: null,
    periodEnd: null,
    refundId: null,
    ...overrides,
  };
}

function withState(overrides: Partial<SubscriptionState>, eventOverrides: Partial<ProcessorEvent> = {}) {
  return event({ subscription: state(overrides), ...eventOverrides });
}

function apply(purchase: Purchase, e: ProcessorEvent): PurchaseChange {
  const change = applyProcessorEvent(purchase, e, NOW);
  if (change === null) throw new Error('expected a change, got null');
  return change;
}

const pending = (effectiveAt: string, extra: Partial<Purchase['cancellation'] & object> = {}): Partial<Purchase> => ({
  status: 'pending_cancellation',
  cancellation: { when: 'date', effectiveAt, requestedBy: ADMIN, requestedAt: '2026-02-20T00:00:00.000Z', ...extra },
  accessEndsAt: effectiveAt,
});

describe('applyProcessorEvent: the change envelope', () => {
  it('an event with neither a subscription state nor a payment changes nothing', () => {
    expect(applyProcessorEvent(aPurchase(), event(), NOW)).toBeNull();
  });

  it('a state equal to the stored one is still recorded as synced: new version, no history entry', () => {
    const change = apply(aPurchase(), withState({}));
    expect(change.history).toEqual([]);
    expect(change.purchase).toEqual(aPurchase({ processorSyncedAt: OCCURRED, updatedAt: AT, version: 4 }));
  });

  it('every entry carries the processor actor and the event id and type; updatedAt is now, version + 1', () => {
    const change = apply(aPurchase(), withState({ status: 'past_due' }));
    expect(change.history).toEqual([
      { at: AT, type: 'billing.updated', actor: STRIPE_ACTOR, details: { from: 'active', to: 'past_due', ...SOURCE } },
    ]);
    expect(change.purchase.updatedAt).toBe(AT);
    expect(change.purchase.version).toBe(4);
  });

  it('accessEndsAt is derived again from the new state', () => {
    const purchase = aPurchase({ accessPeriodEndsAt: '2026-06-01T00:00:00.000Z', accessEndsAt: null });
    const change = apply(purchase, withState({ cancelAt: '2026-04-01T00:00:00.000Z' }));
    expect(change.purchase.accessEndsAt).toBe('2026-04-01T00:00:00.000Z');
    const later = apply(purchase, withState({ cancelAt: '2026-07-01T00:00:00.000Z' }));
    expect(later.purchase.accessEndsAt).toBe('2026-06-01T00:00:00.000Z');
  });

  it('a state and a payment in one event apply both, the state first', () => {
    const change = apply(
      aPurchase(),
      event({
        type: 'invoice.paid',
        subscription: state({ currentPeriodStart: PERIOD_END, currentPeriodEnd: NEXT_END }),
        payment: payment({ paymentId: 'in_2' }),
      }),
    );
    expect(change.history.map((entry) => entry.type)).toEqual(['billing.updated', 'payment.succeeded']);
    expect(change.history.every((entry) => entry.details.eventType === 'invoice.paid')).toBe(true);
    expect(change.history.every((entry) => entry.details.eventId === 'evt_1')).toBe(true);
    expect(change.purchase.paymentIds).toEqual(['succeeded:in_2']);
    expect(change.purchase.currentPeriodEnd).toBe(NEXT_END);
  });
});

describe('ordering: out-of-order deliveries and the final canceled state', () => {
  it('a state older than the last one applied is ignored', () => {
    const purchase = aPurchase({ processorSyncedAt: '2026-03-01T09:59:30.000Z' });
    expect(applyProcessorEvent(purchase, withState({ status: 'past_due' }), NOW)).toBeNull();
  });

  it('a state exactly as new as the last one applied is applied', () => {
    const purchase = aPurchase({ processorSyncedAt: OCCURRED });
    const change = apply(purchase, withState({ status: 'past_due' }));
    expect(change.purchase.status).toBe('past_due');
  });

  it('a newer state is applied and becomes the sync mark', () => {
    const purchase = aPurchase({ processorSyncedAt: '2026-03-01T09:00:00.000Z' });
    const change = apply(purchase, withState({ status: 'past_due' }));
    expect(change.purchase.processorSyncedAt).toBe(OCCURRED);
  });

  it('a late update cannot undo a deletion: nothing changes once canceled', () => {
    const deleted = apply(aPurchase(), withState({ status: 'canceled' }, { type: 'customer.subscription.deleted' }));
    const late = withState({ status: 'active' }, { occurredAt: '2026-03-01T09:59:59.000Z', eventId: 'evt_2' });
    expect(applyProcessorEvent(deleted.purchase, late, NOW)).toBeNull();
  });

  it('a canceled purchase counts no new payment, succeeded or failed', () => {
    const canceled = aPurchase({ status: 'canceled' });
    expect(applyProcessorEvent(canceled, event({ payment: payment() }), NOW)).toBeNull();
    expect(applyProcessorEvent(canceled, event({ payment: payment({ outcome: 'failed' }) }), NOW)).toBeNull();
  });

  it('a canceled purchase still records a refund', () => {
    const canceled = aPurchase({ status: 'canceled' });
    const change = apply(canceled, event({ payment: payment({ outcome: 'refunded', refundId: 're_1', amount: 500 }) }));
    expect(change.purchase.refunds).toHaveLength(1);
    expect(change.purchase.status).toBe('canceled');
  });

  it('a payment is ignored when its subscription state made the purchase canceled in the same event', () => {
    const change = apply(
      aPurchase(),
      event({ subscription: state({ status: 'canceled' }), payment: payment({ paymentId: 'in_9' }) }),
    );
    expect(change.history.map((entry) => entry.type)).toEqual(['cancellation.effective']);
    expect(change.purchase.paymentIds).toBeUndefined();
  });
});

describe('canceled at the processor', () => {
  it('ends access now: every grant revoked at the event instant, label Revoked, history says so', () => {
    const purchase = aPurchase({
      products: [
        activeGrant('course'),
        revokedGrant('community', '2026-02-20T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com'),
      ],
      pause: null,
    });
    const change = apply(purchase, withState({ status: 'canceled' }, { type: 'customer.subscription.deleted' }));
    expect(change.purchase.status).toBe('canceled');
    expect(change.purchase.cancellation).toEqual({
      when: 'now',
      effectiveAt: OCCURRED,
      requestedBy: STRIPE_ACTOR,
      requestedAt: OCCURRED,
    });
    expect(change.purchase.products).toEqual([
      { productId: 'course', access: 'revoked', revokedAt: OCCURRED, revokedBy: ENDED, label: 'Revoked' },
      revokedGrant('community', '2026-02-20T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com'),
    ]);
    expect(change.purchase.accessEndsAt).toBe(OCCURRED);
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'cancellation.effective',
        actor: STRIPE_ACTOR,
        label: 'Revoked',
        details: {
          effectiveAt: OCCURRED,
          requestedBy: STRIPE_ACTOR,
          eventId: 'evt_1',
          eventType: 'customer.subscription.deleted',
        },
      },
    ]);
  });

  it('clears a pause', () => {
    const purchase = aPurchase({ status: 'paused', pause: { pausedAt: '2026-02-20T00:00:00.000Z', resumesAt: null } });
    const change = apply(purchase, withState({ status: 'canceled' }));
    expect(change.purchase.pause).toBeNull();
    expect(change.purchase.status).toBe('canceled');
  });

  it('an event stamped in the future (clock skew) takes effect now, not later', () => {
    const future = '2026-03-01T10:05:00.000Z';
    const change = apply(aPurchase(), withState({ status: 'canceled' }, { occurredAt: future }));
    expect(change.purchase.cancellation?.effectiveAt).toBe(AT);
    expect(change.purchase.products[0]?.revokedAt).toBe(AT);
    expect(change.history[0]?.details.effectiveAt).toBe(AT);
    expect(change.purchase.processorSyncedAt).toBe(future);
  });

  it('an event stamped exactly now takes effect at that instant', () => {
    const change = apply(aPurchase(), withState({ status: 'canceled' }, { occurredAt: AT }));
    expect(change.purchase.cancellation?.effectiveAt).toBe(AT);
  });

  it('keeps who asked for a pending cancellation, and the earlier of the two instants', () => {
    const purchase = aPurchase(pending('2026-04-01T00:00:00.000Z'));
    const change = apply(purchase, withState({ status: 'canceled' }));
    expect(change.purchase.cancellation).toEqual({
      when: 'date',
      effectiveAt: OCCURRED,
      requestedBy: ADMIN,
      requestedAt: '2026-02-20T00:00:00.000Z',
    });
    expect(change.history[0]?.details.requestedBy).toEqual(ADMIN);
  });

  it('a pending cancellation whose instant passed before the event keeps that earlier instant', () => {
    const purchase = aPurchase(pending('2026-02-28T00:00:00.000Z'));
    const change = apply(purchase, withState({ status: 'canceled' }));
    expect(change.purchase.cancellation?.effectiveAt).toBe('2026-02-28T00:00:00.000Z');
    expect(change.purchase.accessEndsAt).toBe('2026-02-28T00:00:00.000Z');
  });

  it('billing stopped, access to the end of the paid period (PayPal CANCELLED): pending, billingStopped', () => {
    const purchase = aPurchase({
      processor: 'paypal',
      status: 'paused',
      pause: { pausedAt: '2026-02-20T00:00:00.000Z', resumesAt: null },
    });
    const paypal: Actor = { type: 'processor', processor: 'paypal', eventId: 'WH-1' };
    const change = apply(
      purchase,
      withState(
        { status: 'canceled', accessEnds: 'period_end' },
        { processor: 'paypal', eventId: 'WH-1', type: 'BILLING.SUBSCRIPTION.CANCELLED' },
      ),
    );
    expect(change.purchase.status).toBe('pending_cancellation');
    expect(change.purchase.pause).toBeNull();
    expect(change.purchase.cancellation).toEqual({
      when: 'period_end',
      effectiveAt: PERIOD_END,
      requestedBy: paypal,
      requestedAt: OCCURRED,
      billingStopped: true,
    });
    expect(change.purchase.products).toEqual(purchase.products);
    expect(change.purchase.accessEndsAt).toBe(PERIOD_END);
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'cancellation.requested',
        actor: paypal,
        details: {
          when: 'period_end',
          effectiveAt: PERIOD_END,
          eventId: 'WH-1',
          eventType: 'BILLING.SUBSCRIPTION.CANCELLED',
        },
      },
    ]);
  });

  it('billing stopped without a period in the event: the stored period end, rolled forward past now', () => {
    const purchase = aPurchase({ processor: 'paypal', currentPeriodEnd: '2026-02-20T00:00:00.000Z' });
    const change = apply(
      purchase,
      withState({ status: 'canceled', accessEnds: 'period_end', currentPeriodEnd: null }, { processor: 'paypal' }),
    );
    expect(change.purchase.status).toBe('pending_cancellation');
    expect(change.purchase.cancellation?.effectiveAt).toBe('2026-03-20T00:00:00.000Z');
    expect(change.purchase.currentPeriodEnd).toBe('2026-02-20T00:00:00.000Z');
  });

  it('billing stopped with the paid period already over (or ending now): canceled at once', () => {
    for (const end of [AT, '2026-02-28T00:00:00.000Z']) {
      const change = apply(
        aPurchase({ processor: 'paypal' }),
        withState({ status: 'canceled', accessEnds: 'period_end', currentPeriodEnd: end }, { processor: 'paypal' }),
      );
      expect(change.purchase.status).toBe('canceled');
      expect(change.purchase.products.every((grant) => grant.access === 'revoked')).toBe(true);
    }
  });

  it('billing stopped with no period end known at all: canceled at once', () => {
    const change = apply(
      aPurchase({ processor: 'paypal', currentPeriodEnd: null }),
      withState({ status: 'canceled', accessEnds: 'period_end', currentPeriodEnd: null }, { processor: 'paypal' }),
    );
    expect(change.purchase.status).toBe('canceled');
    expect(change.purchase.cancellation?.effectiveAt).toBe(OCCURRED);
  });
});

describe('a cancellation scheduled at the processor', () => {
  it('cancel_at_period_end: pending at the period end, pause cleared, history says when', () => {
    const change = apply(aPurchase(), withState({ cancelAt: PERIOD_END, cancelAtPeriodEnd: true }));
    expect(change.purchase.status).toBe('pending_cancellation');
    expect(change.purchase.pause).toBeNull();
    expect(change.purchase.cancellation).toEqual({
      when: 'period_end',
      effectiveAt: PERIOD_END,
      requestedBy: STRIPE_ACTOR,
      requestedAt: OCCURRED,
    });
    expect(change.purchase.accessEndsAt).toBe(PERIOD_END);
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'cancellation.requested',
        actor: STRIPE_ACTOR,
        details: { when: 'period_end', effectiveAt: PERIOD_END, ...SOURCE },
      },
    ]);
  });

  it('cancel_at a date: when is date', () => {
    const date = '2026-05-01T00:00:00.000Z';
    const change = apply(aPurchase(), withState({ cancelAt: date }));
    expect(change.purchase.cancellation?.when).toBe('date');
    expect(change.purchase.cancellation?.effectiveAt).toBe(date);
    expect(change.history[0]?.details).toEqual({ when: 'date', effectiveAt: date, ...SOURCE });
  });

  it('the same schedule reported again adds no entry', () => {
    const purchase = aPurchase(pending(PERIOD_END));
    const change = apply(purchase, withState({ cancelAt: PERIOD_END, cancelAtPeriodEnd: true }));
    expect(change.history).toEqual([]);
    expect(change.purchase.cancellation).toEqual(purchase.cancellation);
  });

  it('the same schedule with a new period notes only the period', () => {
    const purchase = aPurchase(pending(NEXT_END));
    const change = apply(
      purchase,
      withState({ cancelAt: NEXT_END, currentPeriodStart: PERIOD_END, currentPeriodEnd: NEXT_END }),
    );
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'billing.updated',
        actor: STRIPE_ACTOR,
        details: { currentPeriodEnd: NEXT_END, previousPeriodEnd: PERIOD_END, ...SOURCE },
      },
    ]);
    expect(change.purchase.currentPeriodStart).toBe(PERIOD_END);
  });

  it('a schedule moved to another date is a new request', () => {
    const purchase = aPurchase(pending(PERIOD_END));
    const change = apply(purchase, withState({ cancelAt: '2026-04-01T00:00:00.000Z' }));
    expect(change.purchase.cancellation?.effectiveAt).toBe('2026-04-01T00:00:00.000Z');
    expect(change.purchase.cancellation?.requestedBy).toEqual(STRIPE_ACTOR);
    expect(change.history.map((entry) => entry.type)).toEqual(['cancellation.requested']);
  });

  it('a paused purchase whose stale cancellation matches the date is still scheduled', () => {
    const purchase = aPurchase({
      status: 'paused',
      pause: { pausedAt: '2026-02-20T00:00:00.000Z', resumesAt: null },
      cancellation: { when: 'date', effectiveAt: PERIOD_END, requestedBy: ADMIN, requestedAt: OCCURRED },
    });
    const change = apply(purchase, withState({ cancelAt: PERIOD_END }));
    expect(change.purchase.status).toBe('pending_cancellation');
    expect(change.purchase.pause).toBeNull();
    expect(change.history.map((entry) => entry.type)).toEqual(['cancellation.requested']);
  });

  it('a cancel_at already passed (or at this instant) is not scheduled', () => {
    for (const cancelAt of [AT, '2026-02-28T00:00:00.000Z']) {
      const change = apply(aPurchase(), withState({ cancelAt }));
      expect(change.purchase.status).toBe('active');
      expect(change.purchase.cancellation).toBeNull();
      expect(change.history).toEqual([]);
    }
  });
});

describe('a scheduled cancellation cleared at the processor', () => {
  it('Stripe: a pending cancellation without cancel_at is stopped, back to the reported status', () => {
    const purchase = aPurchase(pending(PERIOD_END));
    const change = apply(purchase, withState({}));
    expect(change.purchase.status).toBe('active');
    expect(change.purchase.cancellation).toBeNull();
    expect(change.purchase.pause).toBeNull();
    expect(change.purchase.accessEndsAt).toBeNull();
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'cancellation.stopped',
        actor: STRIPE_ACTOR,
        details: { canceledEffectiveAt: PERIOD_END, ...SOURCE },
      },
    ]);
  });

  it('Stripe: stopped into a pause records the pause', () => {
    const resumesAt = '2026-04-01T00:00:00.000Z';
    const change = apply(aPurchase(pending(PERIOD_END)), withState({ status: 'paused', resumesAt }));
    expect(change.purchase.status).toBe('paused');
    expect(change.purchase.pause).toEqual({ pausedAt: OCCURRED, resumesAt });
    expect(change.history.map((entry) => entry.type)).toEqual(['cancellation.stopped']);
  });

  it('Stripe: stopped with a new period notes nothing more than the stop', () => {
    const change = apply(aPurchase(pending(PERIOD_END)), withState({ status: 'past_due', currentPeriodEnd: NEXT_END }));
    expect(change.purchase.status).toBe('past_due');
    expect(change.purchase.currentPeriodEnd).toBe(NEXT_END);
    expect(change.history.map((entry) => entry.type)).toEqual(['cancellation.stopped']);
  });

  it('PayPal has no schedule of its own: its events never clear membergate’s pending cancellation', () => {
    const purchase = aPurchase({ processor: 'paypal', ...pending(PERIOD_END) });
    const change = apply(purchase, withState({ status: 'active' }, { processor: 'paypal' }));
    expect(change.purchase.status).toBe('pending_cancellation');
    expect(change.purchase.cancellation).toEqual(purchase.cancellation);
    expect(change.history).toEqual([]);
  });

  it('PayPal: a new period while pending is noted', () => {
    const purchase = aPurchase({ processor: 'paypal', ...pending(NEXT_END) });
    const change = apply(
      purchase,
      withState({ status: 'active', currentPeriodEnd: NEXT_END }, { processor: 'paypal' }),
    );
    expect(change.purchase.status).toBe('pending_cancellation');
    expect(change.history.map((entry) => [entry.type, entry.details.currentPeriodEnd])).toEqual([
      ['billing.updated', NEXT_END],
    ]);
  });

  it('billing already stopped (billingStopped) is never un-cancelled by a Stripe update', () => {
    const purchase = aPurchase(pending(PERIOD_END, { billingStopped: true }));
    const change = apply(purchase, withState({ status: 'paused' }));
    expect(change.purchase.status).toBe('pending_cancellation');
    expect(change.purchase.cancellation).toEqual(purchase.cancellation);
    expect(change.purchase.pause).toBeNull();
    expect(change.history).toEqual([]);
  });
});

describe('a pending status without its cancellation record (an inconsistent stored purchase)', () => {
  const broken = () => aPurchase({ status: 'pending_cancellation', cancellation: null });

  it('a scheduled cancellation is recorded as a new request instead of failing', () => {
    const change = apply(broken(), withState({ cancelAt: PERIOD_END, cancelAtPeriodEnd: true }));
    expect(change.purchase.cancellation?.effectiveAt).toBe(PERIOD_END);
    expect(change.history.map((entry) => entry.type)).toEqual(['cancellation.requested']);
  });

  it('a Stripe update without a schedule stops it, with no instant to report', () => {
    const change = apply(broken(), withState({}));
    expect(change.purchase.status).toBe('active');
    expect(change.history).toEqual([
      { at: AT, type: 'cancellation.stopped', actor: STRIPE_ACTOR, details: { canceledEffectiveAt: null, ...SOURCE } },
    ]);
  });
});

describe('status changes', () => {
  it('paused at the processor: billing.paused with the pause recorded', () => {
    const resumesAt = '2026-04-01T00:00:00.000Z';
    const change = apply(aPurchase(), withState({ status: 'paused', resumesAt }));
    expect(change.purchase.status).toBe('paused');
    expect(change.purchase.pause).toEqual({ pausedAt: OCCURRED, resumesAt });
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'billing.paused',
        actor: STRIPE_ACTOR,
        details: { from: 'active', to: 'paused', ...SOURCE },
      },
    ]);
  });

  it('unpaused at the processor: billing.unpaused, pause cleared', () => {
    const purchase = aPurchase({ status: 'paused', pause: { pausedAt: '2026-02-20T00:00:00.000Z', resumesAt: null } });
    const change = apply(purchase, withState({ status: 'active' }));
    expect(change.purchase.status).toBe('active');
    expect(change.purchase.pause).toBeNull();
    expect(change.history).toEqual([
      { at: AT, type: 'billing.unpaused', actor: STRIPE_ACTOR, details: { from: 'paused', to: 'active', ...SOURCE } },
    ]);
  });

  it('past_due back to active: billing.updated', () => {
    const change = apply(aPurchase({ status: 'past_due' }), withState({ status: 'active' }));
    expect(change.purchase.status).toBe('active');
    expect(change.history.map((entry) => [entry.type, entry.details.from, entry.details.to])).toEqual([
      ['billing.updated', 'past_due', 'active'],
    ]);
  });

  it('a paid-off plan stays completed whatever status is reported', () => {
    const purchase = aPurchase({ kind: 'payment_plan', status: 'completed', installments: { paid: 3, total: 3 } });
    const change = apply(purchase, withState({ status: 'active' }));
    expect(change.purchase.status).toBe('completed');
    expect(change.history).toEqual([]);
  });

  it('a status change with a new period notes the status only (one entry)', () => {
    const change = apply(aPurchase(), withState({ status: 'past_due', currentPeriodEnd: NEXT_END }));
    expect(change.history.map((entry) => entry.type)).toEqual(['billing.updated']);
    expect(change.history[0]?.details).toEqual({ from: 'active', to: 'past_due', ...SOURCE });
  });

  it('a new period alone is noted with the previous period end', () => {
    const change = apply(aPurchase(), withState({ currentPeriodStart: PERIOD_END, currentPeriodEnd: NEXT_END }));
    expect(change.purchase.currentPeriodStart).toBe(PERIOD_END);
    expect(change.purchase.currentPeriodEnd).toBe(NEXT_END);
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'billing.updated',
        actor: STRIPE_ACTOR,
        details: { currentPeriodEnd: NEXT_END, previousPeriodEnd: PERIOD_END, ...SOURCE },
      },
    ]);
  });

  it('a state without period fields keeps the stored period', () => {
    const change = apply(aPurchase(), withState({ currentPeriodStart: null, currentPeriodEnd: null }));
    expect(change.purchase.currentPeriodStart).toBe(PERIOD_START);
    expect(change.purchase.currentPeriodEnd).toBe(PERIOD_END);
    expect(change.history).toEqual([]);
  });
});

describe('payments', () => {
  it('a renewal paid: new period, payment id remembered, history with the amounts', () => {
    const change = apply(
      aPurchase(),
      event({
        type: 'invoice.paid',
        payment: payment({ paymentId: 'in_2', periodStart: PERIOD_END, periodEnd: NEXT_END }),
      }),
    );
    expect(change.purchase.currentPeriodStart).toBe(PERIOD_END);
    expect(change.purchase.currentPeriodEnd).toBe(NEXT_END);
    expect(change.purchase.paymentIds).toEqual(['succeeded:in_2']);
    expect(change.purchase.status).toBe('active');
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'payment.succeeded',
        actor: STRIPE_ACTOR,
        details: {
          paymentId: 'in_2',
          amount: 2900,
          currency: 'usd',
          currentPeriodEnd: NEXT_END,
          installments: null,
          status: 'active',
          eventId: 'evt_1',
          eventType: 'invoice.paid',
        },
      },
    ]);
  });

  it('a payment for a period no later than the stored one leaves the period alone', () => {
    for (const periodEnd of [PERIOD_END, '2026-02-15T00:00:00.000Z']) {
      const change = apply(
        aPurchase(),
        event({ payment: payment({ periodStart: '2026-01-15T00:00:00.000Z', periodEnd }) }),
      );
      expect(change.purchase.currentPeriodStart).toBe(PERIOD_START);
      expect(change.purchase.currentPeriodEnd).toBe(PERIOD_END);
    }
  });

  it('a period end with no start keeps the stored start; no stored end takes the reported one', () => {
    const change = apply(
      aPurchase({ currentPeriodEnd: null }),
      event({ payment: payment({ periodStart: null, periodEnd: '2026-02-20T00:00:00.000Z' }) }),
    );
    expect(change.purchase.currentPeriodStart).toBe(PERIOD_START);
    expect(change.purchase.currentPeriodEnd).toBe('2026-02-20T00:00:00.000Z');
  });

  it('the same payment reported twice counts once', () => {
    const once = apply(aPurchase(), event({ payment: payment() }));
    expect(applyProcessorEvent(once.purchase, event({ eventId: 'evt_2', payment: payment() }), NOW)).toBeNull();
  });

  it('a payment that failed and then succeeded counts both outcomes', () => {
    const failed = apply(aPurchase(), event({ payment: payment({ outcome: 'failed' }) }));
    const paid = apply(failed.purchase, event({ eventId: 'evt_2', payment: payment() }));
    expect(paid.purchase.paymentIds).toEqual(['failed:in_1', 'succeeded:in_1']);
    expect(paid.purchase.status).toBe('active');
  });

  it('remembers the last 50 payment ids only', () => {
    const seen = Array.from({ length: 50 }, (_, i) => `succeeded:in_old${i}`);
    const change = apply(aPurchase({ paymentIds: seen }), event({ payment: payment({ paymentId: 'in_new' }) }));
    expect(change.purchase.paymentIds).toHaveLength(50);
    expect(change.purchase.paymentIds?.[0]).toBe('succeeded:in_old1');
    expect(change.purchase.paymentIds?.[49]).toBe('succeeded:in_new');
  });

  it('a failed payment makes an active purchase past_due; access continues', () => {
    const change = apply(
      aPurchase(),
      event({ type: 'invoice.payment_failed', payment: payment({ outcome: 'failed' }) }),
    );
    expect(change.purchase.status).toBe('past_due');
    expect(change.purchase.products).toEqual(aPurchase().products);
    expect(change.purchase.paymentIds).toEqual(['failed:in_1']);
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'payment.failed',
        actor: STRIPE_ACTOR,
        details: {
          paymentId: 'in_1',
          amount: 2900,
          status: 'past_due',
          eventId: 'evt_1',
          eventType: 'invoice.payment_failed',
        },
      },
    ]);
  });

  it('a failed payment leaves any other status as it is', () => {
    const change = apply(aPurchase(pending(PERIOD_END)), event({ payment: payment({ outcome: 'failed' }) }));
    expect(change.purchase.status).toBe('pending_cancellation');
    expect(change.history[0]?.details.status).toBe('pending_cancellation');
  });

  it('a payment made on a past_due purchase makes it active again', () => {
    const change = apply(aPurchase({ status: 'past_due' }), event({ payment: payment() }));
    expect(change.purchase.status).toBe('active');
    expect(change.history[0]?.details.status).toBe('active');
  });

  it('a paused purchase stays paused when a payment arrives', () => {
    const purchase = aPurchase({ status: 'paused', pause: { pausedAt: OCCURRED, resumesAt: null } });
    expect(apply(purchase, event({ payment: payment() })).purchase.status).toBe('paused');
  });

  describe('payment plans', () => {
    const plan = (paid: number, overrides: Partial<Purchase> = {}) =>
      aPurchase({
        kind: 'payment_plan',
        price: {
          type: 'payment_plan',
          amount: 1000,
          currency: 'usd',
          installments: 3,
          interval: 'month',
          intervalCount: 1,
        },
        installments: { paid, total: 3 },
        ...overrides,
      });

    it('an installment paid counts one more', () => {
      const change = apply(plan(1), event({ payment: payment() }));
      expect(change.purchase.installments).toEqual({ paid: 2, total: 3 });
      expect(change.purchase.status).toBe('active');
      expect(change.history[0]?.details.installments).toEqual({ paid: 2, total: 3 });
    });

    it('the last installment completes the plan', () => {
      const change = apply(plan(2), event({ payment: payment() }));
      expect(change.purchase.installments).toEqual({ paid: 3, total: 3 });
      expect(change.purchase.status).toBe('completed');
      expect(change.history[0]?.details.status).toBe('completed');
    });

    it('the last installment paid from past_due completes the plan too', () => {
      expect(apply(plan(2, { status: 'past_due' }), event({ payment: payment() })).purchase.status).toBe('completed');
    });

    it('never counts more installments than the plan has', () => {
      const change = apply(plan(3, { status: 'completed' }), event({ payment: payment() }));
      expect(change.purchase.installments).toEqual({ paid: 3, total: 3 });
      expect(change.purchase.status).toBe('completed');
    });

    it('the last installment of a plan with a pending cancellation leaves it pending', () => {
      const change = apply(plan(2, pending(PERIOD_END)), event({ payment: payment() }));
      expect(change.purchase.installments).toEqual({ paid: 3, total: 3 });
      expect(change.purchase.status).toBe('pending_cancellation');
    });
  });

  describe('refunds reported by the processor', () => {
    it('records the refund under its processor id and the payment it came from', () => {
      const change = apply(
        aPurchase(),
        event({ type: 'charge.refunded', payment: payment({ outcome: 'refunded', refundId: 're_1', amount: 900 }) }),
      );
      expect(change.purchase.refunds).toEqual([
        {
          refundId: 'ref_re_1',
          amount: 900,
          currency: 'usd',
          at: AT,
          by: STRIPE_ACTOR,
          processorRefundId: 're_1',
          paymentId: 'in_1',
        },
      ]);
      expect(change.purchase.status).toBe('active');
      expect(change.purchase.products).toEqual(aPurchase().products);
      expect(change.purchase.paymentIds).toBeUndefined();
      expect(change.history).toEqual([
        {
          at: AT,
          type: 'refund.created',
          actor: STRIPE_ACTOR,
          details: { amount: 900, currency: 'usd', eventId: 'evt_1', eventType: 'charge.refunded' },
        },
      ]);
    });

    it('without a refund id, the payment id and amount identify it', () => {
      const change = apply(aPurchase(), event({ payment: payment({ outcome: 'refunded', amount: 900 }) }));
      expect(change.purchase.refunds[0]).toMatchObject({ refundId: 'ref_in_1:900', processorRefundId: 'in_1:900' });
    });

    it('the same refund reported twice is recorded once', () => {
      const e = event({ payment: payment({ outcome: 'refunded', refundId: 're_1', amount: 900 }) });
      const once = apply(aPurchase(), e);
      expect(applyProcessorEvent(once.purchase, { ...e, eventId: 'evt_2' }, NOW)).toBeNull();
    });

    it('two different refunds of one payment are both recorded', () => {
      const first = apply(
        aPurchase(),
        event({ payment: payment({ outcome: 'refunded', refundId: 're_1', amount: 900 }) }),
      );
      const second = apply(
        first.purchase,
        event({ eventId: 'evt_2', payment: payment({ outcome: 'refunded', refundId: 're_2', amount: 100 }) }),
      );
      expect(second.purchase.refunds.map((refund) => refund.processorRefundId)).toEqual(['re_1', 're_2']);
    });
  });
});
