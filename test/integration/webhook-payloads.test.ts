import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { createPayPalWebhookHandler } from '../../functions/webhook-paypal/app.ts';
import { createStripeWebhookHandler } from '../../functions/webhook-stripe/app.ts';
import { lambdaContext } from '../../infra/local/gateway.ts';
import { generatePayPalSigningMaterial, payPalWebhookHeaders } from '../../infra/local/paypal-sandbox.ts';
import { createPayPalTranslator } from '../../shared/adapters/paypal-webhook.ts';
import { createStripeTranslator } from '../../shared/adapters/stripe-webhook.ts';
import type { ApiEvent, ApiResult } from '../../shared/http/api.ts';
import { apiHarness, seedSite, TestClock } from '../support/harness.ts';

/**
 * Signed webhook deliveries whose values are unusable, through the real webhook handlers against DynamoDB
 * Local: a processor value out of shape is a 400 naming the field and writes nothing (not even the event id);
 * metadata that breaks the API's id rule is a 200 `ignored` with the reason and creates nothing.
 */

const NOW = new Date('2026-11-21T10:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const STRIPE_SECRET = 'whsec_webhook_payloads';
const PAYPAL_WEBHOOK_ID = 'WEBHOOK-PAYLOADS';
const payPalKey = generatePayPalSigningMaterial({
  notBefore: new Date('2026-01-01T00:00:00Z'),
  notAfter: new Date('2027-01-01T00:00:00Z'),
});

async function setup() {
  const api = apiHarness({ clock: new TestClock(NOW) });
  const { siteId } = await seedSite(api);
  const stripe = createStripeWebhookHandler(api.deps, createStripeTranslator({ webhookSecret: STRIPE_SECRET }));
  const paypal = createPayPalWebhookHandler(
    api.deps,
    createPayPalTranslator({ webhookId: PAYPAL_WEBHOOK_ID, certificatePem: payPalKey.certificatePem }),
  );
  const post = async (
    handler: typeof stripe,
    path: string,
    rawBody: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: { outcome?: string; reason?: string; error?: { details: unknown[] } } }> => {
    const event = {
      version: '2.0',
      routeKey: `POST ${path}`,
      rawPath: path,
      rawQueryString: '',
      headers: { 'content-type': 'application/json', ...headers },
      requestContext: { http: { method: 'POST', path }, routeKey: `POST ${path}` },
      body: rawBody,
      isBase64Encoded: false,
    } as unknown as ApiEvent;
    const result = (await handler(event, lambdaContext('webhook'))) as ApiResult;
    return { status: result.statusCode ?? 200, body: JSON.parse(result.body ?? '{}') };
  };
  const postStripe = (payload: Record<string, unknown>) => {
    const rawBody = JSON.stringify(payload);
    const signature = Stripe.webhooks.generateTestHeaderString({
      payload: rawBody,
      secret: STRIPE_SECRET,
      timestamp: NOW_S,
    });
    return post(stripe, '/webhooks/stripe', rawBody, { 'stripe-signature': signature });
  };
  const postPayPal = (payload: Record<string, unknown>) => {
    const rawBody = JSON.stringify(payload);
    const headers = payPalWebhookHeaders({
      privateKeyPem: payPalKey.privateKeyPem,
      webhookId: PAYPAL_WEBHOOK_ID,
      rawBody,
      transmissionTime: NOW.toISOString(),
    });
    return post(paypal, '/webhooks/paypal', rawBody, headers);
  };
  return { api, siteId, postStripe, postPayPal };
}

function stripeCreated(
  siteId: string,
  options: { eventId?: string; created?: number; customerId?: string; subscriptionId?: string } = {},
) {
  return {
    id: options.eventId ?? `evt_${randomUUID().replaceAll('-', '')}`,
    object: 'event',
    type: 'customer.subscription.created',
    created: options.created ?? NOW_S - 5,
    data: {
      object: {
        id: options.subscriptionId ?? `sub_${randomUUID().replaceAll('-', '')}`,
        object: 'subscription',
        status: 'active',
        cancel_at: null,
        cancel_at_period_end: false,
        metadata: { siteId, offerId: 'bundle', customerId: options.customerId ?? 'cus-1' },
        items: { data: [{ id: 'si_1', current_period_start: NOW_S, current_period_end: NOW_S + 30 * 86_400 }] },
      },
    },
  };
}

describe('signed webhook payloads with unusable values', () => {
  it('a Stripe event created in 1e17 seconds is a 400 naming created, and nothing is recorded', async () => {
    const { api, siteId, postStripe } = await setup();
    const payload = stripeCreated(siteId, { created: 1e17 });

    const reply = await postStripe(payload);

    expect(reply.status).toBe(400);
    expect(reply.body.error?.details).toEqual([{ field: 'created', message: 'must be before the year 10000' }]);
    expect(await api.deps.processorEvents.hasProcessorEvent('stripe', payload.id)).toBe(false);
    expect(await api.deps.purchases.findByProcessorSubscription('stripe', payload.data.object.id)).toBeNull();
  });

  it('a Stripe event id of 3 000 characters is a 400 naming id, not a DynamoDB error', async () => {
    const { siteId, postStripe } = await setup();

    const reply = await postStripe(stripeCreated(siteId, { eventId: `evt_${'x'.repeat(3000)}` }));

    expect(reply.status).toBe(400);
    expect(reply.body.error?.details).toEqual([{ field: 'id', message: expect.stringContaining('255') }]);
  });

  it('a Stripe subscription id of 3 000 characters is a 400 naming data.object.id', async () => {
    const { siteId, postStripe } = await setup();

    const reply = await postStripe(stripeCreated(siteId, { subscriptionId: `sub_${'x'.repeat(3000)}` }));

    expect(reply.status).toBe(400);
    expect(reply.body.error?.details).toEqual([{ field: 'data.object.id', message: expect.any(String) }]);
  });

  it('metadata.customerId "bad id#x" is ignored with the reason: no customer, no purchase; a redelivery is a duplicate', async () => {
    const { api, siteId, postStripe } = await setup();
    const payload = stripeCreated(siteId, { customerId: 'bad id#x' });

    const reply = await postStripe(payload);
    const again = await postStripe(payload);

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('data.object.metadata.customerId is not a membergate id'),
    });
    expect(again.body.outcome).toBe('duplicate');
    expect((await api.deps.purchases.getCustomerWithPurchases(siteId, 'bad id#x')).customer).toBeNull();
    expect(await api.deps.purchases.findByProcessorSubscription('stripe', payload.data.object.id)).toBeNull();
  });

  it('a PayPal next_billing_time past the year 9999 is a 400 naming it, and nothing is recorded', async () => {
    const { api, siteId, postPayPal } = await setup();
    const eventId = `WH-${randomUUID()}`;
    const subscriptionId = `I-${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}`;

    const reply = await postPayPal({
      id: eventId,
      event_type: 'BILLING.SUBSCRIPTION.ACTIVATED',
      create_time: NOW.toISOString(),
      resource: {
        id: subscriptionId,
        status: 'ACTIVE',
        custom_id: `${siteId}:bundle:cus-1`,
        billing_info: { next_billing_time: '+100000-01-01T00:00:00Z' },
      },
    });

    expect(reply.status).toBe(400);
    expect(reply.body.error?.details).toEqual([
      { field: 'resource.billing_info.next_billing_time', message: expect.any(String) },
    ]);
    expect(await api.deps.processorEvents.hasProcessorEvent('paypal', eventId)).toBe(false);
    expect(await api.deps.purchases.findByProcessorSubscription('paypal', subscriptionId)).toBeNull();
  });
});
