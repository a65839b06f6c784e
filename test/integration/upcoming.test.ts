import { describe, expect, it } from '@jest/globals';
import { createSweeperHandler } from '../../functions/sweeper/app.ts';
import { admin, apiHarness, seedSite, TestClock } from '../support/harness.ts';

/**
 * `GET /sites/{siteId}/upcoming` through the billing handler against DynamoDB Local: the calendar index is
 * written in each purchase's own transaction and read per site and day.
 */

// Each test builds one or two sites of five purchases through the handlers: more than jest's default 5 s on a busy machine.

const NOW = '2026-11-21T10:00:00.000Z';
const day = (n: number) => new Date(Date.parse(NOW) + n * 86_400_000).toISOString();

/** A site with a renewal (day 10), a period-end cancellation (day 20), a pause ending (day 3), an access period (day 7) and a plan installment (day 5). */
async function aBusySite(api: ReturnType<typeof apiHarness>) {
  const seeded = await seedSite(api, { currentPeriodEnd: day(20) });
  const { siteId, ok } = seeded;
  const site = `/sites/${siteId}`;
  await ok('POST', `${site}/purchases/${seeded.purchaseId}/cancellation`, { when: 'period_end' });
  await ok('PUT', `${site}/offers/trial`, {
    name: 'Trial',
    productIds: ['course'],
    price: { type: 'free' },
    accessDays: 7,
  });
  await ok('PUT', `${site}/offers/plan`, {
    name: 'Plan',
    productIds: ['community'],
    price: { type: 'payment_plan', amount: 10000, currency: 'eur', installments: 3, interval: 'month' },
  });
  const trial = await ok('POST', `${site}/purchases`, { customerId: 'cus-1', offerId: 'trial' });
  const plan = await ok('POST', `${site}/purchases`, {
    customerId: 'cus-1',
    offerId: 'plan',
    currentPeriodEnd: day(5),
  });
  const renewing = await ok('POST', `${site}/purchases`, {
    customerId: 'cus-1',
    offerId: 'bundle',
    currentPeriodEnd: day(10),
  });
  const paused = await ok('POST', `${site}/purchases`, {
    customerId: 'cus-1',
    offerId: 'bundle',
    currentPeriodEnd: day(15),
  });
  await ok('POST', `${site}/purchases/${paused.purchaseId}/pause`, { resumesAt: day(3) });
  return { ...seeded, site, trial, plan, renewing, paused };
}

