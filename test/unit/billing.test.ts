import { describe, expect, it } from '@jest/globals';
import {
  applyDueActions,
  CANCEL_FROM,
  cancel,
  cancelImmediately,
  currentPeriodEnd,
  deriveAccessEndsAt,
  nextDueAt,
  PAUSE_FROM,
  pause,
  pendingActions,
  planCancellation,
  STOP_FROM,
  stopCancellation,
  UNPAUSE_FROM,
  unpause,
} from '../../shared/domain/billing.ts';
import { ConflictError, InvalidInputError } from '../../shared/domain/errors.ts';
import type { Purchase, PurchaseStatus } from '../../shared/domain/types.ts';
import { ADMIN, AUTOMATION, aPurchase, NOW, thrownBy } from './fixtures.ts';

const PERIOD_END = '2026-03-15T00:00:00.000Z';
const ALL: PurchaseStatus[] = ['active', 'pending_cancellation', 'paused', 'past_due', 'canceled', 'completed'];

function inStatus(status: PurchaseStatus, overrides: Partial<Purchase> = {}): Purchase {
  const extra: Partial<Purchase> =
    status === 'pending_cancellation'
      ? {
          cancellation: {
            when: 'period_end',
            effectiveAt: PERIOD_END,
            requestedBy: ADMIN,
            requestedAt: NOW.toISOString(),
          },
        }
      : status === 'paused'
        ? { pause: { pausedAt: NOW.toISOString(), resumesAt: null } }
        : {};
  return aPurchase({ status, ...extra, ...overrides });
}

type Transition = (purchase: Purchase) => unknown;
const TRANSITIONS: Record<string, { run: Transition; from: readonly PurchaseStatus[]; to: PurchaseStatus }> = {
  'cancel now': { run: (p) => cancel(p, { when: 'now' }, ADMIN, NOW), from: CANCEL_FROM, to: 'canceled' },
  'cancel at period end': {
    run: (p) => cancel(p, { when: 'period_end' }, ADMIN, NOW),
    from: ['active', 'past_due', 'pending_cancellation'],
    to: 'pending_cancellation',
  },
  'cancel on a date': {
    run: (p) => cancel(p, { when: 'date', date: '2026-04-01T00:00:00.000Z' }, ADMIN, NOW),
    from: ['active', 'past_due', 'pending_cancellation'],
    to: 'pending_cancellation',
  },
  'stop the cancellation': { run: (p) => stopCancellation(p, ADMIN, NOW), from: STOP_FROM, to: 'active' },
  pause: { run: (p) => pause(p, null, ADMIN, NOW), from: PAUSE_FROM, to: 'paused' },
  unpause: { run: (p) => unpause(p, ADMIN, NOW), from: UNPAUSE_FROM, to: 'active' },
};

describe('the billing state machine', () => {
  for (const [name, transition] of Object.entries(TRANSITIONS)) {
    for (const status of ALL) {
      const allowed = transition.from.includes(status) && !(name.startsWith('cancel on') && status === 'paused');
      if (allowed) {
        it(`${name}: ${status} → ${transition.to}`, () => {
          const change = transition.run(inStatus(status)) as { purchase: Purchase };
          expect(change.purchase.status).toBe(transition.to);
          expect(change.purchase.version).toBe(4);
        });
      } else {
        it(`${name}: refused from ${status} with a 409 that explains why`, () => {
          const error = thrownBy(() => transition.run(inStatus(status)));
          expect(error).toBeInstanceOf(ConflictError);
          expect((error as Error).message.length).toBeGreaterThan(20);
        });
      }
    }
  }

  it('scheduling a cancellation while paused is refused: unpause first or cancel now', () => {
    const error = thrownBy(() => cancel(inStatus('paused'), { when: 'period_end' }, ADMIN, NOW));
    expect((error as Error).message).toMatch(/unpause first/);
  });

  it('a canceled subscription says the customer must purchase again (rule 6)', () => {
    const error = thrownBy(() => stopCancellation(inStatus('canceled'), ADMIN, NOW));
    expect((error as Error).message).toMatch(/never be reinstated; the customer must purchase again/);
  });

  it('a canceled payment plan says how many installments were left', () => {
    const plan = inStatus('canceled', {
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
    });
    const error = thrownBy(() => unpause(plan, ADMIN, NOW));
    expect((error as Error).message).toMatch(/4 of 6 installments were left unpaid/);
  });

  it.each([
    ['one_time', { type: 'one_time', amount: 4900, currency: 'usd' }],
    ['free', { type: 'free' }],
  ] as const)('a %s purchase has no payments to cancel or pause', (kind, price) => {
    const purchase = aPurchase({ kind, price, currentPeriodEnd: null });
    for (const run of [() => cancel(purchase, { when: 'now' }, ADMIN, NOW), () => pause(purchase, null, ADMIN, NOW)]) {
      expect((thrownBy(run) as Error).message).toMatch(/no payments to cancel/);
    }
  });
});

