import { describe, expect, it } from '@jest/globals';
import { apiHarness, seedSite } from '../support/harness.ts';

/**
 * A body, when sent, must be a JSON object. "No body" keeps its meaning (revoke: every product; refunds:
 * what is left of the last payment), but a body of `null` used to be read as "no body" too, so
 * `POST .../access/revoke` with `null` revoked everything and `.../refunds` with `null` refunded in full.
 */
describe('a sent body that is not a JSON object', () => {
  async function setup() {
    const api = apiHarness();
    const seeded = await seedSite(api);
    const path = `/sites/${seeded.siteId}/purchases/${seeded.purchaseId}`;
    const snapshot = async () => {
      const purchase = await api.call('GET', path, { claims: seeded.claims });
      const history = await api.call('GET', `${path}/history`, { claims: seeded.claims });
      return { purchase: purchase.body, history: history.body };
    };
    return { api, ...seeded, path, snapshot, before: await snapshot() };
  }

  const notObjects: [string, string][] = [
    ['null', 'null'],
    ['an array', '[]'],
    ['an array of ids', '["course"]'],
    ['a number', '3'],
    ['a string', '"x"'],
    ['a boolean', 'true'],
  ];

  it.each(notObjects)('revoke with a body of %s is a 400 naming body, and changes nothing', async (_name, rawBody) => {
    const { api, claims, path, snapshot, before } = await setup();

    const result = await api.call('POST', `${path}/access/revoke`, { claims, rawBody });

    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([{ field: 'body', message: expect.stringContaining('JSON object') }]);
    expect(await snapshot()).toEqual(before);
  });

  it.each(notObjects)('refunds with a body of %s is a 400 naming body, and refunds nothing', async (_name, rawBody) => {
    const { api, claims, path, snapshot, before } = await setup();

    const result = await api.call('POST', `${path}/refunds`, { claims, rawBody });

    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([{ field: 'body', message: expect.stringContaining('JSON object') }]);
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['resume', 'POST', 'access/resume'],
    ['pause', 'POST', 'pause'],
    ['cancellation', 'POST', 'cancellation'],
  ])('%s with a body of null is a 400 naming body, and changes nothing', async (_name, method, route) => {
    const { api, claims, path, snapshot, before } = await setup();

    const result = await api.call(method, `${path}/${route}`, { claims, rawBody: 'null' });

    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { field: string }) => d.field)).toEqual(['body']);
    expect(await snapshot()).toEqual(before);
  });

  it('site settings with a body of null is a 400 naming body, and the settings stay', async () => {
    const { api, claims, siteId } = await setup();
    await api.call('PUT', `/sites/${siteId}/settings`, { claims, body: { selfCancelEnabled: true } });

    const result = await api.call('PUT', `/sites/${siteId}/settings`, { claims, rawBody: 'null' });
    const settings = await api.call('GET', `/sites/${siteId}/settings`, { claims });

    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { field: string }) => d.field)).toEqual(['body']);
    expect(settings.body.selfCancelEnabled).toBe(true);
  });
});

describe('no body keeps its meaning', () => {
  it('revoke without a body revokes every product', async () => {
    const api = apiHarness();
    const { claims, siteId, purchaseId } = await seedSite(api);

    const result = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, { claims });

    expect(result.status).toBe(200);
    expect(result.body.products.map((p: { access: string }) => p.access)).toEqual(['revoked', 'revoked']);
  });

  it('revoke with an empty body revokes every product', async () => {
    const api = apiHarness();
    const { claims, siteId, purchaseId } = await seedSite(api);

    const result = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, {
      claims,
      rawBody: '',
    });

    expect(result.status).toBe(200);
    expect(result.body.products.map((p: { access: string }) => p.access)).toEqual(['revoked', 'revoked']);
  });

  it('refunds without a body refunds what is left of the last payment', async () => {
    const api = apiHarness();
    const { claims, siteId, purchaseId } = await seedSite(api);

    const result = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/refunds`, { claims });

    expect(result.status).toBe(201);
    expect(result.body.refunds).toEqual([expect.objectContaining({ amount: 2900, currency: 'usd' })]);
  });
});