describe('GET /sites/{siteId}/upcoming', () => {
  it('lists the next 30 days of the site, soonest first, with amounts, and nothing of another site', async () => {
    const api = apiHarness({ clock: new TestClock(new Date(NOW)) });
    const mine = await aBusySite(api);
    await aBusySite(api);

    const reply = await api.call('GET', `${mine.site}/upcoming`, { claims: mine.claims });

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      from: NOW,
      to: day(30),
      nextCursor: null,
      items: [
        {
          at: day(3),
          type: 'pause_ends',
          purchaseId: mine.paused.purchaseId,
          customerId: 'cus-1',
          offerId: 'bundle',
          productIds: ['course', 'community'],
        },
        {
          at: day(5),
          type: 'installment',
          purchaseId: mine.plan.purchaseId,
          customerId: 'cus-1',
          offerId: 'plan',
          productIds: ['community'],
          amount: 10000,
          currency: 'eur',
        },
        {
          at: day(7),
          type: 'access_period_ends',
          purchaseId: mine.trial.purchaseId,
          customerId: 'cus-1',
          offerId: 'trial',
          productIds: ['course'],
        },
        {
          at: day(10),
          type: 'renewal',
          purchaseId: mine.renewing.purchaseId,
          customerId: 'cus-1',
          offerId: 'bundle',
          productIds: ['course', 'community'],
          amount: 2900,
          currency: 'usd',
        },
        {
          at: day(20),
          type: 'cancellation_effective',
          purchaseId: mine.purchaseId,
          customerId: 'cus-1',
          offerId: 'bundle',
          productIds: ['course', 'community'],
        },
      ],
    });
  });

  it('pages with the cursor alone, filters by type and window, and refuses another site', async () => {
    const api = apiHarness({ clock: new TestClock(new Date(NOW)) });
    const mine = await aBusySite(api);

    const first = await api.call('GET', `${mine.site}/upcoming?limit=2`, { claims: mine.claims });
    api.clock.advance(60_000); // the default window moved; the cursor keeps the first page's
    const second = await api.call('GET', `${mine.site}/upcoming?limit=2&cursor=${first.body.nextCursor}`, {
      claims: mine.claims,
    });
    const third = await api.call('GET', `${mine.site}/upcoming?limit=2&cursor=${second.body.nextCursor}`, {
      claims: mine.claims,
    });
    const types = (reply: { body: { items: { type: string }[] } }) => reply.body.items.map((i) => i.type);
    expect([...types(first), ...types(second), ...types(third)]).toEqual([
      'pause_ends',
      'installment',
      'access_period_ends',
      'renewal',
      'cancellation_effective',
    ]);
    expect(second.body.from).toBe(NOW);
    expect(third.body.nextCursor).toBeNull();

    const renewals = await api.call('GET', `${mine.site}/upcoming?type=renewal`, { claims: mine.claims });
    expect(types(renewals)).toEqual(['renewal']);
    const window = await api.call('GET', `${mine.site}/upcoming?from=${day(4)}&to=${day(7)}`, { claims: mine.claims });
    expect(types(window)).toEqual(['installment']);

    const other = await aBusySite(api);
    expect((await api.call('GET', `${other.site}/upcoming`, { claims: mine.claims })).status).toBe(403);
  });

  it.each([
    ['to before from', `from=${day(5)}&to=${day(4)}`, 'to'],
    ['from not an instant', 'from=tomorrow', 'from'],
    ['to not an instant', 'to=2026-13-01T00:00:00Z', 'to'],
    ['a window over 366 days', `from=${day(0)}&to=${day(367)}`, 'to'],
    ['an unknown type', 'type=refund', 'type'],
    ['limit 0', 'limit=0', 'limit'],
    ['limit over 200', 'limit=201', 'limit'],
    ['a forged cursor', 'cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['an unknown parameter', 'status=active', 'query'],
  ])('%s is a 400 naming the field (%#)', async (_name, query, field) => {
    const api = apiHarness({ clock: new TestClock(new Date(NOW)) });
    const siteId = `site-${Date.now()}-${Math.random()}`.replace('.', '');

    const reply = await api.call('GET', `/sites/${siteId}/upcoming?${query}`, { claims: admin(siteId) });

    expect(reply.status).toBe(400);
    expect(reply.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it("another site's cursor is a 400 naming cursor", async () => {
    const api = apiHarness({ clock: new TestClock(new Date(NOW)) });
    const a = await aBusySite(api);
    const b = await aBusySite(api);
    const cursorOfB = (await api.call('GET', `${b.site}/upcoming?limit=1`, { claims: b.claims })).body.nextCursor;

    const reply = await api.call('GET', `${a.site}/upcoming?limit=1&cursor=${cursorOfB}`, { claims: a.claims });

    expect(reply.status).toBe(400);
    expect(reply.body.error.details.map((d: { field: string }) => d.field)).toEqual(['cursor']);
  });

  it('the sweeper applies an overdue action found in the re-keyed due index, and the calendar drops it', async () => {
    const api = apiHarness({ clock: new TestClock(new Date(NOW)) });
    const mine = await aBusySite(api);
    api.scheduler.timers.clear(); // every timer lost: only the sweeper is left

    api.clock.set(day(3.01));
    const summary = await createSweeperHandler(api.deps)();
    const paused = await api.call('GET', `${mine.site}/purchases/${mine.paused.purchaseId}`, { claims: mine.claims });
    const calendar = await api.call('GET', `${mine.site}/upcoming?from=${NOW}`, { claims: mine.claims });

    expect(summary.applied).toBeGreaterThanOrEqual(1);
    expect(paused.body.status).toBe('active');
    // The pause ended: the purchase bills again, so its renewal takes the pause's place.
    expect(calendar.body.items.filter((i: { purchaseId: string }) => i.purchaseId === mine.paused.purchaseId)).toEqual([
      expect.objectContaining({ type: 'renewal', at: day(15) }),
    ]);
  });
});
