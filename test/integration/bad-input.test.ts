import { describe, expect, it } from '@jest/globals';
import { admin, apiHarness, customer, seedSite } from '../support/harness.ts';

/** Every rejected request answers with the documented error body and leaves the purchase and its history as they were. */
describe('bad input changes nothing', () => {
  async function setup() {
    const api = apiHarness();
    const seeded = await seedSite(api);
    const snapshot = async () => {
      const purchase = await api.call('GET', `/sites/${seeded.siteId}/purchases/${seeded.purchaseId}`, {
        claims: seeded.claims,
      });
      const history = await api.call('GET', `/sites/${seeded.siteId}/purchases/${seeded.purchaseId}/history`, {
        claims: seeded.claims,
      });
      return { purchase: purchase.body, history: history.body };
    };
    return { api, ...seeded, snapshot, before: await snapshot() };
  }

  it.each([
    ['malformed JSON', { rawBody: '{"productIds": [' }, 400, 'body'],
    ['an unknown product', { body: { productIds: ['course', 'nope'] } }, 400, 'productIds[1]'],
    ['productIds of the wrong type', { body: { productIds: 'course' } }, 400, 'productIds'],
    ['an empty productIds list', { body: { productIds: [] } }, 400, 'productIds'],
    ['an unknown field', { body: { productId: 'course' } }, 400, 'body'],
    ['a body that is not an object', { body: ['course'] }, 400, 'body'],
  ])('revoke with %s → %i naming %s', async (_name, init, status, field) => {
    const { api, siteId, claims, purchaseId, snapshot, before } = await setup();

    const result = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, {
      claims,
      ...init,
    });

    expect(result.status).toBe(status);
    expect(result.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(result.body.error.message).toEqual(expect.any(String));
    expect(await snapshot()).toEqual(before);
  });

  it('a body that is not JSON at all is refused with 415', async () => {
    const { api, siteId, claims, purchaseId, snapshot, before } = await setup();

    const result = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, {
      claims,
      rawBody: 'productIds=course',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    expect(result.status).toBe(415);
    expect(await snapshot()).toEqual(before);
  });

  it('an unknown purchase is a 404 naming it', async () => {
    const { api, siteId, claims } = await setup();

    const result = await api.call('POST', `/sites/${siteId}/purchases/pur_missing/access/revoke`, { claims });

    expect(result.status).toBe(404);
    expect(result.body.error.message).toContain('pur_missing');
  });

  it("another site's purchase id is not found from this site, and is left untouched", async () => {
    const { api, purchaseId, snapshot, before } = await setup();
    const other = await seedSite(api);

    const result = await api.call('POST', `/sites/${other.siteId}/purchases/${purchaseId}/access/revoke`, {
      claims: other.claims,
    });

    expect(result.status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it("a site-A admin token on site B's routes is 403 and reads or writes nothing", async () => {
    const { api, siteId: siteA } = await setup();
    const siteB = await seedSite(api);
    const tokenA = admin(siteA);
    const beforeB = await api.call('GET', `/sites/${siteB.siteId}/purchases/${siteB.purchaseId}`, {
      claims: siteB.claims,
    });

    const attempts = await Promise.all([
      api.call('GET', `/sites/${siteB.siteId}/purchases/${siteB.purchaseId}`, { claims: tokenA }),
      api.call('POST', `/sites/${siteB.siteId}/purchases/${siteB.purchaseId}/access/revoke`, { claims: tokenA }),
      api.call('GET', `/sites/${siteB.siteId}/customers/cus-1/access`, { claims: tokenA }),
      api.call('PUT', `/sites/${siteB.siteId}/products/course`, { claims: tokenA, body: { name: 'Hijacked' } }),
      api.call('GET', `/sites/${siteB.siteId}/settings`, { claims: tokenA }),
    ]);

    for (const attempt of attempts) {
      expect(attempt.status).toBe(403);
      expect(JSON.stringify(attempt.body)).not.toContain('Course');
    }
    const afterB = await api.call('GET', `/sites/${siteB.siteId}/purchases/${siteB.purchaseId}`, {
      claims: siteB.claims,
    });
    expect(afterB.body).toEqual(beforeB.body);
  });

  it('no token is 401', async () => {
    const { api, siteId, purchaseId } = await setup();

    const result = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}`, { claims: null });

    expect(result.status).toBe(401);
  });

  it('a customer token on a staff route is 403', async () => {
    const { api, siteId } = await setup();

    const result = await api.call('GET', `/sites/${siteId}/customers/cus-1/access`, {
      claims: customer(siteId, 'cus-1'),
    });

    expect(result.status).toBe(403);
  });

  it.each([
    ['a missing customerId', { offerId: 'bundle' }, 'customerId'],
    ['an unknown customer', { customerId: 'ghost', offerId: 'bundle' }, 'customerId'],
    ['an unknown offer', { customerId: 'cus-1', offerId: 'ghost' }, 'offerId'],
    ['an offerId of the wrong type', { customerId: 'cus-1', offerId: 7 }, 'offerId'],
    ['an unknown processor', { customerId: 'cus-1', offerId: 'bundle', processor: 'venmo' }, 'processor'],
    [
      'a currentPeriodEnd that is not a date',
      { customerId: 'cus-1', offerId: 'bundle', currentPeriodEnd: 'soon' },
      'currentPeriodEnd',
    ],
    ['an id with a key separator', { customerId: 'cus#1', offerId: 'bundle' }, 'customerId'],
  ])('granting with %s is a 400 naming %s and creates nothing', async (_name, body, field) => {
    const { api, siteId, claims } = await setup();

    const result = await api.call('POST', `/sites/${siteId}/purchases`, { claims, body });
    const customerAfter = await api.call('GET', `/sites/${siteId}/customers/cus-1`, { claims });

    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(customerAfter.body.purchases).toHaveLength(1);
  });
});
