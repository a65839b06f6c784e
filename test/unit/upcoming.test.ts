import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { applyDueActions, pendingActions } from '../../shared/domain/billing.ts';
import { InvalidInputError } from '../../shared/domain/errors.ts';
import type { Purchase, PurchaseStatus } from '../../shared/domain/types.ts';
import {
  isStatusUpcomingType,
  isSwept,
  possibleUpcomingTypes,
  STATUS_UPCOMING_TYPES,
  SWEPT_TYPES,
  statusUpcomingChange,
  UPCOMING_TYPES,
  upcomingChanges,
  upcomingSortKey,
  upcomingWindow,
  utcDays,
} from '../../shared/domain/upcoming.ts';
import { keys } from '../../shared/store/keys.ts';
import { ADMIN, activeGrant, aPurchase, NOW, revokedGrant, thrownBy } from './fixtures.ts';

const PERIOD_END = '2026-03-15T00:00:00.000Z';
const LATER = '2026-03-20T00:00:00.000Z';
const STATUSES: PurchaseStatus[] = ['active', 'pending_cancellation', 'paused', 'past_due', 'canceled', 'completed'];

const plan = (overrides: Partial<Purchase> = {}) =>
  aPurchase({
    kind: 'payment_plan',
    price: {
      type: 'payment_plan',
      amount: 5000,
      currency: 'eur',
      installments: 3,
      interval: 'month',
      intervalCount: 1,
    },
    installments: { paid: 1, total: 3 },
    ...overrides,
  });
const pending = (effectiveAt = LATER, overrides: Partial<Purchase> = {}) =>
  aPurchase({
    status: 'pending_cancellation',
    cancellation: { when: 'date', effectiveAt, requestedBy: ADMIN, requestedAt: NOW.toISOString() },
    ...overrides,
  });
const typesAt = (purchase: Purchase) => upcomingChanges(purchase).map((c) => `${c.type}@${c.at}`);

