import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  applyDueActions,
  cancel,
  cancelImmediately,
  currentPeriodEnd,
  deriveAccessEndsAt,
  isRecurring,
  nextDueAt,
  pause,
  pendingActions,
  planCancellation,
  refuseIfNotBillable,
  stopCancellation,
  unpause,
} from '../../shared/domain/billing.ts';
import { ConflictError, InvalidInputError } from '../../shared/domain/errors.ts';
import { chargesUntil } from '../../shared/domain/preview.ts';
import { addDays, earliest, hasPassed, toInstant } from '../../shared/domain/time.ts';
import type { Actor, Purchase } from '../../shared/domain/types.ts';
import { ADMIN, activeGrant, aPurchase, NOW, revokedGrant, SUPPORT, thrownBy } from './fixtures.ts';

// The rules of billing.ts, time.ts and preview.ts that the state-machine tests (billing.test.ts) reach only
// through their outcome: the history entries, the secondary fields, the edges of each condition.

const AT = NOW.toISOString();
const PERIOD_END = '2026-03-15T00:00:00.000Z';
const CANCEL_EFFECTIVE: Actor = { type: 'system', reason: 'cancellation_effective' };
const PERIOD_ENDED: Actor = { type: 'system', reason: 'access_period_ended' };

const plan = (overrides: Partial<Purchase> = {}) =>
  aPurchase({
    kind: 'payment_plan',
    price: {
      type: 'payment_plan',
      amount: 5000,
      currency: 'usd',
      installments: 6,
      interval: 'month',
      intervalCount: 1,
    },
    installments: { paid: 2, total: 6 },
    ...overrides,
  });

describe('time', () => {
  it('earliest returns the earliest instant whatever the order, skipping null and undefined', () => {
    expect(earliest(['2026-03-05T00:00:00.000Z', '2026-03-01T00:00:00.000Z', '2026-03-09T00:00:00.000Z'])).toBe(
      '2026-03-01T00:00:00.000Z',
    );
    expect(earliest([null, '2026-03-05T00:00:00.000Z', undefined, '2026-03-04T00:00:00.000Z'])).toBe(
      '2026-03-04T00:00:00.000Z',
    );
    expect(earliest([null, undefined])).toBeNull();
    expect(earliest([])).toBeNull();
  });

  it('earliest is the minimum of any list of instants (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.option(fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), {
            nil: null,
          }),
        ),
        (dates) => {
          const instants = dates.map((d) => (d ? d.toISOString() : null));
          const present = dates.filter((d): d is Date => d !== null).map((d) => d.getTime());
          const expected = present.length ? new Date(Math.min(...present)).toISOString() : null;
          expect(earliest(instants)).toBe(expected);
        },
      ),
    );
  });

  it('addDays adds whole days of 86 400 000 ms; hasPassed is true at and after the instant', () => {
    expect(addDays('2026-03-01T10:00:00.000Z', 30)).toBe('2026-03-31T10:00:00.000Z');
    expect(addDays('2026-03-01T10:00:00.000Z', 0)).toBe('2026-03-01T10:00:00.000Z');
    expect(hasPassed(AT, NOW)).toBe(true);
    expect(hasPassed('2026-03-01T09:59:59.999Z', NOW)).toBe(true);
    expect(hasPassed('2026-03-01T10:00:00.001Z', NOW)).toBe(false);
    expect(toInstant(NOW)).toBe('2026-03-01T10:00:00.000Z');
  });
});