describe('cancel', () => {
  it('now revokes every grant with label "Revoked" and records who asked', () => {
    const change = cancel(aPurchase(), { when: 'now' }, AUTOMATION, NOW);

    expect(change.purchase.products.map((g) => [g.access, g.label])).toEqual([
      ['revoked', 'Revoked'],
      ['revoked', 'Revoked'],
    ]);
    expect(change.purchase.accessEndsAt).toBe(NOW.toISOString());
    expect(change.history.map((e) => e.type)).toEqual(['cancellation.requested', 'cancellation.effective']);
    expect(change.history[0]!.actor).toEqual(AUTOMATION);
  });

  it('period_end keeps access until the period end and changes no grant', () => {
    const change = cancel(aPurchase(), { when: 'period_end' }, ADMIN, NOW);

    expect(change.purchase.accessEndsAt).toBe(PERIOD_END);
    expect(change.purchase.cancellation).toEqual({
      when: 'period_end',
      effectiveAt: PERIOD_END,
      requestedBy: ADMIN,
      requestedAt: NOW.toISOString(),
      localDay: null,
    });
    expect(change.purchase.products.every((g) => g.access === 'active')).toBe(true);
  });

  it('period_end without a known period end is a conflict', () => {
    const error = thrownBy(() => cancel(aPurchase({ currentPeriodEnd: null }), { when: 'period_end' }, ADMIN, NOW));
    expect(error).toBeInstanceOf(ConflictError);
  });

  it('a date in the past, or at this very instant, is invalid input naming date', () => {
    for (const date of ['2026-02-01T00:00:00.000Z', NOW.toISOString()]) {
      const error = thrownBy(() => cancel(aPurchase(), { when: 'date', date }, ADMIN, NOW));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).details[0]!.field).toBe('date');
    }
  });

  it('access ends at the earlier of the access period and the cancellation', () => {
    const purchase = aPurchase({ accessPeriodEndsAt: '2026-03-10T00:00:00.000Z' });
    const change = cancel(purchase, { when: 'date', date: '2026-03-20T00:00:00.000Z' }, ADMIN, NOW);
    expect(change.purchase.accessEndsAt).toBe('2026-03-10T00:00:00.000Z');
  });

  it('a processor ending the subscription cancels at once with the same result', () => {
    const processor = { type: 'processor', processor: 'stripe', eventId: 'evt_1' } as const;
    const change = cancelImmediately(aPurchase(), processor, NOW, { reason: 'customer.subscription.deleted' });
    expect(change.purchase.status).toBe('canceled');
    expect(change.history[0]!.details).toMatchObject({ reason: 'customer.subscription.deleted', when: 'now' });
  });
});

describe('stop a pending cancellation', () => {
  it('returns to active with the old period end and no access end', () => {
    const pending = cancel(aPurchase(), { when: 'period_end' }, ADMIN, NOW).purchase;
    const change = stopCancellation(pending, ADMIN, NOW);
    expect(change.purchase).toMatchObject({
      status: 'active',
      cancellation: null,
      accessEndsAt: null,
      currentPeriodEnd: PERIOD_END,
    });
  });

  it('keeps the access period of an accessDays offer', () => {
    const pending = cancel(
      aPurchase({ accessPeriodEndsAt: '2026-05-01T00:00:00.000Z' }),
      { when: 'period_end' },
      ADMIN,
      NOW,
    ).purchase;
    expect(stopCancellation(pending, ADMIN, NOW).purchase.accessEndsAt).toBe('2026-05-01T00:00:00.000Z');
  });
});

describe('pause', () => {
  it('records pausedAt and resumesAt; access is untouched', () => {
    const change = pause(aPurchase(), '2026-04-01T00:00:00.000Z', ADMIN, NOW);
    expect(change.purchase.pause).toEqual({
      pausedAt: NOW.toISOString(),
      resumesAt: '2026-04-01T00:00:00.000Z',
      localDay: null,
    });
    expect(change.purchase.accessEndsAt).toBeNull();
  });

  it('a resumesAt in the past is invalid input naming resumesAt', () => {
    const error = thrownBy(() => pause(aPurchase(), '2026-01-01T00:00:00.000Z', ADMIN, NOW));
    expect((error as InvalidInputError).details[0]!.field).toBe('resumesAt');
  });
});