describe('upcomingChanges: what a purchase has ahead', () => {
  it('an active subscription renews at its period end, for the price it was bought at', () => {
    expect(upcomingChanges(aPurchase())).toEqual([
      {
        at: PERIOD_END,
        type: 'renewal',
        purchaseId: 'purchase-1',
        customerId: 'customer-1',
        offerId: 'offer-1',
        productIds: ['course', 'community'],
        amount: 2900,
        currency: 'usd',
      },
    ]);
  });

  it('past_due still renews (retries run, access continues)', () => {
    expect(typesAt(aPurchase({ status: 'past_due' }))).toEqual([`renewal@${PERIOD_END}`]);
  });

  it('a pending cancellation takes effect instead of renewing', () => {
    expect(typesAt(pending())).toEqual([`cancellation_effective@${LATER}`]);
  });

  it('a pause with resumesAt ends then, and a paused subscription does not renew', () => {
    const paused = aPurchase({ status: 'paused', pause: { pausedAt: NOW.toISOString(), resumesAt: LATER } });
    expect(upcomingChanges(paused)).toEqual([
      expect.objectContaining({ type: 'pause_ends', at: LATER, productIds: ['course', 'community'] }),
    ]);
    expect(
      upcomingChanges(aPurchase({ status: 'paused', pause: { pausedAt: NOW.toISOString(), resumesAt: null } })),
    ).toEqual([]);
  });

  it('a canceled purchase has nothing ahead, not even its access period (access already ended)', () => {
    expect(upcomingChanges(aPurchase({ status: 'canceled', accessPeriodEndsAt: LATER }))).toEqual([]);
  });

  it('a paid-off plan bills no more, but its access period still ends', () => {
    expect(
      typesAt(plan({ status: 'completed', installments: { paid: 3, total: 3 }, accessPeriodEndsAt: LATER })),
    ).toEqual([`access_period_ends@${LATER}`]);
  });

  it('an access period ends for the products that still have access, alongside the renewal', () => {
    const purchase = aPurchase({
      accessPeriodEndsAt: '2026-03-10T00:00:00.000Z',
      products: [activeGrant('course'), revokedGrant('community', NOW.toISOString(), ADMIN, 'Revoked by x')],
    });
    expect(upcomingChanges(purchase)).toEqual([
      expect.objectContaining({ type: 'access_period_ends', at: '2026-03-10T00:00:00.000Z', productIds: ['course'] }),
      expect.objectContaining({ type: 'renewal', at: PERIOD_END, productIds: ['course', 'community'] }),
    ]);
  });

  it('an access period whose products are all revoked ends nothing', () => {
    const revoked = revokedGrant('course', NOW.toISOString(), ADMIN, 'Revoked by x');
    const purchase = aPurchase({ accessPeriodEndsAt: LATER, products: [revoked] });
    expect(typesAt(purchase)).toEqual([`renewal@${PERIOD_END}`]);
  });

  it('a one-time or free purchase has only its access period', () => {
    const oneTime = aPurchase({
      kind: 'one_time',
      price: { type: 'one_time', amount: 900, currency: 'usd' },
      currentPeriodEnd: null,
      accessPeriodEndsAt: LATER,
    });
    expect(typesAt(oneTime)).toEqual([`access_period_ends@${LATER}`]);
    expect(typesAt({ ...oneTime, kind: 'free', price: { type: 'free' }, accessPeriodEndsAt: null })).toEqual([]);
  });

  it('a payment plan has its next installment while installments are left', () => {
    expect(upcomingChanges(plan())).toEqual([
      expect.objectContaining({ type: 'installment', at: PERIOD_END, amount: 5000, currency: 'eur' }),
    ]);
    expect(typesAt(plan({ installments: { paid: 3, total: 3 } }))).toEqual([]);
    expect(typesAt(plan({ status: 'pending_cancellation', cancellation: pending().cancellation }))).toEqual([
      `cancellation_effective@${LATER}`,
    ]);
  });

  it('no period end known (a processor that has not said yet): no renewal', () => {
    expect(upcomingChanges(aPurchase({ currentPeriodEnd: null }))).toEqual([]);
  });

  it('several changes come soonest first', () => {
    const purchase = pending('2026-04-01T00:00:00.000Z', { accessPeriodEndsAt: '2026-03-05T00:00:00.000Z' });
    expect(typesAt(purchase)).toEqual([
      'access_period_ends@2026-03-05T00:00:00.000Z',
      'cancellation_effective@2026-04-01T00:00:00.000Z',
    ]);
  });
});

