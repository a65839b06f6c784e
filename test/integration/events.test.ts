import { describe, expect, it } from '@jest/globals';
import { domainEventSchema } from '../../shared/domain/event-catalog.ts';
import { admin, apiHarness, seedSite } from '../support/harness.ts';

// Issue 9, items 1 and 4: every change writes its events in the same transaction, numbered 1, 2, 3… per
// purchase with no gap, and a site's events can be polled oldest first.

async function allEvents(api: ReturnType<typeof apiHarness>, siteId: string, query: string) {
  const events = [];
  let after: string | null = null;
  do {
    const page = await api.call('GET', `/sites/${siteId}/events?limit=7&${query}${after ? `&after=${after}` : ''}`, {
      claims: admin(siteId),
    });
    expect(page.status).toBe(200);
    // Every event a consumer reads matches the published catalog's schema of its type.
    for (const event of page.body.items) expect(domainEventSchema.safeParse(event).error).toBeUndefined();
    events.push(...page.body.items);
    after = page.body.nextCursor;
  } while (after);
  return events;
}

describe('domain events (transactional outbox)', () => {
  it('a grant and a revoke are events 1 and 2 of the purchase, with the envelope of DESIGN.md §5', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);
    const path = `/sites/${siteId}/purchases/${purchaseId}`;
    await api.call('POST', `${path}/access/revoke`, { claims, body: { productIds: ['course'] } });

    const events = await allEvents(api, siteId, `purchaseId=${purchaseId}`);

    expect(events.map((e) => [e.sequence, e.type])).toEqual([
      [1, 'purchase.granted'],
      [2, 'access.revoked'],
    ]);
    const current = (await api.call('GET', path, { claims })).body;
    expect(events[1]).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'access.revoked',
      siteId,
      purchaseId,
      customerId: 'cus-1',
      sequence: 2,
      occurredAt: expect.any(String),
      actor: expect.objectContaining({ type: 'admin' }),
      data: { purchase: current, details: { productIds: ['course'] }, label: 'Revoked by owner@example.com' },
    });
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
  });

  it('50 concurrent commands on one purchase: sequences 1..N without a gap, the last event is the final state', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);
    const path = `/sites/${siteId}/purchases/${purchaseId}`;

    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api.call('POST', `${path}/access/${i % 2 === 0 ? 'revoke' : 'resume'}`, {
          claims,
          body: { productIds: [i % 4 < 2 ? 'course' : 'community'] },
        }),
      ),
    );

    const events = await allEvents(api, siteId, `purchaseId=${purchaseId}`);
    const history = (await api.call('GET', `${path}/history`, { claims })).body.items;
    expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: history.length }, (_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual(history.map((h: { type: string }) => h.type));
    expect(events.at(-1).data.purchase).toEqual((await api.call('GET', path, { claims })).body);
  }, 120_000);

  it('a rejected command writes no event', async () => {
    const api = apiHarness();
    const { siteId, claims, purchaseId } = await seedSite(api);
    const before = await allEvents(api, siteId, `purchaseId=${purchaseId}`);

    const refused = await api.call('POST', `/sites/${siteId}/purchases/${purchaseId}/access/revoke`, {
      claims,
      body: { productIds: ['not-in-this-purchase'] },
    });

    expect(refused.status).toBe(400);
    expect(await allEvents(api, siteId, `purchaseId=${purchaseId}`)).toEqual(before);
  });

  it("the site's events, oldest first, across purchases, filtered by type, paged with after", async () => {
    const api = apiHarness();
    const { siteId, claims, ok } = await seedSite(api);
    for (let i = 0; i < 4; i++)
      await ok('POST', `/sites/${siteId}/purchases`, { customerId: 'cus-1', offerId: 'bundle' });

    const events = await allEvents(api, siteId, '');
    const granted = await allEvents(api, siteId, 'type=purchase.granted');

    expect(events).toHaveLength(5);
    expect(events.map((e) => e.occurredAt)).toEqual([...events.map((e) => e.occurredAt)].sort());
    expect(granted).toHaveLength(5);
    expect((await allEvents(api, siteId, 'type=access.revoked')).length).toBe(0);
    const tampered = await api.call('GET', `/sites/${siteId}/events?type=access.revoked&after=x`, { claims });
    expect(tampered.status).toBe(400);
    expect(tampered.body.error.details[0].field).toBe('after');
  });

  it("another site's token cannot read this site's events (403)", async () => {
    const api = apiHarness();
    const { siteId } = await seedSite(api);
    const other = await api.call('GET', `/sites/${siteId}/events`, { claims: admin('some-other-site') });
    expect(other.status).toBe(403);
  });
});
