import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { generatePayPalSigningMaterial, payPalWebhookHeaders } from '../../infra/local/paypal-sandbox.ts';
import { LOCAL_PAYPAL_WEBHOOK_ID, LOCAL_STRIPE_WEBHOOK_SECRET } from '../../infra/local/processors.ts';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.ts';
import { documentedFetch } from '../support/e2e-http.ts';

/**
 * Processor webhooks over real HTTP against the local runtime, signed the way the processors sign them:
 * Stripe with the official library, PayPal with a locally generated certificate (PAYPAL_WEBHOOK_CERT).
 */
let runtime: LocalRuntime;
const payPalKey = generatePayPalSigningMaterial();

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
    // A table of its own: the runtime's stream publisher starts at this table's first record, not at every earlier test's.
    tableName: `e2e-webhooks-${randomUUID().slice(0, 8)}`,
    env: { PAYPAL_WEBHOOK_CERT: payPalKey.certificatePem },
  });
});
afterAll(async () => {
  await runtime?.stop();
});

async function http(
  method: string,
  path: string,
  init: { token?: string; body?: string; headers?: Record<string, string> } = {},
  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected field by field
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await documentedFetch(`${runtime.url}${path}`, { method, headers, body: init.body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function site() {
  const siteId = `site-${randomUUID()}`;
  const token = (
    await http('POST', '/local/tokens', { body: JSON.stringify({ role: 'admin', siteId, email: 'owner@example.com' }) })
  ).body.token;
  const put = (path: string, body: unknown) =>
    http('PUT', `/sites/${siteId}${path}`, { token, body: JSON.stringify(body) });
  await put('/products/course', { name: 'Course' });
  await put('/offers/monthly', {
    name: 'Monthly',
    productIds: ['course'],
    price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
  });
  await put('/customers/cus-1', { email: 'ada@example.com' });
  return { siteId, token };
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

function stripeSubscriptionEvent(
  type: string,
  siteId: string,
  subscriptionId: string,
  fields: Record<string, unknown> = {},
) {
  const now = new Date();
  return {
    id: `evt_${randomUUID().replaceAll('-', '')}`,
    object: 'event',
    api_version: '2026-08-27.basil',
    created: seconds(now),
    type,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id: subscriptionId,
        object: 'subscription',
        status: 'active',
        cancel_at: null,
        cancel_at_period_end: false,
        canceled_at: null,
        ended_at: null,
        pause_collection: null,
        metadata: { siteId, offerId: 'monthly', customerId: 'cus-1' },
        items: {
          object: 'list',
          data: [
            {
              id: 'si_1',
              object: 'subscription_item',
              current_period_start: seconds(now),
              current_period_end: seconds(now) + 30 * 86_400,
              price: { id: 'price_1', recurring: { interval: 'month', interval_count: 1 } },
            },
          ],
        },
        ...fields,
      },
    },
  };
}

function signStripe(payload: string, options: { secret?: string; timestamp?: number } = {}) {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? LOCAL_STRIPE_WEBHOOK_SECRET,
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });
}

async function postStripe(
  event: unknown,
  sign: (payload: string) => string = signStripe,
  tamper?: (p: string) => string,
) {
  const payload = JSON.stringify(event);
  const header = sign(payload);
  return http('POST', '/webhooks/stripe', {
    body: tamper ? tamper(payload) : payload,
    headers: { 'stripe-signature': header },
  });
}