describe('which purchases take billing actions', () => {
  it('subscriptions and payment plans are recurring; one-time and free are not', () => {
    expect(isRecurring({ kind: 'subscription' })).toBe(true);
    expect(isRecurring({ kind: 'payment_plan' })).toBe(true);
    expect(isRecurring({ kind: 'one_time' })).toBe(false);
    expect(isRecurring({ kind: 'free' })).toBe(false);
  });

  it('the refusals name the action and the reason', () => {
    const message = (purchase: Purchase) =>
      (thrownBy(() => refuseIfNotBillable(purchase, 'pause billing')) as Error).message;
    expect(message(aPurchase({ kind: 'free', price: { type: 'free' } }))).toBe(
      'cannot pause billing: this is a free purchase, there are no payments to cancel or pause',
    );
    expect(message(aPurchase({ kind: 'one_time', price: { type: 'one_time', amount: 1, currency: 'usd' } }))).toBe(
      'cannot pause billing: this is a one-time purchase, there are no payments to cancel or pause',
    );
    expect(message(aPurchase({ status: 'canceled' }))).toBe(
      'cannot pause billing: this subscription was canceled and can never be reinstated; the customer must purchase again',
    );
    expect(message(plan({ status: 'canceled' }))).toBe(
      'cannot pause billing: this payment plan was canceled and can never be reinstated; 4 of 6 installments were left unpaid, so sell the customer a new plan for the remaining balance',
    );
    expect(message(plan({ status: 'canceled', installments: { paid: 7, total: 6 } }))).toMatch(
      /; 0 of 6 installments were left unpaid/,
    );
    expect(message(plan({ status: 'canceled', installments: null }))).toBe(
      'cannot pause billing: this payment plan was canceled and can never be reinstated; the customer must purchase again',
    );
    expect(message(plan({ status: 'completed', installments: { paid: 6, total: 6 } }))).toBe(
      'cannot pause billing: this payment plan is paid off; there are no payments left',
    );
  });

  it('a live purchase passes', () => {
    for (const status of ['active', 'past_due', 'paused', 'pending_cancellation'] as const) {
      expect(refuseIfNotBillable(aPurchase({ status }), 'cancel payments')).toBeUndefined();
    }
  });
});

