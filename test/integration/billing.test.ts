import { describe, expect, it } from '@jest/globals';
import { createSweeperHandler } from '../../functions/sweeper/app.ts';
import { createTimerHandler } from '../../functions/timer/app.ts';
import { apiHarness, automation, seedSite, TestClock } from '../support/harness.ts';

const NOW = '2026-11-21T10:00:00.000Z';
const PERIOD_END = '2026-12-01T00:00:00.000Z';

async function subscription(options: { accessDays?: number } = {}) {
  const api = apiHarness({ clock: new TestClock(new Date(NOW)) });
  const seeded = await seedSite(api, { ...options, currentPeriodEnd: PERIOD_END, accounts: true });
  const purchase = seeded.purchase;
  const path = `/sites/${seeded.siteId}/purchases/${purchase.purchaseId}`;
  const timer = createTimerHandler(api.deps);
  const fireTimers = async () => {
    const timers = api.scheduler.forPurchase(purchase.purchaseId);
    return Promise.all(timers.map((t) => timer(t)));
  };
  const access = (productId = 'course') =>
    api.call('GET', `/sites/${seeded.siteId}/customers/cus-1/access/${productId}`, { claims: seeded.claims });
  return { api, ...seeded, path, purchaseId: purchase.purchaseId as string, fireTimers, access, timer };
}

