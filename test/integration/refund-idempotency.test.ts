import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type StripeSandbox, startStripeSandbox } from '../../infra/local/stripe-sandbox.ts';
import { processorRegistry } from '../../shared/adapters/processors.ts';
import { apiHarness, HARNESS_ACCOUNTS, seedSite, TestClock } from '../support/harness.ts';

// Issue 7, items 1–3: a retried refund is recorded once, a key reused with other parameters is refused
// before the processor is called, and a processor's "your request is wrong" is a 4xx, not a 502.

let stripe: StripeSandbox;
beforeAll(async () => {
  stripe = await startStripeSandbox();
});
afterAll(async () => {
  await stripe.stop();
});

const NOW = '2026-11-21T10:00:00.000Z';

function stripeHarness() {
  return apiHarness({
    clock: new TestClock(new Date(NOW)),
    processors: processorRegistry({
      stripe: { secretKey: 'sk_test_integration', apiBase: stripe.url },
      native: null,
      stripeWebhookSecret: null,
      paypal: null,
      paypalWebhookId: null,
      paypalWebhookCert: null,
    }),
  });
}

/** A Stripe-linked purchase whose subscription bills `billed` (cents) a period at the sandbox. */
async function stripePurchase(billed = 2900) {
  const api = stripeHarness();
  const seeded = await seedSite(api, { accounts: true });
  const subscriptionId = `sub_${randomUUID().replaceAll('-', '').slice(0, 14)}`;
  stripe.observe(
    {
      object: 'subscription',
      id: subscriptionId,
      items: { data: [{ price: { unit_amount: billed, currency: 'usd' }, quantity: 1 }] },
    },
    HARNESS_ACCOUNTS.stripeAccountId,
  );
  const purchase = await seeded.ok('POST', `/sites/${seeded.siteId}/purchases`, {
    customerId: 'cus-1',
    offerId: 'bundle',
    processor: 'stripe',
    processorSubscriptionId: subscriptionId,
    currentPeriodEnd: '2026-12-21T10:00:00.000Z',
  });
  const path = `/sites/${seeded.siteId}/purchases/${purchase.purchaseId}`;
  const refundsSent = () =>
    stripe.requests.filter((r) => r.path === '/v1/refunds' && r.form['metadata[subscriptionId]'] === subscriptionId);
  return { api, claims: seeded.claims, path, subscriptionId, refundsSent };
}