describe('planCancellation: when it takes effect and what it still charges', () => {
  it('now and period_end charge nothing more', () => {
    expect(planCancellation(aPurchase(), { when: 'now' }, NOW)).toEqual({
      effectiveAt: AT,
      localDay: null,
      charges: [],
    });
    expect(planCancellation(aPurchase(), { when: 'period_end' }, NOW)).toEqual({
      effectiveAt: PERIOD_END,
      localDay: null,
      charges: [],
    });
  });

  it('period_end of a passed period is the end of the period running now', () => {
    const stale = aPurchase({ currentPeriodEnd: '2026-02-20T00:00:00.000Z' });
    expect(planCancellation(stale, { when: 'period_end' }, NOW).effectiveAt).toBe('2026-03-20T00:00:00.000Z');
  });

  it('period_end with no known period end is a 409 that says so', () => {
    const error = thrownBy(() => planCancellation(aPurchase({ currentPeriodEnd: null }), { when: 'period_end' }, NOW));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toBe(
      'cannot cancel at the end of the billing period: the current period end is not known',
    );
  });

  it('a date cancellation without a date is a 400 naming date', () => {
    for (const date of [undefined, '']) {
      const error = thrownBy(() => planCancellation(aPurchase(), { when: 'date', date }, NOW));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toBe('a custom-date cancellation needs a date');
      expect((error as InvalidInputError).details).toEqual([
        { field: 'date', message: 'required when when is "date"' },
      ]);
    }
  });

  it('a date in the past is a 400 that says it must be in the future', () => {
    const error = thrownBy(() =>
      planCancellation(aPurchase(), { when: 'date', date: '2026-02-01T00:00:00.000Z' }, NOW),
    );
    expect((error as Error).message).toBe('the cancellation date must be in the future');
    expect((error as InvalidInputError).details).toEqual([{ field: 'date', message: 'must be in the future' }]);
  });

  it('a date within the current period charges nothing', () => {
    expect(planCancellation(aPurchase(), { when: 'date', date: '2026-03-10T00:00:00.000Z' }, NOW)).toEqual({
      effectiveAt: '2026-03-10T00:00:00.000Z',
      localDay: null,
      charges: [],
    });
  });

  it('a date with no known period end previews no charges (not renewals from 1970)', () => {
    const plan = planCancellation(
      aPurchase({ currentPeriodEnd: null }),
      { when: 'date', date: '2026-05-01T00:00:00.000Z' },
      NOW,
    );
    expect(plan).toEqual({ effectiveAt: '2026-05-01T00:00:00.000Z', localDay: null, charges: [] });
  });

  it('the refusal comes first: a canceled purchase cannot even be previewed', () => {
    expect(thrownBy(() => planCancellation(aPurchase({ status: 'canceled' }), { when: 'now' }, NOW))).toBeInstanceOf(
      ConflictError,
    );
  });

  it('a payment plan’s passed period end rolls forward, and only the installments left are charged', () => {
    const stale = plan({ currentPeriodEnd: '2026-01-20T00:00:00.000Z', installments: { paid: 4, total: 6 } });
    expect(currentPeriodEnd(stale, NOW)).toBe('2026-03-20T00:00:00.000Z');
    const preview = planCancellation(stale, { when: 'date', date: '2026-12-01T00:00:00.000Z' }, NOW);
    expect(preview.charges).toEqual([
      { at: '2026-03-20T00:00:00.000Z', amount: 5000, currency: 'usd', prorated: false },
      { at: '2026-04-20T00:00:00.000Z', amount: 5000, currency: 'usd', prorated: false },
    ]);
  });

  it('a plan with more installments paid than it has charges nothing', () => {
    const over = plan({ installments: { paid: 8, total: 6 } });
    expect(planCancellation(over, { when: 'date', date: '2026-12-01T00:00:00.000Z' }, NOW).charges).toEqual([]);
  });

  it('currentPeriodEnd: a period end not yet passed is kept; ending exactly now rolls to the next', () => {
    expect(currentPeriodEnd(aPurchase(), NOW)).toBe(PERIOD_END);
    expect(currentPeriodEnd(aPurchase({ currentPeriodEnd: AT }), NOW)).toBe('2026-04-01T10:00:00.000Z');
    expect(currentPeriodEnd(aPurchase({ currentPeriodEnd: null }), NOW)).toBeNull();
  });

  it('currentPeriodEnd of a one-time purchase is whatever is stored, never rolled', () => {
    const oneTime = aPurchase({
      kind: 'one_time',
      price: { type: 'one_time', amount: 100, currency: 'usd' },
      currentPeriodEnd: '2026-01-01T00:00:00.000Z',
    });
    expect(currentPeriodEnd(oneTime, NOW)).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('a price that does not recur previews no renewals', () => {
  it.each([
    ['one-time', { type: 'one_time', amount: 100, currency: 'usd' }],
    ['free', { type: 'free' }],
  ] as const)('a subscription record carrying a %s price: no charges, and no failure', (_, price) => {
    const odd = aPurchase({ price });
    expect(planCancellation(odd, { when: 'date', date: '2026-06-01T00:00:00.000Z' }, NOW)).toEqual({
      effectiveAt: '2026-06-01T00:00:00.000Z',
      localDay: null,
      charges: [],
    });
    expect(currentPeriodEnd(aPurchase({ price, currentPeriodEnd: '2026-01-01T00:00:00.000Z' }), NOW)).toBe(
      '2026-01-01T00:00:00.000Z',
    );
  });
});

describe('chargesUntil: the "date too far ahead" guard', () => {
  const daily = { interval: 'day', intervalCount: 1 } as const;
  const price = { amount: 100, currency: 'usd' };

  it('lists exactly maxCharges renewals, and refuses one more with a 400 naming date', () => {
    const start = '2026-03-02T00:00:00.000Z';
    expect(chargesUntil(start, daily, price, '2026-03-05T00:00:00.000Z', null, 3)).toHaveLength(3);
    const error = thrownBy(() => chargesUntil(start, daily, price, '2026-03-06T00:00:00.000Z', null, 3));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe('the date is too far ahead');
    expect((error as InvalidInputError).details).toEqual([
      { field: 'date', message: 'would bill more than 3 renewals' },
    ]);
  });

  it('by default a daily subscription can preview 1000 renewals and no more', () => {
    const start = '2026-03-02T00:00:00.000Z';
    expect(chargesUntil(start, daily, price, addDays(start, 1000))).toHaveLength(1000);
    expect(thrownBy(() => chargesUntil(start, daily, price, addDays(start, 1001)))).toBeInstanceOf(InvalidInputError);
  });

  it('a cancellation date too far ahead is refused by cancel', () => {
    const purchase = aPurchase({
      price: { type: 'subscription', amount: 100, currency: 'usd', interval: 'day', intervalCount: 1 },
    });
    const error = thrownBy(() => cancel(purchase, { when: 'date', date: '2030-01-01T00:00:00.000Z' }, ADMIN, NOW));
    expect((error as Error).message).toBe('the date is too far ahead');
  });

  it('a date on or before the period end costs nothing', () => {
    expect(chargesUntil(PERIOD_END, daily, price, PERIOD_END)).toEqual([]);
    expect(chargesUntil(PERIOD_END, daily, price, '2026-03-14T00:00:00.000Z')).toEqual([]);
  });

  it('a prorated charge is rounded half up to the cent', () => {
    // 12 h of a 24 h cycle of 101 = 50.5 → 51.
    expect(chargesUntil(PERIOD_END, daily, { amount: 101, currency: 'usd' }, '2026-03-15T12:00:00.000Z')).toEqual([
      { at: PERIOD_END, amount: 51, currency: 'usd', prorated: true },
    ]);
  });

  it('the charges add up to the full cycles plus the prorated share (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 * 24 }), fc.integer({ min: 1, max: 100_000 }), (hours, amount) => {
        const cancelAt = new Date(Date.parse(PERIOD_END) + hours * 3_600_000).toISOString();
        const charges = chargesUntil(PERIOD_END, daily, { amount, currency: 'usd' }, cancelAt);
        const full = Math.floor(hours / 24);
        const rest = hours % 24;
        expect(charges.filter((c) => !c.prorated)).toHaveLength(full);
        expect(charges.filter((c) => c.prorated).map((c) => c.amount)).toEqual(
          rest === 0 ? [] : [Math.round((amount * rest) / 24)],
        );
        expect(charges.map((c) => c.at)).toEqual(charges.map((_, k) => addDays(PERIOD_END, k)));
      }),
    );
  });
});