/** Any purchase state the billing rules can hold, loosely: every status with any of the timed fields. */
const anyPurchase = fc
  .record({
    status: fc.constantFrom(...STATUSES),
    kind: fc.constantFrom('subscription', 'payment_plan', 'one_time', 'free'),
    periodEnd: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
    accessDays: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
    cancelDays: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
    resumeDays: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
    active: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
    paid: fc.integer({ min: 0, max: 3 }),
  })
  .map((r): Purchase => {
    const day = (n: number | null) => (n === null ? null : new Date(NOW.getTime() + n * 86_400_000).toISOString());
    const recurring = r.kind === 'subscription' || r.kind === 'payment_plan';
    const status = recurring ? r.status : 'active';
    const price: Purchase['price'] =
      r.kind === 'subscription'
        ? { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month', intervalCount: 1 }
        : r.kind === 'payment_plan'
          ? {
              type: 'payment_plan',
              amount: 5000,
              currency: 'eur',
              installments: 3,
              interval: 'month',
              intervalCount: 1,
            }
          : r.kind === 'one_time'
            ? { type: 'one_time', amount: 900, currency: 'usd' }
            : { type: 'free' };
    const cancelAt = day(r.cancelDays);
    return aPurchase({
      kind: r.kind,
      price,
      status,
      currentPeriodEnd: recurring ? day(r.periodEnd) : null,
      installments: r.kind === 'payment_plan' ? { paid: r.paid, total: 3 } : null,
      accessPeriodEndsAt: day(r.accessDays),
      cancellation:
        status === 'pending_cancellation' && cancelAt
          ? { when: 'date', effectiveAt: cancelAt, requestedBy: ADMIN, requestedAt: NOW.toISOString() }
          : null,
      pause: status === 'paused' ? { pausedAt: NOW.toISOString(), resumesAt: day(r.resumeDays) } : null,
      products: r.active.map((on, i) =>
        on ? activeGrant(`p${i}`) : revokedGrant(`p${i}`, NOW.toISOString(), ADMIN, 'Revoked by x'),
      ),
    });
  });

describe('upcomingChanges: properties over any state', () => {
  it('at most one change per type, soonest first, each of a type the store may write for the purchase', () => {
    fc.assert(
      fc.property(anyPurchase, (purchase) => {
        const changes = upcomingChanges(purchase);
        const types = changes.map((c) => c.type);
        expect(new Set(types).size).toBe(types.length);
        expect(changes.map(upcomingSortKey)).toEqual(changes.map(upcomingSortKey).sort());
        for (const type of types.filter((t) => !isStatusUpcomingType(t))) {
          expect(possibleUpcomingTypes(purchase)).toContain(type);
        }
      }),
    );
  });

  it('at most one status type at a time: the one the purchase item carries, and the one its status implies', () => {
    const implied: Record<string, string[]> = {
      cancellation_effective: ['pending_cancellation'],
      pause_ends: ['paused'],
      renewal: ['active', 'past_due'],
      installment: ['active', 'past_due'],
    };
    fc.assert(
      fc.property(anyPurchase, (purchase) => {
        const ofStatus = upcomingChanges(purchase).filter((c) => isStatusUpcomingType(c.type));
        expect(ofStatus.length).toBeLessThanOrEqual(1);
        expect(statusUpcomingChange(purchase)).toEqual(ofStatus[0] ?? null);
        for (const change of ofStatus) expect(implied[change.type]).toContain(purchase.status);
      }),
    );
  });

  it('every type is either a status type or one the store keeps an entry of its own for', () => {
    expect(UPCOMING_TYPES.filter((type) => !isStatusUpcomingType(type))).toEqual(['access_period_ends']);
    expect([...STATUS_UPCOMING_TYPES, 'access_period_ends'].sort()).toEqual([...UPCOMING_TYPES].sort());
    expect(possibleUpcomingTypes({ accessPeriodEndsAt: null })).toEqual([]);
    expect(possibleUpcomingTypes({ accessPeriodEndsAt: '2027-01-01T00:00:00.000Z' })).toEqual(['access_period_ends']);
  });

  it('the swept types are exactly the timed actions the state machine waits for (what the sweeper reads)', () => {
    fc.assert(
      fc.property(anyPurchase, (purchase) => {
        const swept = upcomingChanges(purchase)
          .filter((c) => isSwept(c.type))
          .map((c) => `${c.type}@${c.at}`)
          .sort();
        const pending = pendingActions(purchase)
          .map((a) => `${SWEPT_TYPES[a.purpose]}@${a.at}`)
          .sort();
        expect(swept).toEqual(pending);
      }),
    );
  });

  it('applying everything due leaves no swept change at or before that instant', () => {
    fc.assert(
      fc.property(anyPurchase, fc.integer({ min: 0, max: 500 }), (purchase, days) => {
        const now = new Date(NOW.getTime() + days * 86_400_000);
        const after = applyDueActions(purchase, now)?.purchase ?? purchase;
        const overdue = upcomingChanges(after).filter((c) => isSwept(c.type) && Date.parse(c.at) <= now.getTime());
        expect(overdue).toEqual([]);
      }),
    );
  });

  it('renewals and installments only while billing runs, for the purchase price', () => {
    fc.assert(
      fc.property(anyPurchase, (purchase) => {
        for (const change of upcomingChanges(purchase).filter((c) => !isSwept(c.type))) {
          expect(['active', 'past_due']).toContain(purchase.status);
          expect(change.at).toBe(purchase.currentPeriodEnd);
          expect(change.amount).toBe('amount' in purchase.price ? purchase.price.amount : undefined);
        }
      }),
    );
  });
});

describe('upcomingWindow', () => {
  it('defaults to the next 30 days from now', () => {
    expect(upcomingWindow(null, null, NOW)).toEqual({ from: NOW.toISOString(), to: '2026-03-31T10:00:00.000Z' });
  });

  it('to defaults to 30 days after an explicit from; from to now before an explicit to', () => {
    expect(upcomingWindow('2026-05-01T00:00:00.000Z', null, NOW).to).toBe('2026-05-31T00:00:00.000Z');
    expect(upcomingWindow(null, '2026-03-02T00:00:00.000Z', NOW).from).toBe(NOW.toISOString());
  });

  it.each([
    ['to before from', '2026-03-05T00:00:00.000Z', '2026-03-04T00:00:00.000Z'],
    ['to equal to from', '2026-03-05T00:00:00.000Z', '2026-03-05T00:00:00.000Z'],
    ['a window over 366 days', '2026-03-05T00:00:00.000Z', '2027-03-06T00:00:00.001Z'],
  ])('%s is a 400 naming to', (_name, from, to) => {
    const error = thrownBy(() => upcomingWindow(from, to, NOW));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details.map((d) => d.field)).toEqual(['to']);
  });

  it('exactly 366 days is allowed', () => {
    expect(upcomingWindow('2026-03-05T00:00:00.000Z', '2027-03-06T00:00:00.000Z', NOW).to).toBe(
      '2027-03-06T00:00:00.000Z',
    );
  });
});

