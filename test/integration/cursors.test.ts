import { describe, expect, it } from '@jest/globals';
import { apiHarness, seedSite } from '../support/harness.ts';

// Issue 7, item 4: a cursor is bound to its site, list and filter; anything else is a 400, never a 500.

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));

async function siteWithSubscriptions() {
  const api = apiHarness();
  const seeded = await seedSite(api);
  for (let i = 0; i < 2; i++) {
    await seeded.ok('POST', `/sites/${seeded.siteId}/purchases`, { customerId: 'cus-1', offerId: 'bundle' });
  }
  const list = (query: string) => api.call('GET', `/sites/${seeded.siteId}/subscriptions?${query}`, seeded);
  const first = await list('limit=1');
  expect(first.status).toBe(200);
  expect(first.body.nextCursor).toEqual(expect.any(String));
  return { api, ...seeded, list, cursor: first.body.nextCursor as string, firstItem: first.body.items[0] };
}

function expectCursorRefused(answer: { status: number; body: { error: { details: { field: string }[] } } }) {
  expect(answer.status).toBe(400);
  expect(answer.body.error.details[0]!.field).toBe('cursor');
}

describe('subscription list cursors', () => {
  it('a cursor pages through the list it came from', async () => {
    const { list, cursor, firstItem } = await siteWithSubscriptions();
    const next = await list(`limit=1&cursor=${cursor}`);
    expect(next.status).toBe(200);
    expect(next.body.items).toHaveLength(1);
    expect(next.body.items[0].purchaseId).not.toBe(firstItem.purchaseId);
  });

  it('a cursor of the unfiltered list used with a status filter is a 400', async () => {
    const { list, cursor } = await siteWithSubscriptions();
    expectCursorRefused(await list(`status=paused&cursor=${cursor}`));
    expectCursorRefused(await list(`status=active&cursor=${cursor}`));
    expectCursorRefused(await list(`offerId=bundle&cursor=${cursor}`));
  });

  it('a cursor of another site is a 400', async () => {
    const a = await siteWithSubscriptions();
    const b = await siteWithSubscriptions();
    expectCursorRefused(await b.list(`limit=1&cursor=${a.cursor}`));
  });

  it('forged cursors (index keys only, an extra attribute, an empty sort key, not JSON) are 400s', async () => {
    const { list, cursor } = await siteWithSubscriptions();
    const { list: binding, key } = decode(cursor);
    const forgeries = [
      encode({ list: binding, key: { gsi2pk: key.gsi2pk, gsi2sk: key.gsi2sk } }),
      encode({ list: binding, key: { ...key, extra: 'x' } }),
      encode({ list: binding, key: { ...key, gsi2sk: '' } }),
      encode({ list: binding, key: { ...key, pk: 7 } }),
      encode({ gsi2pk: key.gsi2pk, gsi2sk: key.gsi2sk, pk: key.pk, sk: key.sk }),
      encode({ list: 'other', key }),
      encode([key]),
      'not-base64-json',
    ];
    for (const forged of forgeries) expectCursorRefused(await list(`limit=1&cursor=${encodeURIComponent(forged)}`));
  });
});