describe('timed actions', () => {
  const pendingUntil = (effectiveAt: string) =>
    cancel(aPurchase(), { when: 'date', date: effectiveAt }, ADMIN, NOW).purchase;

  it('a pending cancellation waits for exactly one timer, at its effective instant', () => {
    expect(pendingActions(pendingUntil('2026-03-05T00:00:00.000Z'))).toEqual([
      { purpose: 'cancellation', at: '2026-03-05T00:00:00.000Z' },
    ]);
  });

  it('nothing is due one millisecond early', () => {
    const purchase = pendingUntil('2026-03-05T00:00:00.000Z');
    expect(applyDueActions(purchase, new Date('2026-03-04T23:59:59.999Z'))).toBeNull();
  });

  it('at the instant, the cancellation takes effect; revokedAt is the effective instant even if the timer is late', () => {
    const purchase = pendingUntil('2026-03-05T00:00:00.000Z');
    const change = applyDueActions(purchase, new Date('2026-03-05T00:03:00.000Z'))!;
    expect(change.purchase.status).toBe('canceled');
    expect(change.purchase.products.map((g) => g.revokedAt)).toEqual([
      '2026-03-05T00:00:00.000Z',
      '2026-03-05T00:00:00.000Z',
    ]);
    expect(change.purchase.version).toBe(purchase.version + 1);
  });

  it('applying again after it took effect does nothing (idempotent)', () => {
    const purchase = pendingUntil('2026-03-05T00:00:00.000Z');
    const once = applyDueActions(purchase, new Date('2026-03-06T00:00:00.000Z'))!;
    expect(applyDueActions(once.purchase, new Date('2026-03-07T00:00:00.000Z'))).toBeNull();
  });

  it('an access period and a cancellation both overdue apply in time order as one version step', () => {
    const purchase = cancel(
      aPurchase({ accessPeriodEndsAt: '2026-03-04T00:00:00.000Z' }),
      { when: 'date', date: '2026-03-05T00:00:00.000Z' },
      ADMIN,
      NOW,
    ).purchase;
    const change = applyDueActions(purchase, new Date('2026-03-06T00:00:00.000Z'))!;
    expect(change.history.map((e) => e.type)).toEqual(['access.period_ended', 'cancellation.effective']);
    expect(change.purchase.products[0]!.revokedAt).toBe('2026-03-04T00:00:00.000Z');
    expect(change.purchase.version).toBe(purchase.version + 1);
  });

  it('a pause with resumesAt ends by itself', () => {
    const paused = pause(aPurchase(), '2026-03-02T00:00:00.000Z', ADMIN, NOW).purchase;
    const change = applyDueActions(paused, new Date('2026-03-02T00:00:00.000Z'))!;
    expect(change.purchase).toMatchObject({ status: 'active', pause: null });
  });

  it('an access period with no active grant left waits for nothing', () => {
    const purchase = aPurchase({
      accessPeriodEndsAt: '2026-03-04T00:00:00.000Z',
      products: aPurchase().products.map((g) => ({ ...g, access: 'revoked' as const })),
    });
    expect(pendingActions(purchase)).toEqual([]);
    expect(nextDueAt(purchase)).toBeNull();
  });

  it('nextDueAt is the earliest pending action', () => {
    const purchase = cancel(
      aPurchase({ accessPeriodEndsAt: '2026-03-20T00:00:00.000Z' }),
      { when: 'date', date: '2026-03-05T00:00:00.000Z' },
      ADMIN,
      NOW,
    ).purchase;
    expect(nextDueAt(purchase)).toBe('2026-03-05T00:00:00.000Z');
  });

  it('deriveAccessEndsAt is null with no access period and no cancellation', () => {
    expect(deriveAccessEndsAt({ accessPeriodEndsAt: null, cancellation: null })).toBeNull();
  });
});

describe('current period and preview', () => {
  it('a stored period end that has passed rolls forward by whole cycles', () => {
    const stale = aPurchase({ currentPeriodEnd: '2026-01-31T00:00:00.000Z' });
    expect(currentPeriodEnd(stale, NOW)).toBe('2026-03-31T00:00:00.000Z');
  });

  it('a date beyond the period lists full renewals and one prorated charge (rounded half up to the cent)', () => {
    const plan = planCancellation(aPurchase(), { when: 'date', date: '2026-05-22T00:00:00.000Z' }, NOW);
    // Renewals on Mar 15 (full: to Apr 15), Apr 15 (full: to May 15), May 15 → May 22 of a 31-day cycle.
    expect(plan.charges).toEqual([
      { at: '2026-03-15T00:00:00.000Z', amount: 2900, currency: 'usd', prorated: false },
      { at: '2026-04-15T00:00:00.000Z', amount: 2900, currency: 'usd', prorated: false },
      { at: '2026-05-15T00:00:00.000Z', amount: Math.round((2900 * 7) / 31), currency: 'usd', prorated: true },
    ]);
    expect(plan.charges[2]!.amount).toBe(655);
  });

  it('a date exactly on a renewal boundary charges full cycles only', () => {
    const plan = planCancellation(aPurchase(), { when: 'date', date: '2026-04-15T00:00:00.000Z' }, NOW);
    expect(plan.charges).toEqual([{ at: '2026-03-15T00:00:00.000Z', amount: 2900, currency: 'usd', prorated: false }]);
  });

  it('a payment plan is never charged past its last installment', () => {
    const plan = aPurchase({
      kind: 'payment_plan',
      price: {
        type: 'payment_plan',
        amount: 5000,
        currency: 'usd',
        installments: 3,
        interval: 'month',
        intervalCount: 1,
      },
      installments: { paid: 2, total: 3 },
    });
    const preview = planCancellation(plan, { when: 'date', date: '2026-12-01T00:00:00.000Z' }, NOW);
    expect(preview.charges).toHaveLength(1);
  });
});
