import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTimerHandler } from '../../functions/timer/app.ts';
import { type PayPalSandbox, startPayPalSandbox } from '../../infra/local/paypal-sandbox.ts';
import { type StripeSandbox, startStripeSandbox } from '../../infra/local/stripe-sandbox.ts';
import { processorRegistry } from '../../shared/adapters/processors.ts';
import { apiHarness, customer, seedSite, TestClock } from '../support/harness.ts';

let stripe: StripeSandbox;
let paypal: PayPalSandbox;

beforeAll(async () => {
  [stripe, paypal] = await Promise.all([startStripeSandbox(), startPayPalSandbox()]);
});
afterAll(async () => {
  await Promise.all([stripe.stop(), paypal.stop()]);
});

const NOW = '2026-11-21T10:00:00.000Z';
const PERIOD_END = '2026-12-21T10:00:00.000Z';

async function setup(processor: 'stripe' | 'paypal') {
  const api = apiHarness({
    clock: new TestClock(new Date(NOW)),
    processors: processorRegistry({
      stripe: { secretKey: 'sk_test_integration', apiBase: stripe.url },
      native: null,
      stripeWebhookSecret: null,
      paypal: {
        clientId: paypal.clientId,
        clientSecret: paypal.clientSecret,
        apiBase: paypal.url,
        environment: 'sandbox',
      },
      paypalWebhookId: null,
      paypalWebhookCert: null,
    }),
  });
  const seeded = await seedSite(api, { accounts: true });
  const subscriptionId =
    processor === 'stripe'
      ? `sub_${randomUUID().replaceAll('-', '').slice(0, 14)}`
      : `I-${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}`;
  const purchase = await seeded.ok('POST', `/sites/${seeded.siteId}/purchases`, {
    customerId: 'cus-1',
    offerId: 'bundle',
    processor,
    processorSubscriptionId: subscriptionId,
    currentPeriodEnd: PERIOD_END,
  });
  const path = `/sites/${seeded.siteId}/purchases/${purchase.purchaseId}`;
  const requestsFor = () =>
    (processor === 'stripe' ? stripe.requests : paypal.requests).filter((r) => r.path.includes(subscriptionId));
  return { api, ...seeded, subscriptionId, purchaseId: purchase.purchaseId as string, path, requestsFor };
}

describe('in-app billing actions reach the processor', () => {
  it('cancel now of a Stripe purchase sends exactly one cancel request with an idempotency key', async () => {
    const { api, claims, path, subscriptionId, requestsFor } = await setup('stripe');

    const result = await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'now' } });

    expect(result.body.error).toBeUndefined();
    expect(result.status).toBe(200);
    expect(result.body.status).toBe('canceled');
    const sent = requestsFor();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'DELETE', path: `/v1/subscriptions/${subscriptionId}` });
    expect(sent[0]!.headers['idempotency-key']).toEqual(expect.stringContaining('cancel-now'));
  });

  it('period_end and date set cancel_at_period_end and cancel_at; stop clears both', async () => {
    const { api, claims, path, subscriptionId } = await setup('stripe');

    await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'period_end' } });
    await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'date', date: '2026-11-30T00:00:00Z' } });
    await api.call('DELETE', `${path}/cancellation`, { claims });

    const forms = stripe.requests.filter((r) => r.path.includes(subscriptionId)).map((r) => r.form);
    expect(forms[0]).toMatchObject({ cancel_at_period_end: 'true' });
    expect(forms[1]).toMatchObject({ cancel_at: String(Date.parse('2026-11-30T00:00:00Z') / 1000) });
    expect(forms[2]).toMatchObject({ cancel_at_period_end: 'false', cancel_at: '' });
  });

  it('a processor failure is a 502 naming the processor and leaves the purchase as it was', async () => {
    const { api, claims, path } = await setup('stripe');
    const before = (await api.call('GET', path, { claims })).body;
    stripe.setFailure({ status: 503, message: 'Stripe is temporarily unavailable.' });

    let result: Awaited<ReturnType<typeof api.call>>;
    try {
      result = await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'now' } });
    } finally {
      stripe.setFailure(null);
    }

    expect(result.status).toBe(502);
    expect(result.body.error.message).toMatch(/stripe/);
    expect((await api.call('GET', path, { claims })).body).toEqual(before);
    expect((await api.call('GET', `${path}/history`, { claims })).body.items).toHaveLength(1);
  });

  it('PayPal cannot schedule a cancel: nothing is sent until the timer fires, then one cancel', async () => {
    const { api, claims, path, purchaseId, subscriptionId, requestsFor } = await setup('paypal');

    await api.call('POST', `${path}/cancellation`, { claims, body: { when: 'date', date: '2026-11-25T00:00:00Z' } });
    const beforeTimer = requestsFor().length;
    api.clock.set('2026-11-25T00:00:00.200Z');
    await createTimerHandler(api.deps)(api.scheduler.forPurchase(purchaseId)[0]!);

    expect(beforeTimer).toBe(0);
    const cancels = requestsFor().filter((r) => r.path.endsWith('/cancel'));
    expect(cancels).toHaveLength(1);
    expect(cancels[0]!.path).toBe(`/v1/billing/subscriptions/${subscriptionId}/cancel`);
    expect((await api.call('GET', path, { claims })).body.status).toBe('canceled');
  });
});