describe('cancel payments', () => {
  it('now: canceled at once, every grant revoked with label "Revoked", access gone', async () => {
    const { api, claims, path, access } = await subscription();

    const result = await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'now' } });

    expect(result.status).toBe(200);
    expect(result.body.status).toBe('canceled');
    expect(result.body.products.map((g: { label: string }) => g.label)).toEqual(['Revoked', 'Revoked']);
    expect(result.body.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked' });
    expect(result.body.cancellation).toMatchObject({ when: 'now', effectiveAt: NOW, requestedAt: NOW });
    expect((await access()).body.hasAccess).toBe(false);
  });

  it('period_end: pending until the period end, exact to the millisecond, then canceled by the timer', async () => {
    const { api, claims, path, access, fireTimers, purchaseId } = await subscription();

    const pending = await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'period_end' } });

    expect(pending.body).toMatchObject({ status: 'pending_cancellation', accessEndsAt: PERIOD_END });
    expect(pending.body.cancellation).toMatchObject({ when: 'period_end', effectiveAt: PERIOD_END });
    expect(api.scheduler.forPurchase(purchaseId)).toEqual([
      expect.objectContaining({ purpose: 'cancellation', dueAt: PERIOD_END }),
    ]);
    api.clock.set(new Date(Date.parse(PERIOD_END) - 1));
    expect((await access()).body).toMatchObject({ hasAccess: true, until: PERIOD_END });
    api.clock.set(PERIOD_END);
    expect((await access()).body).toMatchObject({ hasAccess: false, reason: 'access_ended' });

    api.clock.advance(350);
    await fireTimers();
    const after = await api.call('GET', path, { claims });
    expect(after.body.status).toBe('canceled');
    expect(after.body.products.every((g: { label: string }) => g.label === 'Revoked')).toBe(true);
    expect(after.body.products[0].revokedAt).toBe(PERIOD_END);
  });

  it('the history shows who asked and when it took effect', async () => {
    const { api, claims, path, fireTimers } = await subscription();
    await api.call('POST', `${path}/cancellation`, {
      claims: automation(claims['custom:siteId']!),
      body: { when: 'date', date: '2026-11-25T00:00:00Z' },
    });
    api.clock.set('2026-11-25T00:00:01Z');
    await fireTimers();

    const history = await api.call('GET', `${path}/history`, { claims });

    const types = history.body.items.map((e: { type: string }) => e.type);
    expect(types).toEqual(['purchase.granted', 'cancellation.requested', 'cancellation.effective']);
    expect(history.body.items[1].actor).toEqual({ type: 'automation', id: 'automation-42' });
    expect(history.body.items[2]).toMatchObject({
      label: 'Revoked',
      actor: { type: 'system', reason: 'cancellation_effective' },
      details: { effectiveAt: '2026-11-25T00:00:00.000Z', requestedBy: { type: 'automation' } },
    });
  });

  it('a timer fired twice, or after the state moved on, changes nothing more', async () => {
    const { api, claims, path, timer, purchaseId } = await subscription();
    await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'period_end' } });
    const [armed] = api.scheduler.forPurchase(purchaseId);
    api.clock.set('2026-12-01T00:00:01Z');

    const first = await timer(armed);
    const second = await timer(armed);
    const history = await api.call('GET', `${path}/history`, { claims });

    expect(first.applied).toEqual(['cancellation.effective']);
    expect(second.applied).toEqual([]);
    expect(history.body.items).toHaveLength(3);
  });

  it('stop a pending cancellation: back to active, timer removed, access continues past the old date', async () => {
    const { api, claims, path, access, timer, purchaseId } = await subscription();
    await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'period_end' } });
    const [stale] = api.scheduler.forPurchase(purchaseId);

    const stopped = await api.call('DELETE', `${path}/cancellation`, { claims });
    api.clock.set('2026-12-01T00:00:05Z');
    const fired = await timer(stale!);

    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({
      status: 'active',
      cancellation: null,
      accessEndsAt: null,
      currentPeriodEnd: PERIOD_END,
    });
    expect(api.scheduler.forPurchase(purchaseId)).toEqual([]);
    expect(fired.applied).toEqual([]);
    expect((await access()).body.hasAccess).toBe(true);
  });

  it('stopping twice is a 409', async () => {
    const { api, claims, path } = await subscription();
    await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'period_end' } });
    await api.call('DELETE', `${path}/cancellation`, { claims });

    const again = await api.call('DELETE', `${path}/cancellation`, { claims });

    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/no pending cancellation/);
  });

  it('a new date moves the pending cancellation and its timer', async () => {
    const { api, claims, path, purchaseId } = await subscription();
    await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'period_end' } });

    const moved = await api.call('POST', `${path}/cancellation`, {
      claims,
      body: { when: 'date', date: '2026-11-28T12:00:00Z' },
    });

    expect(moved.body.cancellation.effectiveAt).toBe('2026-11-28T12:00:00.000Z');
    expect(api.scheduler.forPurchase(purchaseId)).toEqual([
      expect.objectContaining({ purpose: 'cancellation', dueAt: '2026-11-28T12:00:00.000Z' }),
    ]);
  });

  it.each([
    ['a date in the past', { when: 'date', date: '2026-11-20T00:00:00Z' }, 'date'],
    ['a date that is not a date', { when: 'date', date: 'next tuesday' }, 'date'],
    ['no date with when=date', { when: 'date' }, 'date'],
    ['an unknown when', { when: 'tomorrow' }, 'when'],
  ])('%s is a 400 naming the field and changes nothing', async (_name, body, field) => {
    const { api, claims, path } = await subscription();

    const result = await api.call('POST', `${path}/cancellation`, { claims, body });
    const after = await api.call('GET', path, { claims });

    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(after.body.version).toBe(1);
  });

  it('period_end without a known period end is a 409', async () => {
    const { api, claims, siteId, ok } = await subscription();
    const imported = await ok('POST', `/sites/${siteId}/purchases`, {
      customerId: 'cus-1',
      offerId: 'bundle',
      processor: 'stripe',
      processorSubscriptionId: `sub_${Date.now()}${Math.random().toString(36).slice(2)}`,
    });

    const result = await api.call('POST', `/sites/${siteId}/purchases/${imported.purchaseId}/cancellation`, {
      claims,
      body: { when: 'period_end' },
    });

    expect(result.status).toBe(409);
    expect(result.body.error.message).toMatch(/period end is not known/);
  });

  it('a canceled subscription is never reinstated: stop, pause, unpause and cancel are 409', async () => {
    const { api, claims, path } = await subscription();
    await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'now' } });

    const attempts = await Promise.all([
      api.call('DELETE', `${path}/cancellation`, { claims }),
      api.call('POST', `${path}/pause`, { claims, body: {} }),
      api.call('POST', `${path}/unpause`, { claims }),
      api.call('POST', `${path}/cancellation`, { claims, body: { when: 'now' } }),
    ]);

    for (const attempt of attempts) {
      expect(attempt.status).toBe(409);
      expect(attempt.body.error.message).toMatch(/must purchase again/);
    }
  });

  it('a canceled payment plan says how many installments were left', async () => {
    const { api, claims, siteId, ok } = await subscription();
    await ok('PUT', `/sites/${siteId}/offers/plan`, {
      name: 'Plan',
      productIds: ['course'],
      price: { type: 'payment_plan', amount: 10000, currency: 'usd', installments: 4, interval: 'month' },
    });
    const plan = await ok('POST', `/sites/${siteId}/purchases`, { customerId: 'cus-1', offerId: 'plan' });
    const planPath = `/sites/${siteId}/purchases/${plan.purchaseId}`;
    await api.call('POST', `${planPath}/cancellation`, { claims, body: { when: 'now' } });

    const result = await api.call('POST', `${planPath}/cancellation`, { claims, body: { when: 'now' } });

    expect(result.status).toBe(409);
    expect(result.body.error.message).toMatch(/3 of 4 installments were left/);
  });

  it('a one-time purchase has no payments to cancel (409)', async () => {
    const { api, claims, siteId, ok } = await subscription();
    await ok('PUT', `/sites/${siteId}/offers/once`, {
      name: 'Once',
      productIds: ['course'],
      price: { type: 'one_time', amount: 4900, currency: 'usd' },
    });
    const once = await ok('POST', `/sites/${siteId}/purchases`, { customerId: 'cus-1', offerId: 'once' });

    const result = await api.call('POST', `/sites/${siteId}/purchases/${once.purchaseId}/cancellation`, {
      claims,
      body: { when: 'period_end' },
    });

    expect(result.status).toBe(409);
    expect(result.body.error.message).toMatch(/no payments to cancel/);
  });
});