describe('utcDays: the calendar partitions of a window', () => {
  it('every UTC day the half-open window touches', () => {
    expect(utcDays({ from: '2026-02-27T23:00:00.000Z', to: '2026-03-02T00:00:00.000Z' })).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
    ]);
    expect(utcDays({ from: '2028-02-28T12:00:00.000Z', to: '2028-03-01T00:00:00.001Z' })).toEqual([
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
  });

  it('an instant falls in exactly the day of its own partition key (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 366 * 86_400_000 - 1 }),
        fc.integer({ min: 1, max: 366 * 86_400_000 }),
        fc.integer({ min: 0, max: 366 * 86_400_000 }),
        (start, length, offset) => {
          const from = new Date(Date.UTC(2026, 0, 1) + start).toISOString();
          const to = new Date(Date.parse(from) + length).toISOString();
          const days = utcDays({ from, to });
          expect(days.length).toBeLessThanOrEqual(368);
          const at = new Date(Date.parse(from) + (offset % length)).toISOString();
          expect(days).toContain(keys.byUpcoming('s', at, 'p', 'renewal').gsi5pk.split('#').at(-1));
        },
      ),
    );
  });
});

describe('keys: the due index shards', () => {
  it('spreads purchases evenly over the shards of an hour, the same shard for every entry of one purchase', () => {
    const counts = new Array(keys.dueShards).fill(0);
    for (let i = 0; i < 8000; i++) counts[keys.dueShard('site-1', `pur_${i}`)]++;
    for (const count of counts) expect(count).toBeGreaterThan((8000 / keys.dueShards) * 0.85);
    const a = keys.byDue('2026-03-01T10:15:00.000Z', 's', 'p', 'cancellation_effective');
    const b = keys.byDue('2026-03-01T10:59:00.000Z', 's', 'p', 'access_period_ends');
    expect(a.gsi3pk).toBe(b.gsi3pk);
    expect(a.gsi3pk).toMatch(/^DUE#2026-03-01T10#0[0-7]$/);
  });
});