describe('refunds', () => {
  it('a partial Stripe refund is recorded on the purchase; access is untouched unless asked', async () => {
    const { api, claims, path } = await setup('stripe');

    const result = await api.call('POST', `${path}/refunds`, { claims, body: { amount: 1000 } });

    expect(result.status).toBe(201);
    expect(result.body.refunds).toEqual([
      expect.objectContaining({ amount: 1000, currency: 'usd', processorRefundId: expect.stringMatching(/^re_/) }),
    ]);
    expect(result.body.accessStatus).toBeNull();
    expect(stripe.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/refunds',
      form: expect.objectContaining({ amount: '1000' }),
    });
  });

  it('revokeAccess also revokes every product, labelled by the actor', async () => {
    const { api, claims, siteId, ok } = await setup('stripe');
    const once = await ok('PUT', `/sites/${siteId}/offers/once`, {
      name: 'Once',
      productIds: ['course'],
      price: { type: 'one_time', amount: 4900, currency: 'usd' },
    });
    const purchase = await ok('POST', `/sites/${siteId}/purchases`, { customerId: 'cus-1', offerId: once.offerId });

    const result = await api.call('POST', `/sites/${siteId}/purchases/${purchase.purchaseId}/refunds`, {
      claims,
      body: { revokeAccess: true },
    });

    expect(result.body.refunds[0].amount).toBe(4900);
    expect(result.body.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked by owner@example.com' });
  });

  it('more than what is left is a 400 naming amount; a free purchase has nothing to refund (409)', async () => {
    const { api, claims, path, siteId, ok } = await setup('stripe');
    await ok('PUT', `/sites/${siteId}/offers/free`, { name: 'Free', productIds: ['course'], price: { type: 'free' } });
    const free = await ok('POST', `/sites/${siteId}/purchases`, { customerId: 'cus-1', offerId: 'free' });

    const tooMuch = await api.call('POST', `${path}/refunds`, { claims, body: { amount: 999_999 } });
    const nothing = await api.call('POST', `/sites/${siteId}/purchases/${free.purchaseId}/refunds`, {
      claims,
      body: {},
    });

    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error.details[0].field).toBe('amount');
    expect(nothing.status).toBe(409);
  });
});

describe('self-cancel and the customer side', () => {
  it('is refused (403) while the site has it off', async () => {
    const { api, siteId, purchaseId } = await setup('stripe');

    const result = await api.call('POST', `/me/subscriptions/${purchaseId}/cancel`, {
      claims: customer(siteId, 'cus-1'),
    });

    expect(result.status).toBe(403);
  });

  it('when on, cancels at the end of the period, recorded as the customer', async () => {
    const { api, claims, siteId, purchaseId } = await setup('stripe');
    await api.call('PUT', `/sites/${siteId}/settings`, { claims, body: { selfCancelEnabled: true } });

    const result = await api.call('POST', `/me/subscriptions/${purchaseId}/cancel`, {
      claims: customer(siteId, 'cus-1'),
    });

    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ status: 'pending_cancellation', accessEndsAt: PERIOD_END });
    expect(result.body.cancellation.requestedBy).toEqual({ type: 'customer', customerId: 'cus-1' });
  });

  it("another customer's purchase is not found", async () => {
    const { api, claims, siteId, purchaseId } = await setup('stripe');
    await api.call('PUT', `/sites/${siteId}/settings`, { claims, body: { selfCancelEnabled: true } });

    const result = await api.call('POST', `/me/subscriptions/${purchaseId}/cancel`, {
      claims: customer(siteId, 'cus-2'),
    });

    expect(result.status).toBe(404);
  });

  it('a PayPal subscriber gets a 409 with a redirect URL to PayPal', async () => {
    const { api, claims, siteId, purchaseId, subscriptionId } = await setup('paypal');
    await api.call('PUT', `/sites/${siteId}/settings`, { claims, body: { selfCancelEnabled: true } });

    const result = await api.call('POST', `/me/subscriptions/${purchaseId}/cancel`, {
      claims: customer(siteId, 'cus-1'),
    });

    expect(result.status).toBe(409);
    expect(result.body.error.redirectUrl).toContain(subscriptionId);
    expect(result.body.error.redirectUrl).toMatch(/^https:\/\/www\.sandbox\.paypal\.com\//);
  });

  it('the library lists accessible products with names; subscriptions say whether they can be canceled', async () => {
    const { api, claims, siteId } = await setup('stripe');
    await api.call('PUT', `/sites/${siteId}/settings`, { claims, body: { selfCancelEnabled: true } });
    const me = customer(siteId, 'cus-1');

    const library = await api.call('GET', '/me/library', { claims: me });
    const subscriptions = await api.call('GET', '/me/subscriptions', { claims: me });
    const staffToken = await api.call('GET', '/me/library', { claims });

    expect(library.body.products).toEqual([
      { productId: 'community', name: 'Community', until: null },
      { productId: 'course', name: 'Course', until: null },
    ]);
    expect(subscriptions.body.items).toHaveLength(2);
    expect(subscriptions.body.items.every((s: { canCancel: boolean }) => s.canCancel)).toBe(true);
    expect(staffToken.status).toBe(403);
  });
});