describe('refunds with an Idempotency-Key', () => {
  it('a retried refund answers the first result and records one refund', async () => {
    const { api, claims, path, refundsSent } = await stripePurchase();
    const send = () =>
      api.call('POST', `${path}/refunds`, { claims, body: { amount: 100 }, headers: { 'idempotency-key': 'k-1' } });

    const first = await send();
    const retry = await send();

    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    // Byte for byte, not only the same fields: a replay is the first answer itself.
    expect(JSON.stringify(retry.body)).toBe(JSON.stringify(first.body));
    const page = (await api.call('GET', path, { claims })).body;
    expect(page.refunds).toHaveLength(1);
    expect(page.refunds[0]).toMatchObject({ amount: 100, processorRefundId: expect.stringMatching(/^re_/) });
    const history = (await api.call('GET', `${path}/history`, { claims })).body.items;
    expect(history.filter((entry: { type: string }) => entry.type === 'refund.created')).toHaveLength(1);
    expect(refundsSent().filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
  });

  it('three concurrent requests with one key record one refund and all answer it', async () => {
    const { api, claims, path } = await stripePurchase();
    const send = () =>
      api.call('POST', `${path}/refunds`, { claims, body: { amount: 300 }, headers: { 'idempotency-key': 'k-c' } });

    const answers = await Promise.all([send(), send(), send()]);

    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    const page = (await api.call('GET', path, { claims })).body;
    expect(page.refunds).toHaveLength(1);
    for (const answer of answers) expect(answer.body.refunds).toEqual(page.refunds);
  });

  it('the same key with other parameters is a 422 decided before the processor is called', async () => {
    const { api, claims, path, refundsSent } = await stripePurchase();
    const headers = { 'idempotency-key': 'k-2' };
    await api.call('POST', `${path}/refunds`, { claims, body: { amount: 100 }, headers });
    const sentBefore = refundsSent().length;
    const before = (await api.call('GET', path, { claims })).body;

    const reused = await api.call('POST', `${path}/refunds`, { claims, body: { amount: 250 }, headers });

    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('unprocessable');
    expect(reused.body.error.details).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);
    expect(refundsSent()).toHaveLength(sentBefore);
    expect((await api.call('GET', path, { claims })).body).toEqual(before);
  });

  it('different keys are different refunds', async () => {
    const { api, claims, path } = await stripePurchase();
    for (const key of ['k-a', 'k-b']) {
      const answer = await api.call('POST', `${path}/refunds`, {
        claims,
        body: { amount: 100 },
        headers: { 'idempotency-key': key },
      });
      expect(answer.status).toBe(201);
    }
    expect((await api.call('GET', path, { claims })).body.refunds).toHaveLength(2);
  });

  it('a malformed Idempotency-Key is a 400 naming the header', async () => {
    const { api, claims, path, refundsSent } = await stripePurchase();
    const answer = await api.call('POST', `${path}/refunds`, {
      claims,
      body: { amount: 100 },
      headers: { 'idempotency-key': 'x'.repeat(256) },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details[0].field).toBe('Idempotency-Key');
    expect(refundsSent()).toHaveLength(0);
  });
});

describe('refund amounts are checked against the payment the refund applies to', () => {
  it('more than the last payment (not the offer price) is a 400 naming amount, before the processor', async () => {
    const { api, claims, path, refundsSent } = await stripePurchase(1500);

    const answer = await api.call('POST', `${path}/refunds`, { claims, body: { amount: 2000 } });

    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([{ field: 'amount', message: 'must be at most 1500 (minor units)' }]);
    expect(refundsSent()).toHaveLength(0);
  });

  it('a full refund gives back what the subscription really billed', async () => {
    const { api, claims, path } = await stripePurchase(1500);

    const answer = await api.call('POST', `${path}/refunds`, { claims, body: {} });

    expect(answer.status).toBe(201);
    expect(answer.body.refunds[0]).toMatchObject({ amount: 1500, currency: 'usd' });
  });

  it("the processor's amount_too_large is a 422 carrying its reason, not a 502", async () => {
    const { api, claims, path, subscriptionId } = await stripePurchase(2000);
    // Refunded in Stripe's dashboard, which membergate does not know about: Stripe has 1600 left, not 2000.
    const stripeOnly = processorRegistry({
      stripe: { secretKey: 'sk_test_integration', apiBase: stripe.url },
      native: null,
      stripeWebhookSecret: null,
      paypal: null,
      paypalWebhookId: null,
      paypalWebhookCert: null,
    }).stripe;
    const purchase = (await api.call('GET', path, { claims })).body;
    await stripeOnly.refund(
      { ...purchase, processorSubscriptionId: subscriptionId, processorAccount: HARNESS_ACCOUNTS.stripeAccountId },
      400,
      `dashboard-${subscriptionId}`,
    );
    const before = (await api.call('GET', path, { claims })).body;

    const answer = await api.call('POST', `${path}/refunds`, { claims, body: { amount: 2000 } });

    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('processor_rejected');
    expect(answer.body.error.message).toMatch(/amount_too_large/);
    expect(answer.body.error.details).toEqual([
      { field: 'amount', message: expect.stringMatching(/amount_too_large/) },
    ]);
    expect((await api.call('GET', path, { claims })).body).toEqual(before);
  });

  it('a processor that is down is still a 502', async () => {
    const { api, claims, path } = await stripePurchase();
    stripe.setFailure({ status: 500, message: 'Something went wrong on our end.' });
    let answer: Awaited<ReturnType<typeof api.call>>;
    try {
      answer = await api.call('POST', `${path}/refunds`, { claims, body: { amount: 100 } });
    } finally {
      stripe.setFailure(null);
    }
    expect(answer.status).toBe(502);
  });
});

describe('membergate as the ledger (processor none)', () => {
  it('each billing period is its own payment: a later period can be refunded after a full refund', async () => {
    const api = apiHarness({ clock: new TestClock(new Date(NOW)) });
    const { claims, purchaseId, siteId } = await seedSite(api);
    const path = `/sites/${siteId}/purchases/${purchaseId}`;

    expect((await api.call('POST', `${path}/refunds`, { claims, body: {} })).status).toBe(201);
    const again = await api.call('POST', `${path}/refunds`, { claims, body: {} });

    expect(again.status).toBe(409);
    const page = (await api.call('GET', path, { claims })).body;
    expect(page.refunds).toHaveLength(1);
    expect(page.refunds[0]).toMatchObject({ amount: 2900 });
  });
});