describe('cancellation preview', () => {
  it('a date 2.5 periods past the period end lists 2 full renewals and 1 prorated charge that add up', async () => {
    const { api, claims, path } = await subscription();

    const preview = await api.call('POST', `${path}/cancellation/preview`, {
      claims,
      body: { when: 'date', date: '2027-02-15T00:00:00Z' },
    });

    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({
      accessEndsAt: '2027-02-15T00:00:00.000Z',
      charges: [
        { at: '2026-12-01T00:00:00.000Z', amount: 2900, currency: 'usd', prorated: false },
        { at: '2027-01-01T00:00:00.000Z', amount: 2900, currency: 'usd', prorated: false },
        { at: '2027-02-01T00:00:00.000Z', amount: 1450, currency: 'usd', prorated: true },
      ],
    });
    const after = await api.call('GET', path, { claims });
    expect(after.body.version).toBe(1);
  });

  it('a date inside the current period charges nothing more', async () => {
    const { api, claims, path } = await subscription();

    const preview = await api.call('POST', `${path}/cancellation/preview`, {
      claims,
      body: { when: 'date', date: '2026-11-30T00:00:00Z' },
    });

    expect(preview.body).toEqual({ accessEndsAt: '2026-11-30T00:00:00.000Z', charges: [] });
  });
});

describe('pause and unpause', () => {
  it('pause keeps access; unpause resumes billing', async () => {
    const { api, claims, path, access } = await subscription();

    const paused = await api.call('POST', `${path}/pause`, { claims, body: {} });
    const accessWhilePaused = await access();
    const pausedAgain = await api.call('POST', `${path}/pause`, { claims, body: {} });
    const unpaused = await api.call('POST', `${path}/unpause`, { claims });

    expect(paused.body).toMatchObject({ status: 'paused', pause: { pausedAt: NOW, resumesAt: null } });
    expect(accessWhilePaused.body.hasAccess).toBe(true);
    expect(pausedAgain.status).toBe(409);
    expect(unpaused.body).toMatchObject({ status: 'active', pause: null });
  });

  it('a pause with resumesAt ends by itself when its timer fires', async () => {
    const { api, claims, path, fireTimers } = await subscription();
    await api.call('POST', `${path}/pause`, { claims, body: { resumesAt: '2026-11-22T10:00:00Z' } });

    api.clock.set('2026-11-22T10:00:00Z');
    await fireTimers();
    const after = await api.call('GET', path, { claims });
    const history = await api.call('GET', `${path}/history`, { claims });

    expect(after.body).toMatchObject({ status: 'active', pause: null });
    expect(history.body.items.at(-1)).toMatchObject({
      type: 'billing.unpaused',
      actor: { type: 'system', reason: 'pause_ended' },
    });
  });
});

