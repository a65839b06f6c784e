import { randomUUID } from 'node:crypto';
import { describe, expect, it, jest } from '@jest/globals';
import { httpClient } from '../support/e2e-http.ts';
import { localRuntimeForFile } from '../support/e2e-runtime.ts';

/**
 * The acceptance of drift reconciliation over real HTTP against the local runtime (`npm start`): a subscription
 * changed only in the local Stripe sandbox (through `/local/sandbox/stripe/…`, as a change in Stripe's dashboard
 * would be, with no webhook) is reported field by field for that purchase; with `repair: true` the purchase
 * matches the processor and its history says why (the processor, the reconciliation job).
 */
jest.setTimeout(120_000);

const runtime = localRuntimeForFile();
const { http, ok } = httpClient(() => runtime().url);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request to the local Stripe sandbox on a connected account, form-encoded as Stripe takes it. */
async function atStripe(
  method: 'GET' | 'POST',
  subscriptionId: string,
  account: string,
  form?: Record<string, string>,
) {
  const response = await fetch(`${runtime().url}/local/sandbox/stripe/v1/subscriptions/${subscriptionId}`, {
    method,
    headers: {
      'stripe-account': account,
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  expect(response.status).toBe(200);
  // biome-ignore lint/suspicious/noExplicitAny: a Stripe subscription object, read field by field
  return (await response.json()) as any;
}

/** Polls the report until the job finishes; the counters it passed through on the way. */
async function finished(path: string, token: string) {
  for (let i = 0; i < 200; i++) {
    const report = await ok('GET', path, token);
    if (report.status === 'completed' || report.status === 'failed') return report;
    await sleep(100);
  }
  throw new Error(`${path} did not finish`);
}

describe('drift reconciliation on the local runtime', () => {
  it('reports a cancellation made only in Stripe for that purchase; with repair the purchase matches Stripe', async () => {
    const siteId = `site-reconcile-${randomUUID()}`;
    const account = `acct_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const site = `/sites/${siteId}`;
    const token = (await ok('POST', '/local/tokens', '', { role: 'admin', siteId, email: 'owner@example.com' }, 201))
      .token as string;
    await ok('PUT', `${site}/settings`, token, { stripeAccountId: account });
    await ok('PUT', `${site}/products/course`, token, { name: 'Course' });
    await ok('PUT', `${site}/offers/monthly`, token, {
      name: 'Monthly',
      productIds: ['course'],
      price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
    });
    await ok('PUT', `${site}/customers/cus-1`, token, { email: 'ada@example.com' });

    // Two purchases on subscriptions Stripe holds, their periods as Stripe has them: in step to begin with.
    const linked = async (subscriptionId: string) => {
      const subscription = await atStripe('GET', subscriptionId, account);
      const currentPeriodEnd = new Date(subscription.items.data[0].current_period_end * 1000).toISOString();
      return ok(
        'POST',
        `${site}/purchases`,
        token,
        {
          customerId: 'cus-1',
          offerId: 'monthly',
          processor: 'stripe',
          processorSubscriptionId: subscriptionId,
          currentPeriodEnd,
        },
        201,
      );
    };
    const suffix = randomUUID().replaceAll('-', '').slice(0, 12);
    const changed = await linked(`sub_changed${suffix}`);
    const untouched = await linked(`sub_untouched${suffix}`);

    // In Stripe only (no webhook): the subscription is set to end in ten days.
    const cancelAt = Math.floor(Date.now() / 1000) + 10 * 86_400;
    await atStripe('POST', changed.processorSubscriptionId, account, { cancel_at: String(cancelAt) });
    const cancelAtIso = new Date(cancelAt * 1000).toISOString();

    const started = await http('POST', `${site}/reconciliations`, { token, body: {} });
    expect(started.status).toBe(202);
    const report = await finished(`${site}/reconciliations/${started.body.jobId}`, token);
    expect(report).toMatchObject({ status: 'completed', checked: 2, drifted: 1, repaired: 0, skipped: 0, failed: 0 });
    expect(report.items).toEqual([
      {
        purchaseId: changed.purchaseId,
        processorSubscriptionId: changed.processorSubscriptionId,
        field: 'cancelAt',
        ledger: null,
        processor: cancelAtIso,
      },
    ]);
    expect((await ok('GET', `${site}/purchases/${changed.purchaseId}`, token)).status).toBe('active');

    // An automation token may read reports but not start one.
    const automation = (await ok('POST', '/local/tokens', '', { role: 'automation', siteId }, 201)).token as string;
    expect((await http('POST', `${site}/reconciliations`, { token: automation, body: { repair: true } })).status).toBe(
      403,
    );
    expect((await http('GET', `${site}/reconciliations`, { token: automation })).status).toBe(200);

    const repair = await http('POST', `${site}/reconciliations`, { token, body: { repair: true } });
    expect(repair.status).toBe(202);
    const repaired = await finished(`${site}/reconciliations/${repair.body.jobId}`, token);
    expect(repaired).toMatchObject({ status: 'completed', checked: 2, drifted: 1, repaired: 1 });

    const purchase = await ok('GET', `${site}/purchases/${changed.purchaseId}`, token);
    expect(purchase).toMatchObject({ status: 'pending_cancellation', cancellation: { effectiveAt: cancelAtIso } });
    expect((await ok('GET', `${site}/purchases/${untouched.purchaseId}`, token)).status).toBe('active');
    const history = await ok('GET', `${site}/purchases/${changed.purchaseId}/history`, token);
    expect(history.items.at(-1)).toMatchObject({
      type: 'cancellation.requested',
      actor: { type: 'processor', processor: 'stripe' },
      details: { jobId: repair.body.jobId, eventType: 'membergate.reconciliation', effectiveAt: cancelAtIso },
    });

    // The purchase now matches the processor: a third run finds nothing.
    const again = await http('POST', `${site}/reconciliations`, { token, body: { processor: 'stripe' } });
    expect(await finished(`${site}/reconciliations/${again.body.jobId}`, token)).toMatchObject({
      checked: 2,
      drifted: 0,
      items: [],
    });
    const list = await ok('GET', `${site}/reconciliations?limit=2`, token);
    expect(list.items.map((job: { jobId: string }) => job.jobId)).toEqual([again.body.jobId, repair.body.jobId]);
  });
});