describe('history entries and secondary fields of each transition', () => {
  it('cancel at period end: one cancellation.requested entry with when, effectiveAt and charges', () => {
    const change = cancel(aPurchase(), { when: 'period_end' }, SUPPORT, NOW);
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'cancellation.requested',
        actor: SUPPORT,
        details: { when: 'period_end', effectiveAt: PERIOD_END, charges: [] },
      },
    ]);
    expect(change.purchase).toEqual(
      aPurchase({
        status: 'pending_cancellation',
        cancellation: {
          when: 'period_end',
          effectiveAt: PERIOD_END,
          requestedBy: SUPPORT,
          requestedAt: AT,
          localDay: null,
        },
        accessEndsAt: PERIOD_END,
        updatedAt: AT,
        version: 4,
      }),
    );
  });

  it('cancel on a date beyond the period: the entry lists the charges still due', () => {
    const change = cancel(aPurchase(), { when: 'date', date: '2026-04-15T00:00:00.000Z' }, ADMIN, NOW);
    expect(change.history[0]?.details).toEqual({
      when: 'date',
      effectiveAt: '2026-04-15T00:00:00.000Z',
      charges: [{ at: PERIOD_END, amount: 2900, currency: 'usd', prorated: false }],
    });
  });

  it('cancel now: who asked, that it took effect, every grant revoked by cancellation_effective', () => {
    const paused = aPurchase({ status: 'paused', pause: { pausedAt: '2026-02-20T00:00:00.000Z', resumesAt: null } });
    const change = cancel(paused, { when: 'now' }, ADMIN, NOW);
    const cancellation = { when: 'now' as const, effectiveAt: AT, requestedBy: ADMIN, requestedAt: AT };
    expect(change.purchase).toEqual(
      aPurchase({
        status: 'canceled',
        cancellation,
        pause: null,
        accessEndsAt: AT,
        products: [
          { productId: 'course', access: 'revoked', revokedAt: AT, revokedBy: CANCEL_EFFECTIVE, label: 'Revoked' },
          { productId: 'community', access: 'revoked', revokedAt: AT, revokedBy: CANCEL_EFFECTIVE, label: 'Revoked' },
        ],
        updatedAt: AT,
        version: 4,
      }),
    );
    expect(change.history).toEqual([
      { at: AT, type: 'cancellation.requested', actor: ADMIN, details: { when: 'now', effectiveAt: AT } },
      {
        at: AT,
        type: 'cancellation.effective',
        actor: CANCEL_EFFECTIVE,
        label: 'Revoked',
        details: { effectiveAt: AT, requestedBy: ADMIN, requestedAt: AT },
      },
    ]);
  });

  it('cancel now keeps a grant revoked earlier as it was', () => {
    const earlier = revokedGrant('community', '2026-02-01T00:00:00.000Z', SUPPORT, 'Revoked by our support team');
    const change = cancelImmediately(aPurchase({ products: [activeGrant('course'), earlier] }), ADMIN, NOW);
    expect(change.purchase.products[1]).toEqual(earlier);
  });

  it('cancelImmediately: the caller’s details are kept, when and effectiveAt cannot be overridden', () => {
    const change = cancelImmediately(aPurchase(), ADMIN, NOW, { reason: 'x', when: 'later', effectiveAt: 'never' });
    expect(change.history[0]?.details).toEqual({ reason: 'x', when: 'now', effectiveAt: AT });
  });

  it('stop the cancellation: cancellation.stopped with the instant that was canceled', () => {
    const pending = cancel(aPurchase(), { when: 'period_end' }, ADMIN, NOW).purchase;
    const change = stopCancellation(pending, SUPPORT, NOW);
    expect(change.history).toEqual([
      { at: AT, type: 'cancellation.stopped', actor: SUPPORT, details: { canceledEffectiveAt: PERIOD_END } },
    ]);
    expect(change.purchase.version).toBe(5);
    expect(change.purchase.status).toBe('active');
  });

  it('stop without a cancellation on record is a 409 naming the status', () => {
    const error = thrownBy(() => stopCancellation(aPurchase({ status: 'pending_cancellation' }), ADMIN, NOW));
    expect((error as Error).message).toBe('there is no pending cancellation to stop (status is pending_cancellation)');
    expect((thrownBy(() => stopCancellation(aPurchase(), ADMIN, NOW)) as Error).message).toBe(
      'there is no pending cancellation to stop (status is active)',
    );
  });

  it('pause: billing.paused with resumesAt, status paused; access untouched', () => {
    const change = pause(aPurchase({ status: 'past_due' }), null, SUPPORT, NOW);
    expect(change.history).toEqual([{ at: AT, type: 'billing.paused', actor: SUPPORT, details: { resumesAt: null } }]);
    expect(change.purchase).toEqual(
      aPurchase({
        status: 'paused',
        pause: { pausedAt: AT, resumesAt: null, localDay: null },
        updatedAt: AT,
        version: 4,
      }),
    );
  });

  it('pause refusals say why', () => {
    const paused = aPurchase({ status: 'paused', pause: { pausedAt: AT, resumesAt: null } });
    expect((thrownBy(() => pause(paused, null, ADMIN, NOW)) as Error).message).toBe('billing is already paused');
    const pending = cancel(aPurchase(), { when: 'period_end' }, ADMIN, NOW).purchase;
    expect((thrownBy(() => pause(pending, null, ADMIN, NOW)) as Error).message).toBe(
      'cannot pause a subscription with a pending cancellation: stop the cancellation first',
    );
    const error = thrownBy(() => pause(aPurchase(), AT, ADMIN, NOW)) as InvalidInputError;
    expect(error.message).toBe('resumesAt must be in the future');
    expect(error.details).toEqual([{ field: 'resumesAt', message: 'must be in the future' }]);
  });

  it('unpause: billing.unpaused with when it was paused; pause cleared', () => {
    const paused = aPurchase({ status: 'paused', pause: { pausedAt: '2026-02-20T00:00:00.000Z', resumesAt: null } });
    const change = unpause(paused, ADMIN, NOW);
    expect(change.history).toEqual([
      { at: AT, type: 'billing.unpaused', actor: ADMIN, details: { pausedAt: '2026-02-20T00:00:00.000Z' } },
    ]);
    expect(change.purchase).toEqual(aPurchase({ status: 'active', pause: null, updatedAt: AT, version: 4 }));
  });

  it('unpause of a paused purchase without a pause record says pausedAt null', () => {
    const change = unpause(aPurchase({ status: 'paused', pause: null }), ADMIN, NOW);
    expect(change.history[0]?.details).toEqual({ pausedAt: null });
  });

  it('unpause when not paused is a 409 naming the status', () => {
    expect((thrownBy(() => unpause(aPurchase(), ADMIN, NOW)) as Error).message).toBe(
      'billing is not paused (status is active)',
    );
  });
});

