import { describe, expect, it } from '@jest/globals';
import { admin, apiHarness, seedSite, uniqueId } from '../support/harness.ts';

describe('catalog, settings and customers', () => {
  it('settings default to self-cancel off in UTC and keep fields left out of a PUT', async () => {
    const api = apiHarness();
    const siteId = uniqueId('site');
    const claims = admin(siteId);

    const defaults = await api.call('GET', `/sites/${siteId}/settings`, { claims });
    await api.call('PUT', `/sites/${siteId}/settings`, { claims, body: { selfCancelEnabled: true } });
    const updated = await api.call('PUT', `/sites/${siteId}/settings`, { claims, body: { timezone: 'Europe/Berlin' } });

    expect(defaults.body).toEqual({
      siteId,
      selfCancelEnabled: false,
      timezone: 'UTC',
      stripeAccountId: null,
      paypalMerchantId: null,
    });
    expect(updated.body).toEqual({
      siteId,
      selfCancelEnabled: true,
      timezone: 'Europe/Berlin',
      stripeAccountId: null,
      paypalMerchantId: null,
    });
  });

  it('refuses a time zone that does not exist, naming the field', async () => {
    const api = apiHarness();
    const siteId = uniqueId('site');

    const result = await api.call('PUT', `/sites/${siteId}/settings`, {
      claims: admin(siteId),
      body: { timezone: 'Mars/Olympus' },
    });

    expect(result.status).toBe(400);
    expect(result.body.error.details[0].field).toBe('timezone');
  });

  it('an offer naming a product that does not exist is a 400 naming productIds[i]', async () => {
    const api = apiHarness();
    const { siteId, claims } = await seedSite(api);

    const result = await api.call('PUT', `/sites/${siteId}/offers/broken`, {
      claims,
      body: { name: 'Broken', productIds: ['course', 'ghost'], price: { type: 'free' } },
    });

    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([{ field: 'productIds[1]', message: 'product ghost does not exist' }]);
  });

  it('an offer with an incomplete price names the missing price field', async () => {
    const api = apiHarness();
    const { siteId, claims } = await seedSite(api);

    const result = await api.call('PUT', `/sites/${siteId}/offers/plan`, {
      claims,
      body: { name: 'Plan', productIds: ['course'], price: { type: 'payment_plan', amount: 100, currency: 'usd' } },
    });

    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { field: string }) => d.field)).toEqual(
      expect.arrayContaining(['price.installments', 'price.interval']),
    );
  });

  it('archiving the product and the offer leaves existing access and billing untouched (rule 11)', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId, purchase } = await seedSite(api);

    const archivedProduct = await api.call('DELETE', `/sites/${siteId}/products/course`, { claims });
    const archivedOffer = await api.call('DELETE', `/sites/${siteId}/offers/bundle`, { claims });

    expect(archivedProduct.body.archivedAt).toEqual(expect.any(String));
    expect(archivedOffer.body.archivedAt).toEqual(expect.any(String));
    const after = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}`, { claims });
    expect(after.body).toEqual(purchase);
    const access = await api.call('GET', `/sites/${siteId}/customers/cus-1/access/course`, { claims });
    expect(access.body.hasAccess).toBe(true);
  });

  it('an archived offer cannot be granted again (409)', async () => {
    const api = apiHarness();
    const { siteId, claims } = await seedSite(api);
    await api.call('DELETE', `/sites/${siteId}/offers/bundle`, { claims });

    const result = await api.call('POST', `/sites/${siteId}/purchases`, {
      claims,
      body: { customerId: 'cus-1', offerId: 'bundle' },
    });

    expect(result.status).toBe(409);
  });

  it('a purchase copies the offer products; editing the offer later does not change it', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);

    await api.call('PUT', `/sites/${siteId}/offers/bundle`, {
      claims,
      body: { name: 'Bundle', productIds: ['course'], price: { type: 'free' } },
    });
    const after = await api.call('GET', `/sites/${siteId}/purchases/${purchaseId}`, { claims });

    expect(after.body.products.map((g: { productId: string }) => g.productId)).toEqual(['course', 'community']);
    expect(after.body.price.type).toBe('subscription');
  });

  it('reads a customer with their purchases; an unknown customer is 404', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);

    const found = await api.call('GET', `/sites/${siteId}/customers/cus-1`, { claims });
    const missing = await api.call('GET', `/sites/${siteId}/customers/nobody`, { claims });

    expect(found.body).toMatchObject({ customerId: 'cus-1', email: 'ada@example.com', name: 'Ada' });
    expect(found.body.purchases.map((p: { purchaseId: string }) => p.purchaseId)).toEqual([purchaseId]);
    expect(missing.status).toBe(404);
  });

  it('access with accessDays is exact to the millisecond, whatever timers do', async () => {
    const api = apiHarness();
    const { siteId, claims, purchase } = await seedSite(api, { accessDays: 30 });
    const endsAt = Date.parse(purchase.accessEndsAt);
    expect(endsAt - api.clock.now().getTime()).toBe(30 * 86_400_000);

    api.clock.set(new Date(endsAt - 1));
    const justBefore = await api.call('GET', `/sites/${siteId}/customers/cus-1/access/course`, { claims });
    api.clock.set(new Date(endsAt));
    const atTheEnd = await api.call('GET', `/sites/${siteId}/customers/cus-1/access/course`, { claims });

    expect(justBefore.body).toEqual({
      productId: 'course',
      hasAccess: true,
      until: purchase.accessEndsAt,
      reason: 'active',
    });
    expect(atTheEnd.body).toEqual({ productId: 'course', hasAccess: false, until: null, reason: 'access_ended' });
  });

  it('a product the customer never bought has no access', async () => {
    const api = apiHarness();
    const { siteId, claims } = await seedSite(api);

    const result = await api.call('GET', `/sites/${siteId}/customers/cus-1/access/other-course`, { claims });

    expect(result.body).toEqual({ productId: 'other-course', hasAccess: false, until: null, reason: 'not_purchased' });
  });
});
