import { describe, expect, it } from '@jest/globals';
import { apiHarness, automation, customer, seedSite, support } from '../support/harness.ts';

const BILLING_FIELDS = [
  'status',
  'kind',
  'price',
  'processor',
  'processorSubscriptionId',
  'currentPeriodStart',
  'currentPeriodEnd',
  'installments',
  'cancellation',
  'pause',
  'accessEndsAt',
] as const;

describe('revoking and resuming product access', () => {
  it('revokes one product of two, labels it with the admin email, and leaves billing alone', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId, purchase: before } = await seedSite(api);

    const revoked = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, {
      claims,
      body: { productIds: ['course'] },
    });

    expect(revoked.status).toBe(200);
    expect(revoked.body.products).toEqual([
      expect.objectContaining({ productId: 'course', access: 'revoked', label: 'Revoked by owner@example.com' }),
      expect.objectContaining({ productId: 'community', access: 'active', label: null }),
    ]);
    expect(revoked.body.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked by owner@example.com' });
    for (const field of BILLING_FIELDS) expect(revoked.body[field]).toEqual(before[field]);

    const course = await api.call('GET', `/sites/${siteId}/customers/cus-1/access/course`, { claims });
    const community = await api.call('GET', `/sites/${siteId}/customers/cus-1/access/community`, { claims });
    expect(course.body).toEqual({ productId: 'course', hasAccess: false, until: null, reason: 'revoked' });
    expect(community.body).toMatchObject({ productId: 'community', hasAccess: true });
  });

  it('resume restores the grant and removes the access-status row', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);
    await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, {
      claims,
      body: { productIds: ['course'] },
    });

    const resumed = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/resume`, {
      claims,
      body: { productIds: ['course'] },
    });

    expect(resumed.status).toBe(200);
    expect(resumed.body.accessStatus).toBeNull();
    expect(resumed.body.products.every((g: { access: string }) => g.access === 'active')).toBe(true);
    const library = await api.call('GET', `/sites/${siteId}/customers/cus-1/access`, { claims });
    expect(library.body.products).toEqual([
      { productId: 'community', hasAccess: true, until: null },
      { productId: 'course', hasAccess: true, until: null },
    ]);
  });

  it('revokes every product when productIds is absent', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);

    const revoked = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, { claims });

    expect(revoked.body.products.map((g: { access: string }) => g.access)).toEqual(['revoked', 'revoked']);
  });

  it('labels an automation revocation "Revoked by automation"', async () => {
    const api = apiHarness();
    const { siteId, purchaseId } = await seedSite(api);

    const revoked = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, {
      claims: automation(siteId),
    });

    expect(revoked.body.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked by automation' });
  });

  it('labels a support revocation "Revoked by our support team"', async () => {
    const api = apiHarness();
    const { siteId, purchaseId } = await seedSite(api);

    const revoked = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, {
      claims: support(siteId),
    });

    expect(revoked.body.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked by our support team' });
  });

  it('records revoke and resume in the history, oldest first, with actor and label', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);
    await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, { claims: automation(siteId) });
    api.clock.advance(1000);
    await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/resume`, { claims });

    const history = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}/history`, { claims });

    expect(history.body.items.map((e: { type: string }) => e.type)).toEqual([
      'purchase.granted',
      'access.revoked',
      'access.resumed',
    ]);
    expect(history.body.items[1]).toMatchObject({
      actor: { type: 'automation', id: 'automation-42' },
      label: 'Revoked by automation',
      details: { productIds: ['course', 'community'] },
    });
  });

  it('revoking what is already revoked changes nothing and keeps the first actor', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);
    await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, { claims: automation(siteId) });

    const again = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, { claims });
    const history = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}/history`, { claims });

    expect(again.status).toBe(200);
    expect(again.body.accessStatus.label).toBe('Revoked by automation');
    expect(history.body.items).toHaveLength(2);
  });

  it('two concurrent revokes of different products both land (no lost update)', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);
    const path = `/sites/${siteId}/purchases/${purchaseId}/access/revoke`;

    const results = await Promise.all([
      api.call('POST', path, { claims, body: { productIds: ['course'] } }),
      api.call('POST', path, { claims: automation(siteId), body: { productIds: ['community'] } }),
    ]);

    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const final = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}`, { claims });
    expect(final.body.products.map((g: { access: string }) => g.access)).toEqual(['revoked', 'revoked']);
    expect(final.body.version).toBe(3);
    const history = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}/history`, { claims });
    expect(history.body.items.map((e: { type: string }) => e.type)).toEqual([
      'purchase.granted',
      'access.revoked',
      'access.revoked',
    ]);
  });

  it('many concurrent revokes and resumes leave history and state consistent', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);
    const base = `/sites/${siteId}/purchases/${purchaseId}/access`;

    const calls = Array.from({ length: 12 }, (_, i) =>
      api.call('POST', `${base}/${i % 2 === 0 ? 'revoke' : 'resume'}`, {
        claims,
        body: { productIds: [i % 4 < 2 ? 'course' : 'community'] },
      }),
    );
    const results = await Promise.all(calls);

    expect(results.every((r) => r.status === 200)).toBe(true);
    const final = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}`, { claims });
    const history = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}/history`, { claims });
    // Every change that happened is one version and one history entry; replaying history gives the final state.
    expect(history.body.items).toHaveLength(final.body.version);
    const replayed = new Map([
      ['course', 'active'],
      ['community', 'active'],
    ]);
    for (const entry of history.body.items.slice(1)) {
      for (const productId of entry.details.productIds) {
        replayed.set(productId, entry.type === 'access.revoked' ? 'revoked' : 'active');
      }
    }
    for (const grant of final.body.products) expect(replayed.get(grant.productId)).toBe(grant.access);
  });

  it('a customer token cannot revoke', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);

    const result = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, {
      claims: customer(siteId, 'cus-1'),
    });
    const purchase = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}`, { claims });

    expect(result.status).toBe(403);
    expect(purchase.body.version).toBe(1);
  });
});
