import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { createStripeWebhookHandler } from '../../functions/webhook-stripe/app.ts';
import { lambdaContext } from '../../infra/local/gateway.ts';
import { type PayPalSandbox, startPayPalSandbox } from '../../infra/local/paypal-sandbox.ts';
import { type StripeSandbox, startStripeSandbox } from '../../infra/local/stripe-sandbox.ts';
import { processorRegistry } from '../../shared/adapters/processors.ts';
import { createStripeTranslator } from '../../shared/adapters/stripe-webhook.ts';
import type { ApiEvent, ApiResult } from '../../shared/http/api.ts';
import { apiHarness, seedSite, TestClock } from '../support/harness.ts';

/**
 * Rule 17 against DynamoDB Local and the local Stripe and PayPal sandboxes: each site bills through its own
 * account (Stripe Connect's `Stripe-Account`, PayPal's `PayPal-Auth-Assertion`), and a webhook from one
 * account never touches another account's purchases.
 */

const NOW = new Date('2026-11-21T10:00:00.000Z');
const PERIOD_END = '2026-12-21T10:00:00.000Z';
const STRIPE_SECRET = 'whsec_processor_accounts';

// The first call of each processor loads its SDK; on a busy machine that alone can take seconds.

let stripe: StripeSandbox;
let paypal: PayPalSandbox;
beforeAll(async () => {
  [stripe, paypal] = await Promise.all([startStripeSandbox(), startPayPalSandbox()]);
});
afterAll(async () => {
  await Promise.all([stripe?.stop(), paypal?.stop()]);
});

const unique = () => randomUUID().replaceAll('-', '').slice(0, 14);

