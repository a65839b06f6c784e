import { describe, expect, it } from '@jest/globals';
import { runDueActions } from '../../shared/usecases/timers.ts';
import { admin, apiHarness, automation, seedSite, support } from '../support/harness.ts';

/**
 * Explain against DynamoDB Local through the access handler: the purchases come from the customer's copies and
 * the past from each purchase's stored events (their `data.purchase` snapshots), as on AWS.
 */

// Each test seeds a site and makes a dozen transactional writes: over jest's 5 s on a busy shared machine.

const DAY = 86_400_000;
const explainPath = (siteId: string, customerId: string, productId: string, query = '') =>
  `/sites/${siteId}/customers/${customerId}/access/${productId}/explain${query}`;

/** Purchase 1 revoked by automation on day 2; purchase 2 bought on day 3 and canceled at its period end. */
async function twoPurchases() {
  const api = apiHarness();
  const seeded = await seedSite(api);
  const { siteId, claims, purchaseId: revoked, ok } = seeded;
  api.clock.advance(DAY);
  const revokedAt = api.clock.now().toISOString();
  const revoke = await api.call('POST', `/sites/${siteId}/purchases/${revoked}/access/revoke`, {
    claims: automation(siteId),
    body: { productIds: ['course'] },
  });
  expect(revoke.status).toBe(200);
  api.clock.advance(DAY);
  const second = await ok('POST', `/sites/${siteId}/purchases`, {
    customerId: 'cus-1',
    offerId: 'bundle',
    currentPeriodEnd: new Date(api.clock.now().getTime() + 20 * DAY).toISOString(),
  });
  const pending = second.purchaseId as string;
  const canceled = await api.call('POST', `/sites/${siteId}/purchases/${pending}/cancellation`, {
    claims,
    body: { when: 'period_end' },
  });
  expect(canceled.status).toBe(200);
  return { api, siteId, claims, revoked, pending, revokedAt, effectiveAt: canceled.body.cancellation.effectiveAt };
}

describe('GET .../access/{productId}/explain (DynamoDB Local)', () => {
  it('names both purchases with their labels and the cancellation effective time', async () => {
    const { api, siteId, claims, revoked, pending, effectiveAt } = await twoPurchases();

    const result = await api.call('GET', explainPath(siteId, 'cus-1', 'course'), { claims });

    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      productId: 'course',
      at: api.clock.now().toISOString(),
      hasAccess: true,
      until: effectiveAt,
      reason: 'active',
      pending: [{ at: effectiveAt, type: 'cancellation_effective', purchaseId: pending }],
    });
    const [first, second] = result.body.grants;
    expect(first).toMatchObject({
      purchaseId: revoked,
      offerId: 'bundle',
      status: 'active',
      access: 'revoked',
      label: 'Revoked by automation',
    });
    expect(first.facts.map((f: { type: string; label?: string }) => [f.type, f.label ?? null])).toEqual([
      ['purchase.granted', null],
      ['access.revoked', 'Revoked by automation'],
    ]);
    expect(first.facts[1].actor).toEqual({ type: 'automation', id: expect.any(String) });
    expect(second).toMatchObject({
      purchaseId: pending,
      status: 'pending_cancellation',
      accessEndsAt: effectiveAt,
      cancellation: { when: 'period_end', effectiveAt },
    });
    expect(second.facts.at(-1)).toMatchObject({ type: 'cancellation.requested', details: { effectiveAt } });
  });

  it('answers as of an instant: before the revocation yes, between it and the second purchase no', async () => {
    const { api, siteId, claims, revoked, revokedAt } = await twoPurchases();
    const justBefore = new Date(Date.parse(revokedAt) - 1).toISOString();
    const justAfter = new Date(Date.parse(revokedAt) + 60_000).toISOString();

    const before = await api.call('GET', explainPath(siteId, 'cus-1', 'course', `?at=${justBefore}`), { claims });
    const after = await api.call('GET', explainPath(siteId, 'cus-1', 'course', `?at=${justAfter}`), { claims });

    expect(before.body).toMatchObject({ at: justBefore, hasAccess: true, until: null, reason: 'active' });
    expect(before.body.grants).toEqual([expect.objectContaining({ purchaseId: revoked, access: 'active' })]);
    expect(after.body).toMatchObject({ hasAccess: false, reason: 'revoked' });
    expect(after.body.grants.map((g: { label: string }) => g.label)).toEqual(['Revoked by automation']);
  });

  it('replays the cancellation that took effect (timer fired late) from the stored events', async () => {
    const { api, siteId, claims, pending, effectiveAt } = await twoPurchases();
    api.clock.set(new Date(Date.parse(effectiveAt) + 5 * 60_000));
    await runDueActions(api.deps, siteId, pending, api.clock.now());
    const inBetween = new Date(Date.parse(effectiveAt) + 60_000).toISOString();

    const now = await api.call('GET', explainPath(siteId, 'cus-1', 'course'), { claims: support(siteId) });
    const then = await api.call('GET', explainPath(siteId, 'cus-1', 'course', `?at=${inBetween}`), { claims });
    const access = await api.call('GET', `/sites/${siteId}/customers/cus-1/access/course`, { claims });

    expect(now.body).toMatchObject({ hasAccess: false, reason: 'revoked', pending: [] });
    expect(access.body).toEqual({
      productId: 'course',
      hasAccess: now.body.hasAccess,
      until: now.body.until,
      reason: now.body.reason,
    });
    expect(now.body.grants[1]).toMatchObject({ status: 'canceled', access: 'revoked', label: 'Revoked' });
    expect(now.body.grants[1].facts.at(-1)).toMatchObject({
      type: 'cancellation.effective',
      label: 'Revoked',
      details: { effectiveAt },
    });
    expect(then.body).toMatchObject({ hasAccess: false, reason: 'access_ended' });
    expect(then.body.grants[1].status).toBe('pending_cancellation');
  });

  it('an unknown customer is not_purchased with no grants', async () => {
    const api = apiHarness();
    const { siteId, claims } = await seedSite(api);

    const result = await api.call('GET', explainPath(siteId, 'nobody', 'course'), { claims });

    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ hasAccess: false, reason: 'not_purchased', grants: [], pending: [] });
  });

  it('refuses bad input, naming the field; another site or no token cannot look', async () => {
    const api = apiHarness();
    const { siteId, claims } = await seedSite(api);

    for (const at of ['yesterday', '2026-13-01T00:00:00Z', '2026-11-21', '']) {
      const result = await api.call('GET', explainPath(siteId, 'cus-1', 'course', `?at=${encodeURIComponent(at)}`), {
        claims,
      });
      expect([at, result.status, result.body.error.details[0].field]).toEqual([at, 400, 'at']);
    }
    const unknown = await api.call('GET', explainPath(siteId, 'cus-1', 'course', '?when=now'), { claims });
    expect(unknown.status).toBe(400);
    const badProduct = await api.call('GET', explainPath(siteId, 'cus-1', 'bad%20id'), { claims });
    expect(badProduct.status).toBe(400);
    expect(badProduct.body.error.details[0].field).toBe('productId');
    const otherSite = await api.call('GET', explainPath(siteId, 'cus-1', 'course'), { claims: admin('site-b') });
    expect(otherSite.status).toBe(403);
    const anonymous = await api.call('GET', explainPath(siteId, 'cus-1', 'course'), { claims: null });
    expect(anonymous.status).toBe(401);
  });
});
