import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.ts';
import { httpClient } from '../support/e2e-http.ts';

/**
 * The calendar of upcoming access changes over real HTTP against the local runtime (`npm start`), as the
 * lead checks it: a period-end cancellation, an `accessDays` end and a pause end, at their instants, soonest
 * first, and nothing of another site; `to` before `from` and a forged cursor are 400s naming the field.
 */

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
    // A table of its own: the runtime's stream publisher starts at this table's first record, not at every earlier test's.
    tableName: `e2e-upcoming-${randomUUID().slice(0, 8)}`,
  });
});

afterAll(async () => {
  await runtime?.stop();
});

const { http, ok } = httpClient(() => runtime.url);

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

/**
 * A site whose next 30 days hold a pause ending (day 3), an access period ending (`accessDays: 7`) and a
 * cancellation at the period end (day 20), and nothing else.
 */
async function aSite() {
  const siteId = `site-upcoming-${randomUUID()}`;
  const site = `/sites/${siteId}`;
  const token = (await ok('POST', '/local/tokens', '', { role: 'admin', siteId, email: 'owner@example.com' }, 201))
    .token as string;
  await ok('PUT', `${site}/products/course`, token, { name: 'Course' });
  await ok('PUT', `${site}/offers/monthly`, token, {
    name: 'Monthly',
    productIds: ['course'],
    price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
  });
  await ok('PUT', `${site}/offers/trial`, token, {
    name: 'Trial',
    productIds: ['course'],
    price: { type: 'free' },
    accessDays: 7,
  });
  await ok('PUT', `${site}/customers/cus-1`, token, { email: 'ada@example.com' });
  const grant = (offerId: string, currentPeriodEnd?: string) =>
    ok('POST', `${site}/purchases`, token, { customerId: 'cus-1', offerId, currentPeriodEnd }, 201);

  const canceling = await grant('monthly', inDays(20));
  const canceled = await ok('POST', `${site}/purchases/${canceling.purchaseId}/cancellation`, token, {
    when: 'period_end',
  });
  const trial = await grant('trial');
  const pausing = await grant('monthly', inDays(40));
  const paused = await ok('POST', `${site}/purchases/${pausing.purchaseId}/pause`, token, { resumesAt: inDays(3) });
  return { siteId, site, token, canceled, trial, paused };
}

describe('GET /sites/{siteId}/upcoming over HTTP', () => {
  it('lists the next 30 days: the pause end, the accessDays end, the period-end cancellation, soonest first, of this site only', async () => {
    const mine = await aSite();
    const other = await aSite();

    const reply = await http('GET', `${mine.site}/upcoming`, { token: mine.token });

    expect(reply.status).toBe(200);
    expect(reply.body.nextCursor).toBeNull();
    expect(reply.body.items).toEqual([
      {
        at: mine.paused.pause.resumesAt,
        type: 'pause_ends',
        purchaseId: mine.paused.purchaseId,
        customerId: 'cus-1',
        offerId: 'monthly',
        productIds: ['course'],
      },
      {
        at: mine.trial.accessEndsAt,
        type: 'access_period_ends',
        purchaseId: mine.trial.purchaseId,
        customerId: 'cus-1',
        offerId: 'trial',
        productIds: ['course'],
      },
      {
        at: mine.canceled.cancellation.effectiveAt,
        type: 'cancellation_effective',
        purchaseId: mine.canceled.purchaseId,
        customerId: 'cus-1',
        offerId: 'monthly',
        productIds: ['course'],
      },
    ]);
    expect(mine.canceled.cancellation.effectiveAt).toBe(mine.canceled.currentPeriodEnd);
    const otherIds = [other.canceled.purchaseId, other.trial.purchaseId, other.paused.purchaseId];
    expect(reply.body.items.filter((i: { purchaseId: string }) => otherIds.includes(i.purchaseId))).toEqual([]);
    // The other site's staff cannot read this site's calendar at all.
    expect((await http('GET', `${mine.site}/upcoming`, { token: other.token })).status).toBe(403);
  });

  it('to before from, and a forged cursor, are 400s naming the field', async () => {
    const mine = await aSite();

    const backwards = await http('GET', `${mine.site}/upcoming?from=${inDays(5)}&to=${inDays(4)}`, {
      token: mine.token,
    });
    const forged = await http('GET', `${mine.site}/upcoming?cursor=eyJmcm9tIjoiMjAyNiJ9`, { token: mine.token });

    expect(backwards.status).toBe(400);
    expect(backwards.body.error.details.map((d: { field: string }) => d.field)).toEqual(['to']);
    expect(forged.status).toBe(400);
    expect(forged.body.error.details.map((d: { field: string }) => d.field)).toEqual(['cursor']);
  });
});