function harness() {
  const api = apiHarness({
    clock: new TestClock(NOW),
    processors: processorRegistry({
      stripe: { secretKey: 'sk_test_platform', apiBase: stripe.url },
      native: null,
      stripeWebhookSecret: STRIPE_SECRET,
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
  const webhook = createStripeWebhookHandler(api.deps, createStripeTranslator({ webhookSecret: STRIPE_SECRET }));
  const postStripe = async (payload: Record<string, unknown>) => {
    const rawBody = JSON.stringify(payload);
    const signature = Stripe.webhooks.generateTestHeaderString({
      payload: rawBody,
      secret: STRIPE_SECRET,
      timestamp: NOW.getTime() / 1000,
    });
    const path = '/webhooks/stripe';
    const event = {
      version: '2.0',
      routeKey: `POST ${path}`,
      rawPath: path,
      rawQueryString: '',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      requestContext: { http: { method: 'POST', path }, routeKey: `POST ${path}` },
      body: rawBody,
      isBase64Encoded: false,
    } as unknown as ApiEvent;
    const result = (await webhook(event, lambdaContext('webhook'))) as ApiResult;
    return { status: result.statusCode ?? 200, body: JSON.parse(result.body ?? '{}') };
  };
  return { api, postStripe };
}

/** A site connected to `account` with a Stripe purchase of its own subscription. */
async function stripeSite(api: ReturnType<typeof harness>['api'], account: string) {
  const site = await seedSite(api);
  await site.ok('PUT', `/sites/${site.siteId}/settings`, { stripeAccountId: account });
  const subscriptionId = `sub_${unique()}`;
  const purchase = await site.ok('POST', `/sites/${site.siteId}/purchases`, {
    customerId: 'cus-1',
    offerId: 'bundle',
    processor: 'stripe',
    processorSubscriptionId: subscriptionId,
    currentPeriodEnd: PERIOD_END,
  });
  return { ...site, subscriptionId, purchase, path: `/sites/${site.siteId}/purchases/${purchase.purchaseId}` };
}

function subscriptionEvent(
  type: string,
  subscriptionId: string,
  account: string | null,
  metadata: Record<string, string> = {},
  fields: Record<string, unknown> = {},
) {
  const periodEnd = Date.parse(PERIOD_END) / 1000;
  return {
    id: `evt_${unique()}`,
    object: 'event',
    type,
    created: NOW.getTime() / 1000 - 5,
    ...(account ? { account } : {}),
    data: {
      object: {
        id: subscriptionId,
        object: 'subscription',
        status: type === 'customer.subscription.deleted' ? 'canceled' : 'active',
        cancel_at: null,
        cancel_at_period_end: false,
        pause_collection: null,
        metadata,
        items: {
          data: [{ current_period_start: periodEnd - 30 * 86_400, current_period_end: periodEnd }],
        },
        ...fields,
      },
    },
  };
}

describe('each site bills through its own Stripe account (Stripe Connect)', () => {
  it('a cancel on site A calls Stripe on A’s account, on site B on B’s; the purchase names its account', async () => {
    const { api } = harness();
    const a = await stripeSite(api, `acct_A${unique()}`);
    const b = await stripeSite(api, `acct_B${unique()}`);
    expect(a.purchase.processorAccount).toMatch(/^acct_A/);

    for (const site of [a, b]) {
      const canceled = await api.call('POST', `${site.path}/cancellation`, {
        claims: site.claims,
        body: { when: 'period_end' },
      });
      expect(canceled.status).toBe(200);
    }

    const sent = (subscriptionId: string) => stripe.requests.filter((r) => r.path.includes(subscriptionId));
    expect(sent(a.subscriptionId)).toEqual([
      expect.objectContaining({
        method: 'POST',
        status: 200,
        form: expect.objectContaining({ cancel_at_period_end: 'true' }),
        headers: expect.objectContaining({ 'stripe-account': a.purchase.processorAccount }),
      }),
    ]);
    expect(sent(b.subscriptionId)[0]?.headers['stripe-account']).toBe(b.purchase.processorAccount);
  });

  it('a customer.subscription.deleted from account B naming site A’s subscription changes nothing on A', async () => {
    const { api, postStripe } = harness();
    const a = await stripeSite(api, `acct_A${unique()}`);
    const accountB = `acct_B${unique()}`;
    const before = (await api.call('GET', a.path, { claims: a.claims })).body;

    const foreign = await postStripe(
      subscriptionEvent('customer.subscription.deleted', a.subscriptionId, accountB, { siteId: a.siteId }),
    );

    expect(foreign.status).toBe(200);
    expect(foreign.body).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining(accountB) });
    expect((await api.call('GET', a.path, { claims: a.claims })).body).toEqual(before);

    // The platform's own account (no `account`) is not A's either.
    const platform = await postStripe(subscriptionEvent('customer.subscription.deleted', a.subscriptionId, null));
    expect(platform.body.outcome).toBe('ignored');

    // The same event from A's own account applies.
    const own = await postStripe(
      subscriptionEvent('customer.subscription.deleted', a.subscriptionId, a.purchase.processorAccount),
    );
    expect(own.body.outcome).toBe('applied');
    expect((await api.call('GET', a.path, { claims: a.claims })).body.status).toBe('canceled');
  });

  it('a Connect event creates a purchase only on the site connected to its account', async () => {
    const { api, postStripe } = harness();
    const site = await seedSite(api);
    const account = `acct_C${unique()}`;
    await site.ok('PUT', `/sites/${site.siteId}/settings`, { stripeAccountId: account });
    const metadata = { siteId: site.siteId, offerId: 'bundle', customerId: 'cus-1' };

    const stranger = await postStripe(
      subscriptionEvent('customer.subscription.created', `sub_${unique()}`, `acct_X${unique()}`, metadata),
    );
    expect(stranger.body).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining(account) });

    const own = await postStripe(
      subscriptionEvent('customer.subscription.created', `sub_${unique()}`, account, metadata),
    );
    expect(own.body.outcome).toBe('created');
    const created = await api.call('GET', `/sites/${site.siteId}/purchases/${own.body.purchaseId}`, {
      claims: site.claims,
    });
    expect(created.body).toMatchObject({ processor: 'stripe', processorAccount: account });
  });

  it('a site without a connected account cannot bill through Stripe or PayPal: 409 naming the setting', async () => {
    const { api } = harness();
    const site = await seedSite(api);
    for (const [processor, setting, subscriptionId] of [
      ['stripe', 'stripeAccountId', `sub_${unique()}`],
      ['paypal', 'paypalMerchantId', `I-${unique().toUpperCase()}`],
    ] as const) {
      const refused = await api.call('POST', `/sites/${site.siteId}/purchases`, {
        claims: site.claims,
        body: { customerId: 'cus-1', offerId: 'bundle', processor, processorSubscriptionId: subscriptionId },
      });
      expect(refused.status).toBe(409);
      expect(refused.body.error.details).toEqual([{ field: setting, message: 'not set in the site settings' }]);
      expect(refused.body.error.message).toContain(setting);
    }
  });

  it('settings take only well-formed account ids, naming the field', async () => {
    const { api } = harness();
    const site = await seedSite(api);
    for (const [field, value] of [
      ['stripeAccountId', 'sk_live_oops'],
      ['paypalMerchantId', 'not a merchant'],
    ] as const) {
      const refused = await api.call('PUT', `/sites/${site.siteId}/settings`, {
        claims: site.claims,
        body: { [field]: value },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details[0].field).toBe(field);
    }
  });
});

describe('each site bills through its own PayPal merchant', () => {
  it('calls act for the site’s merchant (PayPal-Auth-Assertion), and the sandbox keeps merchants apart', async () => {
    const { api } = harness();
    const site = await seedSite(api);
    const merchant = `M${unique().toUpperCase()}`.slice(0, 13);
    await site.ok('PUT', `/sites/${site.siteId}/settings`, { paypalMerchantId: merchant });
    const subscriptionId = `I-${unique().toUpperCase()}`;
    const purchase = await site.ok('POST', `/sites/${site.siteId}/purchases`, {
      customerId: 'cus-1',
      offerId: 'bundle',
      processor: 'paypal',
      processorSubscriptionId: subscriptionId,
      currentPeriodEnd: PERIOD_END,
    });
    expect(purchase.processorAccount).toBe(merchant);

    const paused = await api.call('POST', `/sites/${site.siteId}/purchases/${purchase.purchaseId}/pause`, {
      claims: site.claims,
      body: {},
    });
    expect(paused.status).toBe(200);

    const call = paypal.requests.find((r) => r.path.endsWith(`${subscriptionId}/suspend`));
    const assertion = call?.headers['paypal-auth-assertion'] ?? '';
    const claims = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'));
    expect(claims).toEqual({ iss: paypal.clientId, payer_id: merchant });
    expect(paypal.subscriptions.get(subscriptionId)).toMatchObject({ merchant, status: 'SUSPENDED' });

    // Acting for another merchant, the platform's app cannot reach that subscription: PayPal answers 404.
    const stored = await api.deps.purchases.getPurchase(site.siteId, purchase.purchaseId);
    if (!stored) throw new Error('purchase missing');
    await expect(
      api.deps.processors.paypal.cancelNow(
        { ...stored, processorAccount: 'OTHERMERCHANT1' },
        `other-${subscriptionId}`,
      ),
    ).rejects.toMatchObject({ processor: 'paypal', status: 404 });
    expect(paypal.subscriptions.get(subscriptionId)?.status).toBe('SUSPENDED');
  });
});