describe('Stripe webhooks', () => {
  it('a dashboard cancel_at a few seconds ahead ends access on time, like an in-app date cancel', async () => {
    const { siteId, token } = await site();
    const subscriptionId = `sub_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const created = await postStripe(stripeSubscriptionEvent('customer.subscription.created', siteId, subscriptionId));
    expect(created.status).toBe(200);
    expect(created.body.outcome).toBe('created');
    const purchaseId = created.body.purchaseId;

    // Far enough ahead that a busy machine still checks access before it; the timer is then awaited by polling.
    const cancelAt = seconds(new Date()) + 10;
    const updated = stripeSubscriptionEvent('customer.subscription.updated', siteId, subscriptionId, {
      cancel_at: cancelAt,
    });
    const deliveries = await Promise.all(Array.from({ length: 5 }, () => postStripe(updated)));
    const pending = await http('GET', `/sites/${siteId}/purchases/${purchaseId}`, { token });
    const accessBefore = await http('GET', `/sites/${siteId}/customers/cus-1/access/course`, { token });

    expect(deliveries.map((d) => d.status)).toEqual([200, 200, 200, 200, 200]);
    expect(deliveries.filter((d) => d.body.outcome === 'applied')).toHaveLength(1);
    expect(pending.body).toMatchObject({
      status: 'pending_cancellation',
      accessEndsAt: new Date(cancelAt * 1000).toISOString(),
    });
    expect(accessBefore.body.hasAccess).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, cancelAt * 1000 - Date.now()));
    let after = await http('GET', `/sites/${siteId}/purchases/${purchaseId}`, { token });
    for (const deadline = Date.now() + 30_000; after.body.status !== 'canceled' && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await http('GET', `/sites/${siteId}/purchases/${purchaseId}`, { token });
    }
    const accessAfter = await http('GET', `/sites/${siteId}/customers/cus-1/access/course`, { token });

    expect(after.body).toMatchObject({
      status: 'canceled',
      accessStatus: { status: 'Access revoked', label: 'Revoked' },
    });
    expect(accessAfter.body.hasAccess).toBe(false);
  });

  it.each([
    ['a forged signature', { sign: (p: string) => signStripe(p, { secret: 'whsec_not_ours' }) }],
    ['an expired timestamp', { sign: (p: string) => signStripe(p, { timestamp: seconds(new Date()) - 600 }) }],
    ['a body changed after signing', { tamper: (p: string) => p.replace('"active"', '"canceled"') }],
    ['no signature header', { sign: () => '' }],
  ])('%s is a 400 and writes nothing', async (_name, variant) => {
    const { siteId, token } = await site();
    const subscriptionId = `sub_${randomUUID().replaceAll('-', '').slice(0, 16)}`;

    const result = await postStripe(
      stripeSubscriptionEvent('customer.subscription.created', siteId, subscriptionId),
      'sign' in variant ? variant.sign : signStripe,
      'tamper' in variant ? variant.tamper : undefined,
    );
    const customerAfter = await http('GET', `/sites/${siteId}/customers/cus-1`, { token });

    expect(result.status).toBe(400);
    expect(customerAfter.body.purchases).toEqual([]);
  });

  it('an unknown event type is acknowledged with 200 and ignored', async () => {
    const event = {
      id: `evt_${randomUUID().replaceAll('-', '')}`,
      object: 'event',
      created: seconds(new Date()),
      type: 'customer.created',
      data: { object: { id: 'cus_x', object: 'customer' } },
    };

    const result = await postStripe(event);

    expect(result.status).toBe(200);
    expect(result.body.outcome).toBe('ignored');
  });
});

describe('PayPal webhooks', () => {
  async function postPayPal(body: Record<string, unknown>, key = payPalKey.privateKeyPem) {
    const rawBody = JSON.stringify(body);
    const headers = payPalWebhookHeaders({ privateKeyPem: key, webhookId: LOCAL_PAYPAL_WEBHOOK_ID, rawBody });
    return http('POST', '/webhooks/paypal', { body: rawBody, headers });
  }
  function subscriptionEvent(type: string, siteId: string, id: string, resource: Record<string, unknown>) {
    return {
      id: `WH-${randomUUID()}`,
      event_type: type,
      resource_type: 'subscription',
      create_time: new Date().toISOString(),
      resource: {
        id,
        custom_id: `${siteId}:monthly:cus-1`,
        plan_id: 'P-1',
        update_time: new Date().toISOString(),
        ...resource,
      },
    };
  }

  it('CANCELLED keeps access until the next billing time recorded at activation', async () => {
    const { siteId, token } = await site();
    const id = `I-${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}`;
    const nextBilling = new Date(Date.now() + 3_000).toISOString();
    const activated = await postPayPal(
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', siteId, id, {
        status: 'ACTIVE',
        billing_info: { next_billing_time: nextBilling },
      }),
    );
    expect(activated.body.outcome).toBe('created');

    await new Promise((resolve) => setTimeout(resolve, 50));
    const cancelled = await postPayPal(
      subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', siteId, id, { status: 'CANCELLED', billing_info: {} }),
    );
    const pending = await http('GET', `/sites/${siteId}/purchases/${activated.body.purchaseId}`, { token });

    expect(cancelled.status).toBe(200);
    expect(pending.body).toMatchObject({
      status: 'pending_cancellation',
      accessEndsAt: new Date(nextBilling).toISOString(),
    });

    await new Promise((resolve) => setTimeout(resolve, Date.parse(nextBilling) + 2_000 - Date.now()));
    const access = await http('GET', `/sites/${siteId}/customers/cus-1/access/course`, { token });
    const after = await http('GET', `/sites/${siteId}/purchases/${activated.body.purchaseId}`, { token });
    expect(access.body.hasAccess).toBe(false);
    expect(after.body.status).toBe('canceled');
  });

  it('a delivery signed by another key is a 400', async () => {
    const { siteId } = await site();
    const other = generatePayPalSigningMaterial();

    const result = await postPayPal(
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', siteId, 'I-FORGED', { status: 'ACTIVE' }),
      other.privateKeyPem,
    );

    expect(result.status).toBe(400);
  });
});