describe('timed actions: what is still awaited', () => {
  const oneRevokedByHand = (overrides: Partial<Purchase> = {}) =>
    aPurchase({
      accessPeriodEndsAt: '2026-03-20T00:00:00.000Z',
      products: [
        activeGrant('course'),
        revokedGrant('community', '2026-02-01T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com'),
      ],
      ...overrides,
    });

  it('after one product is revoked by hand, the access-period timer is still armed for the others', () => {
    expect(pendingActions(oneRevokedByHand())).toEqual([{ purpose: 'access_period', at: '2026-03-20T00:00:00.000Z' }]);
    expect(nextDueAt(oneRevokedByHand())).toBe('2026-03-20T00:00:00.000Z');
  });

  it('when the access period ends, only the still-active products are revoked, by access_period_ended', () => {
    const purchase = oneRevokedByHand();
    const change = applyDueActions(purchase, new Date('2026-03-21T00:00:00.000Z'));
    expect(change?.purchase.products).toEqual([
      {
        productId: 'course',
        access: 'revoked',
        revokedAt: '2026-03-20T00:00:00.000Z',
        revokedBy: PERIOD_ENDED,
        label: 'Revoked',
      },
      purchase.products[1],
    ]);
    expect(change?.history).toEqual([
      {
        at: '2026-03-21T00:00:00.000Z',
        type: 'access.period_ended',
        actor: PERIOD_ENDED,
        label: 'Revoked',
        details: { accessPeriodEndsAt: '2026-03-20T00:00:00.000Z', productIds: ['course'] },
      },
    ]);
    expect(change?.purchase.status).toBe('active');
    expect(change?.purchase.updatedAt).toBe('2026-03-21T00:00:00.000Z');
  });

  it('a canceled purchase awaits nothing, even with a cancellation on record and an access period', () => {
    const canceled = aPurchase({
      status: 'canceled',
      cancellation: { when: 'date', effectiveAt: '2026-03-10T00:00:00.000Z', requestedBy: ADMIN, requestedAt: AT },
      accessPeriodEndsAt: '2026-03-20T00:00:00.000Z',
      pause: { pausedAt: AT, resumesAt: '2026-03-12T00:00:00.000Z' },
    });
    expect(pendingActions(canceled)).toEqual([]);
    expect(applyDueActions(canceled, new Date('2026-04-01T00:00:00.000Z'))).toBeNull();
  });

  it('an active purchase with a stale cancellation record awaits no cancellation', () => {
    const stale = aPurchase({
      cancellation: { when: 'date', effectiveAt: '2026-03-10T00:00:00.000Z', requestedBy: ADMIN, requestedAt: AT },
    });
    expect(pendingActions(stale)).toEqual([]);
  });

  it('a pause awaits its end only when it has one', () => {
    expect(pendingActions(aPurchase({ status: 'paused', pause: { pausedAt: AT, resumesAt: null } }))).toEqual([]);
    expect(
      pendingActions(aPurchase({ status: 'paused', pause: { pausedAt: AT, resumesAt: '2026-03-12T00:00:00.000Z' } })),
    ).toEqual([{ purpose: 'pause_end', at: '2026-03-12T00:00:00.000Z' }]);
    expect(
      pendingActions(aPurchase({ status: 'active', pause: { pausedAt: AT, resumesAt: '2026-03-12T00:00:00.000Z' } })),
    ).toEqual([]);
  });

  it('a pause that ends by itself: billing.unpaused by pause_ended, with when it was to resume', () => {
    const paused = aPurchase({ status: 'paused', pause: { pausedAt: AT, resumesAt: '2026-03-12T00:00:00.000Z' } });
    const change = applyDueActions(paused, new Date('2026-03-12T00:00:01.000Z'));
    expect(change?.history).toEqual([
      {
        at: '2026-03-12T00:00:01.000Z',
        type: 'billing.unpaused',
        actor: { type: 'system', reason: 'pause_ended' },
        details: { resumesAt: '2026-03-12T00:00:00.000Z' },
      },
    ]);
    expect(change?.purchase).toEqual(
      aPurchase({ status: 'active', pause: null, updatedAt: '2026-03-12T00:00:01.000Z', version: 4 }),
    );
  });

  it('a cancellation takes effect: cancellation.effective with who asked and when, grants revoked at the instant', () => {
    const pending = cancel(aPurchase(), { when: 'date', date: '2026-03-05T00:00:00.000Z' }, SUPPORT, NOW).purchase;
    const change = applyDueActions(pending, new Date('2026-03-05T00:01:00.000Z'));
    expect(change?.history).toEqual([
      {
        at: '2026-03-05T00:01:00.000Z',
        type: 'cancellation.effective',
        actor: CANCEL_EFFECTIVE,
        label: 'Revoked',
        details: { effectiveAt: '2026-03-05T00:00:00.000Z', requestedBy: SUPPORT, requestedAt: AT },
      },
    ]);
    expect(change?.purchase.products.map((grant) => grant.revokedBy)).toEqual([CANCEL_EFFECTIVE, CANCEL_EFFECTIVE]);
    expect(change?.purchase.accessEndsAt).toBe('2026-03-05T00:00:00.000Z');
    expect(change?.purchase.version).toBe(5);
  });

  it('due actions apply in time order whatever order they were listed in', () => {
    const purchase = aPurchase({
      status: 'pending_cancellation',
      cancellation: { when: 'date', effectiveAt: '2026-03-05T00:00:00.000Z', requestedBy: ADMIN, requestedAt: AT },
      accessPeriodEndsAt: '2026-03-04T00:00:00.000Z',
    });
    const change = applyDueActions(purchase, new Date('2026-03-06T00:00:00.000Z'));
    expect(change?.history.map((entry) => entry.type)).toEqual(['access.period_ended', 'cancellation.effective']);
    expect(change?.purchase.products.map((grant) => grant.revokedBy)).toEqual([PERIOD_ENDED, PERIOD_ENDED]);
    const reversed = { ...purchase, accessPeriodEndsAt: '2026-03-05T12:00:00.000Z' };
    const second = applyDueActions(reversed, new Date('2026-03-06T00:00:00.000Z'));
    expect(second?.history.map((entry) => entry.type)).toEqual(['cancellation.effective']);
    expect(second?.purchase.products.map((grant) => grant.revokedBy)).toEqual([CANCEL_EFFECTIVE, CANCEL_EFFECTIVE]);
  });

  it('deriveAccessEndsAt is the earlier of the access period and the cancellation', () => {
    const cancellation = {
      when: 'date' as const,
      effectiveAt: '2026-03-10T00:00:00.000Z',
      requestedBy: ADMIN,
      requestedAt: AT,
    };
    expect(deriveAccessEndsAt({ accessPeriodEndsAt: '2026-03-20T00:00:00.000Z', cancellation })).toBe(
      '2026-03-10T00:00:00.000Z',
    );
    expect(deriveAccessEndsAt({ accessPeriodEndsAt: '2026-03-05T00:00:00.000Z', cancellation })).toBe(
      '2026-03-05T00:00:00.000Z',
    );
    expect(deriveAccessEndsAt({ accessPeriodEndsAt: null, cancellation })).toBe('2026-03-10T00:00:00.000Z');
  });
});