describe('access periods and the sweeper', () => {
  it('an offer with accessDays arms a timer at purchase that revokes with label "Revoked"', async () => {
    const { api, claims, siteId, ok } = await subscription();
    await ok('PUT', `/sites/${siteId}/offers/trial`, {
      name: 'Trial',
      productIds: ['course'],
      price: { type: 'free' },
      accessDays: 7,
    });
    const trial = await ok('POST', `/sites/${siteId}/purchases`, { customerId: 'cus-1', offerId: 'trial' });
    const timers = api.scheduler.forPurchase(trial.purchaseId);
    expect(timers).toEqual([expect.objectContaining({ purpose: 'access_period', dueAt: '2026-11-28T10:00:00.000Z' })]);

    api.clock.set('2026-11-28T10:00:00.500Z');
    await createTimerHandler(api.deps)(timers[0]);
    const after = await api.call('GET', `/sites/${siteId}/purchases/${trial.purchaseId}`, { claims });

    expect(after.body.products[0]).toMatchObject({
      access: 'revoked',
      label: 'Revoked',
      revokedAt: '2026-11-28T10:00:00.000Z',
    });
    expect(after.body.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked' });
  });

  it('the sweeper applies an overdue cancellation whose timer was lost', async () => {
    const { api, claims, path, purchaseId } = await subscription();
    await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'date', date: '2026-11-21T10:05:00Z' } });
    api.scheduler.timers.clear();

    api.clock.set('2026-11-21T10:09:00Z');
    const summary = await createSweeperHandler(api.deps)();
    const after = await api.call('GET', path, { claims });

    expect(summary.applied).toBeGreaterThanOrEqual(1);
    expect(after.body.status).toBe('canceled');
    expect(api.scheduler.forPurchase(purchaseId)).toEqual([]);
  });
});

describe('subscriptions list', () => {
  it('filters by status and offer and pages with a cursor', async () => {
    const { api, claims, siteId, ok } = await subscription();
    const extra = [];
    for (let i = 0; i < 3; i++) {
      extra.push(await ok('POST', `/sites/${siteId}/purchases`, { customerId: 'cus-1', offerId: 'bundle' }));
    }
    for (const purchase of extra) {
      await api.call('POST', `/sites/${siteId}/purchases/${purchase.purchaseId}/cancellation`, {
        claims,
        body: { when: 'period_end' },
      });
    }

    const first = await api.call('GET', `/sites/${siteId}/subscriptions?status=pending_cancellation&limit=2`, {
      claims,
    });
    const second = await api.call(
      'GET',
      `/sites/${siteId}/subscriptions?status=pending_cancellation&limit=2&cursor=${first.body.nextCursor}`,
      { claims },
    );
    const byOffer = await api.call('GET', `/sites/${siteId}/subscriptions?offerId=bundle&limit=100`, { claims });

    expect(first.body.items).toHaveLength(2);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.items, ...second.body.items].map((p: { purchaseId: string }) => p.purchaseId).sort();
    expect(ids).toEqual(extra.map((p) => p.purchaseId).sort());
    expect(byOffer.body.items).toHaveLength(4);
  });

  it.each([
    ['an unknown status', '?status=gone', 'status'],
    ['a limit over 100', '?limit=1000', 'limit'],
    ['a forged cursor', '?cursor=bm90LWEtY3Vyc29y', 'cursor'],
  ])('%s is a 400 naming %s', async (_name, query, field) => {
    const { api, claims, siteId } = await subscription();

    const result = await api.call('GET', `/sites/${siteId}/subscriptions${query}`, { claims });

    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });
});
