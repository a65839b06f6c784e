import { describe, expect, it } from '@jest/globals';
import { admin, apiHarness, seedSite, TestClock, uniqueId } from '../support/harness.ts';

// Issue 8, item 4: catalog writes are updates of the given fields only, so concurrent partial writes all land.

describe('catalog writes never lose an update', () => {
  it('20 concurrent partial settings PUTs, half selfCancelEnabled and half timezone, both land', async () => {
    const api = apiHarness();
    const siteId = uniqueId('site');
    const claims = admin(siteId);

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api.call('PUT', `/sites/${siteId}/settings`, {
          claims,
          body: i % 2 === 0 ? { selfCancelEnabled: true } : { timezone: 'Europe/Berlin' },
        }),
      ),
    );

    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const settings = await api.call('GET', `/sites/${siteId}/settings`, { claims });
    expect(settings.body).toEqual({
      siteId,
      selfCancelEnabled: true,
      timezone: 'Europe/Berlin',
      stripeAccountId: null,
      paypalMerchantId: null,
    });
  }, 120_000);

  it('archiving a product or an offer twice keeps the first archivedAt', async () => {
    const clock = new TestClock(new Date('2026-11-01T10:00:00.000Z'));
    const api = apiHarness({ clock });
    const { siteId, claims } = await seedSite(api);

    const first = await api.call('DELETE', `/sites/${siteId}/products/course`, { claims });
    const firstOffer = await api.call('DELETE', `/sites/${siteId}/offers/bundle`, { claims });
    clock.advance(60_000);
    const second = await api.call('DELETE', `/sites/${siteId}/products/course`, { claims });
    const secondOffer = await api.call('DELETE', `/sites/${siteId}/offers/bundle`, { claims });

    expect(first.body.archivedAt).toBe('2026-11-01T10:00:00.000Z');
    expect(second.body).toEqual(first.body);
    expect(firstOffer.body.archivedAt).toBe('2026-11-01T10:00:00.000Z');
    expect(secondOffer.body).toEqual(firstOffer.body);
  });

  it('concurrent archives of one product agree on one archivedAt', async () => {
    const api = apiHarness();
    const { siteId, claims } = await seedSite(api);

    const answers = await Promise.all(
      Array.from({ length: 8 }, () => api.call('DELETE', `/sites/${siteId}/products/community`, { claims })),
    );

    expect(new Set(answers.map((answer) => answer.body.archivedAt)).size).toBe(1);
  });

  it('re-putting an archived product brings it back; archiving an unknown one is a 404', async () => {
    const api = apiHarness();
    const { siteId, claims } = await seedSite(api);
    await api.call('DELETE', `/sites/${siteId}/products/course`, { claims });

    const back = await api.call('PUT', `/sites/${siteId}/products/course`, { claims, body: { name: 'Course' } });
    const unknown = await api.call('DELETE', `/sites/${siteId}/products/ghost`, { claims });

    expect(back.body.archivedAt).toBeNull();
    expect(unknown.status).toBe(404);
  });
});
