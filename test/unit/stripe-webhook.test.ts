import { describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { createStripeTranslator } from '../../shared/adapters/stripe-webhook.ts';
import { InvalidInputError } from '../../shared/domain/errors.ts';
import { toErrorResponse } from '../../shared/http/errors.ts';
import { WebhookSignatureError } from '../../shared/ports/webhooks.ts';

// Events are built from the shapes in ../shared/fixtures/stripe/*.json (Stripe's OpenAPI fixtures), copying
// only the fields that matter, with our own ids, timestamps and metadata. Signatures come from the real
// library, so these tests exercise the exact verification Stripe deliveries go through.

const SECRET = 'whsec_unit_test_secret';
/** The fixed clock: translate() measures a signature's age against it, never against the system time. */
const NOW = new Date('2026-11-21T10:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const PERIOD_START_S = Date.parse('2026-11-01T00:00:00.000Z') / 1000;
const PERIOD_END_S = Date.parse('2026-12-01T00:00:00.000Z') / 1000;
const METADATA = { siteId: 'site-1', offerId: 'offer-1', customerId: 'customer-1' };

type Json = Record<string, unknown>;

function subscriptionItem(overrides: Json = {}): Json {
  return {
    id: 'si_QXhVnC2h0Jczwc',
    object: 'subscription_item',
    created: PERIOD_START_S,
    current_period_start: PERIOD_START_S,
    current_period_end: PERIOD_END_S,
    metadata: {},
    price: {
      id: 'price_1PgafmB7WZ01zgkW6dKueIc5',
      object: 'price',
      currency: 'usd',
      product: 'prod_QXg1hqf4jFNsqG',
      recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed' },
      type: 'recurring',
      unit_amount: 2000,
    },
    quantity: 1,
    subscription: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
    ...overrides,
  };
}

/** A subscription as the API returns it today: no current_period_* on the subscription, only on items. */
function subscription(overrides: Json = {}): Json {
  return {
    id: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
    object: 'subscription',
    billing_mode: { type: 'classic' },
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    collection_method: 'charge_automatically',
    created: PERIOD_START_S,
    currency: 'usd',
    customer: 'cus_QXg1o8vcGmoR32',
    ended_at: null,
    items: { object: 'list', data: [subscriptionItem()], has_more: false, url: '/v1/subscription_items' },
    latest_invoice: null,
    livemode: false,
    metadata: METADATA,
    pause_collection: null,
    start_date: PERIOD_START_S,
    status: 'active',
    ...overrides,
  };
}

function invoice(overrides: Json = {}): Json {
  return {
    id: 'in_1Pgc6tB7WZ01zgkWu9fdqL6I',
    object: 'invoice',
    amount_due: 2000,
    amount_paid: 2000,
    amount_remaining: 0,
    billing_reason: 'subscription_cycle',
    currency: 'usd',
    customer: 'cus_QXg1o8vcGmoR32',
    lines: {
      object: 'list',
      data: [
        // A one-off invoice item on the same invoice: its period must not be taken for the subscription's.
        {
          id: 'il_item',
          object: 'line_item',
          amount: 500,
          currency: 'usd',
          period: { start: NOW_S, end: NOW_S },
          parent: {
            type: 'invoice_item_details',
            invoice_item_details: { invoice_item: 'ii_1', proration: false, subscription: null },
            subscription_item_details: null,
          },
        },
        {
          id: 'il_1Pgc6sB7WZ01zgkWFnxLrLCq',
          object: 'line_item',
          amount: 2000,
          currency: 'usd',
          period: { start: PERIOD_START_S, end: PERIOD_END_S },
          parent: {
            type: 'subscription_item_details',
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: null,
              proration: false,
              subscription: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
              subscription_item: 'si_QXhVnC2h0Jczwc',
            },
          },
        },
      ],
      has_more: false,
      url: '/v1/invoices/in_1Pgc6tB7WZ01zgkWu9fdqL6I/lines',
    },
    metadata: {},
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: METADATA, subscription: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw' },
    },
    period_end: PERIOD_START_S,
    period_start: PERIOD_START_S,
    status: 'paid',
    ...overrides,
  };
}

function event(type: string, object: Json, overrides: Json = {}): Json {
  return {
    id: 'evt_1Pgc76B7WZ01zgkWwyRHS12y',
    object: 'event',
    api_version: '2026-10-28.endive',
    created: NOW_S - 5,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    ...overrides,
  };
}

/** A delivery as Stripe makes it: the raw JSON body and its Stripe-Signature header. */
function signed(payload: Json, options: { secret?: string; timestamp?: number } = {}) {
  const body = JSON.stringify(payload);
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret: options.secret ?? SECRET,
    timestamp: options.timestamp ?? NOW_S,
  });
  return { body, headers: { 'stripe-signature': signature } };
}

const translator = createStripeTranslator({ webhookSecret: SECRET });

async function translate(payload: Json) {
  const { body, headers } = signed(payload);
  return translator.translate(body, headers, NOW);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the delivery to be rejected');
}

describe('stripe webhook: subscription events', () => {
  it('customer.subscription.updated with cancel_at → cancelAt at that instant, period from the items', async () => {
    const cancelAt = Date.parse('2026-11-25T12:00:00.000Z') / 1000;

    const result = await translate(event('customer.subscription.updated', subscription({ cancel_at: cancelAt })));

    expect(result).toEqual({
      processor: 'stripe',
      eventId: 'evt_1Pgc76B7WZ01zgkWwyRHS12y',
      type: 'customer.subscription.updated',
      occurredAt: '2026-11-21T09:59:55.000Z',
      account: null,
      subscriptionId: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
      siteId: 'site-1',
      link: { offerId: 'offer-1', customerId: 'customer-1' },
      subscription: {
        status: 'active',
        currentPeriodStart: '2026-11-01T00:00:00.000Z',
        currentPeriodEnd: '2026-12-01T00:00:00.000Z',
        cancelAt: '2026-11-25T12:00:00.000Z',
        cancelAtPeriodEnd: false,
        accessEnds: 'now',
        resumesAt: null,
      },
      payment: null,
    });
  });

  it('cancel_at_period_end without cancel_at → cancelAt is the period end taken from the items', async () => {
    const result = await translate(
      event('customer.subscription.updated', subscription({ cancel_at_period_end: true })),
    );

    expect(result).toMatchObject({
      subscription: { cancelAt: '2026-12-01T00:00:00.000Z', cancelAtPeriodEnd: true, status: 'active' },
    });
  });

  it('mixed intervals: the period spans the items; cancel_at_period_end stops at the earliest item end', async () => {
    const yearEnd = Date.parse('2027-11-01T00:00:00.000Z') / 1000;
    const items = {
      object: 'list',
      data: [subscriptionItem(), subscriptionItem({ id: 'si_year', current_period_end: yearEnd })],
    };

    const result = await translate(
      event('customer.subscription.updated', subscription({ items, cancel_at_period_end: true })),
    );

    expect(result).toMatchObject({
      subscription: {
        currentPeriodStart: '2026-11-01T00:00:00.000Z',
        currentPeriodEnd: '2027-11-01T00:00:00.000Z',
        cancelAt: '2026-12-01T00:00:00.000Z',
      },
    });
  });

  it('a cleared cancellation ("Don\'t cancel" in the dashboard) → cancelAt null', async () => {
    const result = await translate(
      event('customer.subscription.updated', subscription({ cancel_at: null, cancel_at_period_end: false })),
    );

    expect(result).toMatchObject({ subscription: { status: 'active', cancelAt: null, cancelAtPeriodEnd: false } });
  });

  it('customer.subscription.deleted → canceled, access ends now', async () => {
    const result = await translate(
      event('customer.subscription.deleted', subscription({ status: 'canceled', canceled_at: NOW_S, ended_at: NOW_S })),
    );

    expect(result).toMatchObject({
      type: 'customer.subscription.deleted',
      subscription: { status: 'canceled', accessEnds: 'now' },
    });
  });

  it.each([
    ['past_due', 'past_due'],
    ['unpaid', 'past_due'],
    ['trialing', 'active'],
    ['paused', 'paused'],
    ['incomplete_expired', 'canceled'],
  ])('Stripe status %s → %s', async (stripeStatus, status) => {
    const result = await translate(event('customer.subscription.updated', subscription({ status: stripeStatus })));

    expect(result).toMatchObject({ subscription: { status } });
  });

  it('pause_collection on an active subscription → paused, with the resume date', async () => {
    const resumesAt = Date.parse('2027-01-01T00:00:00.000Z') / 1000;

    const result = await translate(
      event(
        'customer.subscription.updated',
        subscription({ pause_collection: { behavior: 'void', resumes_at: resumesAt } }),
      ),
    );

    expect(result).toMatchObject({ subscription: { status: 'paused', resumesAt: '2027-01-01T00:00:00.000Z' } });
  });

  it('an incomplete subscription (first payment not confirmed) is ignored', async () => {
    const result = await translate(event('customer.subscription.created', subscription({ status: 'incomplete' })));

    expect(result).toMatchObject({ ignored: true, type: 'customer.subscription.created' });
  });

  it('no link without both offerId and customerId; siteId null without metadata', async () => {
    const result = await translate(
      event('customer.subscription.updated', subscription({ metadata: { offerId: 'o' } })),
    );

    expect(result).toMatchObject({ siteId: null, link: null });
  });

  it('the native processor option is carried into every event', async () => {
    const native = createStripeTranslator({ webhookSecret: SECRET, processor: 'native' });
    const { body, headers } = signed(event('customer.subscription.updated', subscription()));

    const result = await native.translate(body, headers, NOW);

    expect(native.processor).toBe('stripe');
    expect(result).toMatchObject({ processor: 'native' });
  });
});

describe('stripe webhook: payments', () => {
  it('invoice.paid → succeeded payment for the subscription line period, subscription from parent', async () => {
    const result = await translate(event('invoice.paid', invoice()));

    expect(result).toEqual({
      processor: 'stripe',
      eventId: 'evt_1Pgc76B7WZ01zgkWwyRHS12y',
      type: 'invoice.paid',
      occurredAt: '2026-11-21T09:59:55.000Z',
      account: null,
      subscriptionId: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
      siteId: 'site-1',
      link: { offerId: 'offer-1', customerId: 'customer-1' },
      subscription: null,
      payment: {
        outcome: 'succeeded',
        paymentId: 'in_1Pgc6tB7WZ01zgkWu9fdqL6I',
        amount: 2000,
        currency: 'usd',
        periodStart: '2026-11-01T00:00:00.000Z',
        periodEnd: '2026-12-01T00:00:00.000Z',
        refundId: null,
      },
    });
  });

  it('invoice.payment_failed → failed payment of the amount due', async () => {
    const result = await translate(
      event('invoice.payment_failed', invoice({ amount_paid: 0, amount_due: 2000, status: 'open' })),
    );

    expect(result).toMatchObject({ payment: { outcome: 'failed', amount: 2000 } });
  });

  it('an expanded subscription in parent.subscription_details is read by its id', async () => {
    const parent = {
      type: 'subscription_details',
      subscription_details: { metadata: null, subscription: subscription() },
    };

    const result = await translate(event('invoice.payment_succeeded', invoice({ parent, metadata: { siteId: 's2' } })));

    expect(result).toMatchObject({ subscriptionId: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw', siteId: 's2', link: null });
  });

  it('an invoice of an older API version (invoice.subscription) still finds its subscription', async () => {
    const result = await translate(event('invoice.paid', invoice({ parent: null, subscription: 'sub_legacy' })));

    expect(result).toMatchObject({ subscriptionId: 'sub_legacy', siteId: null });
  });

  it('a one-off invoice (no subscription) is ignored', async () => {
    const result = await translate(event('invoice.paid', invoice({ parent: null })));

    expect(result).toMatchObject({ ignored: true, reason: expect.stringContaining('one-off') });
  });

  it('charge.refunded with metadata.subscriptionId → refunded payment with the latest refund id', async () => {
    const charge = {
      id: 'ch_1PgafuB7WZ01zgkWXYmPNZs8',
      object: 'charge',
      amount: 2000,
      amount_refunded: 700,
      currency: 'usd',
      metadata: { subscriptionId: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw', siteId: 'site-1' },
      refunded: false,
      refunds: {
        object: 'list',
        data: [
          { id: 're_latest', amount: 200 },
          { id: 're_first', amount: 500 },
        ],
      },
    };

    const result = await translate(event('charge.refunded', charge));

    expect(result).toMatchObject({
      subscriptionId: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
      siteId: 'site-1',
      payment: { outcome: 'refunded', paymentId: 'ch_1PgafuB7WZ01zgkWXYmPNZs8', amount: 700, refundId: 're_latest' },
    });
  });

  it('charge.refunded without a subscription link is ignored', async () => {
    const charge = { id: 'ch_1', object: 'charge', amount_refunded: 100, currency: 'usd', metadata: {} };

    const result = await translate(event('charge.refunded', charge));

    expect(result).toMatchObject({ ignored: true, reason: 'charge not linked to a subscription' });
  });
});

describe('stripe webhook: checkout', () => {
  const session = (overrides: Json = {}): Json => ({
    id: 'cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY',
    object: 'checkout.session',
    customer: 'cus_QXg1o8vcGmoR32',
    metadata: METADATA,
    mode: 'subscription',
    payment_status: 'paid',
    status: 'complete',
    subscription: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
    ...overrides,
  });

  it('checkout.session.completed for a subscription → the link, no state unless expanded', async () => {
    const result = await translate(event('checkout.session.completed', session()));

    expect(result).toMatchObject({
      subscriptionId: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
      siteId: 'site-1',
      link: { offerId: 'offer-1', customerId: 'customer-1' },
      subscription: null,
      payment: null,
    });
  });

  it('an expanded subscription brings its state', async () => {
    const result = await translate(event('checkout.session.completed', session({ subscription: subscription() })));

    expect(result).toMatchObject({ subscription: { status: 'active', currentPeriodEnd: '2026-12-01T00:00:00.000Z' } });
  });

  it('a payment-mode session is ignored', async () => {
    const result = await translate(
      event('checkout.session.completed', session({ mode: 'payment', subscription: null })),
    );

    expect(result).toMatchObject({ ignored: true });
  });
});

describe('stripe webhook: verification', () => {
  const payload = event('customer.subscription.updated', subscription());

  it('a signature made with another secret is rejected', async () => {
    const { body, headers } = signed(payload, { secret: 'whsec_forged' });

    const error = await rejection(translator.translate(body, headers, NOW));

    expect(error).toBeInstanceOf(WebhookSignatureError);
    expect((error as WebhookSignatureError).details).toEqual([
      { field: 'signature', message: 'signature does not match the body' },
    ]);
  });

  it('a signature 10 minutes old is stale (tolerance 5 minutes, measured against the injected clock)', async () => {
    const { body, headers } = signed(payload, { timestamp: NOW_S - 600 });

    const error = await rejection(translator.translate(body, headers, NOW));

    expect(error).toBeInstanceOf(WebhookSignatureError);
    expect((error as Error).message).toMatch(/tolerance/);
  });

  it('a longer tolerance accepts the same delivery', async () => {
    const lenient = createStripeTranslator({ webhookSecret: SECRET, toleranceSeconds: 900 });
    const { body, headers } = signed(payload, { timestamp: NOW_S - 600 });

    await expect(lenient.translate(body, headers, NOW)).resolves.toMatchObject({ eventId: payload.id });
  });

  it('a body changed after signing is rejected', async () => {
    const { body, headers } = signed(payload);
    const altered = body.replace('"site-1"', '"site-2"');

    const error = await rejection(translator.translate(altered, headers, NOW));

    expect(altered).not.toBe(body);
    expect(error).toBeInstanceOf(WebhookSignatureError);
  });

  it('a delivery without the Stripe-Signature header is rejected', async () => {
    const { body } = signed(payload);

    const error = await rejection(translator.translate(body, {}, NOW));

    expect(error).toBeInstanceOf(WebhookSignatureError);
    expect((error as Error).message).toMatch(/missing Stripe-Signature header/);
  });

  it('a signed body that is not an event is invalid input, not a signature problem', async () => {
    const { body, headers } = signed({ hello: 'world' });

    const error = await rejection(translator.translate(body, headers, NOW));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).not.toBeInstanceOf(WebhookSignatureError);
  });

  it('signed with the real clock and verified against it (the production path)', async () => {
    const body = JSON.stringify(payload);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });

    const result = await translator.translate(body, { 'stripe-signature': signature }, new Date());

    expect(result).toMatchObject({ subscriptionId: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw' });
  });
});

describe('stripe webhook: other events', () => {
  it('an unknown event type → IgnoredEvent', async () => {
    const plan = { id: 'price_1PgafmB7WZ01zgkW6dKueIc5', object: 'plan', amount: 2000, currency: 'usd' };

    const result = await translate(event('plan.created', plan, { id: 'evt_plan' }));

    expect(result).toEqual({
      ignored: true,
      processor: 'stripe',
      eventId: 'evt_plan',
      type: 'plan.created',
      reason: 'unhandled event type',
    });
  });
});

/** The HTTP answer a rejected delivery gets (the webhook route maps errors like every route), with the fields named. */
async function refusal(payload: Json): Promise<{ status: number; fields: string[] }> {
  const error = await rejection(translate(payload));
  const { statusCode, body } = toErrorResponse(error);
  return { status: statusCode, fields: body.error.details.map((problem) => problem.field) };
}

const LONG_ID = `sub_${'x'.repeat(3000)}`;

describe('stripe webhook: processor values out of range are a 400 naming the field', () => {
  const item = (overrides: Json) => ({ object: 'list', data: [subscriptionItem(overrides)] });

  it.each([
    ['created 1e17', event('customer.subscription.created', subscription(), { created: 1e17 }), 'created'],
    [
      'an item current_period_end of 1e14',
      event('customer.subscription.created', subscription({ items: item({ current_period_end: 1e14 }) })),
      'data.object.items.data[0].current_period_end',
    ],
    [
      'an item current_period_start of -1',
      event('customer.subscription.created', subscription({ items: item({ current_period_start: -1 }) })),
      'data.object.items.data[0].current_period_start',
    ],
    [
      'cancel_at 1e15',
      event('customer.subscription.updated', subscription({ cancel_at: 1e15 })),
      'data.object.cancel_at',
    ],
    [
      'a legacy subscription current_period_end of 1e16',
      event('customer.subscription.updated', subscription({ items: null, current_period_end: 1e16 })),
      'data.object.current_period_end',
    ],
    [
      'pause_collection.resumes_at 1e15',
      event('customer.subscription.updated', subscription({ pause_collection: { resumes_at: 1e15 } })),
      'data.object.pause_collection.resumes_at',
    ],
    [
      'an invoice line period end of 1e15',
      event('invoice.paid', invoice({ lines: { data: [{ type: 'subscription', period: { start: 0, end: 1e15 } }] } })),
      'data.object.lines.data[0].period.end',
    ],
    ['a fractional created', event('plan.created', { id: 'plan_1' }, { created: NOW_S + 0.5 }), 'created'],
  ])('%s', async (_case, payload, field) => {
    expect(await refusal(payload)).toEqual({ status: 400, fields: [field] });
  });

  it('the message names the field and the rule', async () => {
    const error = await rejection(translate(event('customer.subscription.updated', subscription({ cancel_at: 1e15 }))));

    expect((error as Error).message).toContain('data.object.cancel_at must be before the year 10000');
  });

  it('the last second of year 9999 is still a time', async () => {
    const result = await translate(
      event('customer.subscription.updated', subscription({ cancel_at: 253_402_300_799 })),
    );

    expect(result).toMatchObject({ subscription: { cancelAt: '9999-12-31T23:59:59.000Z' } });
  });

  it.each([
    ['an amount_paid over 2^53', invoice({ amount_paid: 1e300 }), 'data.object.amount_paid'],
    ['a negative amount_paid', invoice({ amount_paid: -5 }), 'data.object.amount_paid'],
    ['a currency that is not an ISO code', invoice({ currency: 'dollars' }), 'data.object.currency'],
  ])('%s', async (_case, object, field) => {
    expect(await refusal(event('invoice.paid', object))).toEqual({ status: 400, fields: [field] });
  });
});

describe('stripe webhook: processor ids over the key-size bound are a 400 naming the field', () => {
  const charge = (overrides: Json = {}): Json => ({
    id: 'ch_1',
    object: 'charge',
    amount_refunded: 100,
    currency: 'usd',
    metadata: { subscriptionId: 'sub_1', siteId: 'site-1' },
    ...overrides,
  });

  it.each([
    ['a 3 000-character event id', event('customer.subscription.created', subscription(), { id: LONG_ID }), 'id'],
    ['an event id with a control character', event('plan.created', { id: 'p' }, { id: 'evt_1\u0000' }), 'id'],
    ['an empty event id', event('plan.created', { id: 'p' }, { id: '' }), 'id'],
    ['a 3 000-character event type', event(`x.${'y'.repeat(3000)}`, { id: 'p' }), 'type'],
    [
      'a 3 000-character subscription id',
      event('customer.subscription.created', subscription({ id: LONG_ID })),
      'data.object.id',
    ],
    ['a 3 000-character invoice id', event('invoice.paid', invoice({ id: LONG_ID })), 'data.object.id'],
    [
      'a 3 000-character subscription on an invoice',
      event(
        'invoice.paid',
        invoice({ parent: { subscription_details: { metadata: METADATA, subscription: LONG_ID } } }),
      ),
      'data.object.parent.subscription_details.subscription',
    ],
    [
      'a 3 000-character expanded subscription id on a checkout session',
      event('checkout.session.completed', {
        mode: 'subscription',
        metadata: METADATA,
        subscription: subscription({ id: LONG_ID }),
      }),
      'data.object.subscription.id',
    ],
    ['a 3 000-character charge id', event('charge.refunded', charge({ id: LONG_ID })), 'data.object.id'],
    [
      'a 3 000-character refund id',
      event('charge.refunded', charge({ refunds: { data: [{ id: LONG_ID }] } })),
      'data.object.refunds.data[0].id',
    ],
  ])('%s', async (_case, payload, field) => {
    expect(await refusal(payload)).toEqual({ status: 400, fields: [field] });
  });

  it('a 255-character subscription id is accepted (the bound is inclusive)', async () => {
    const id = `sub_${'x'.repeat(251)}`;

    const result = await translate(event('customer.subscription.created', subscription({ id })));

    expect(result).toMatchObject({ subscriptionId: id });
  });
});

describe('stripe webhook: metadata ids follow the API id rule, or the event is ignored with the reason', () => {
  it.each([
    ['customerId "bad id#x"', { ...METADATA, customerId: 'bad id#x' }, 'data.object.metadata.customerId'],
    ['a 3 000-character customerId', { ...METADATA, customerId: 'c'.repeat(3000) }, 'data.object.metadata.customerId'],
    ['siteId with a key separator', { ...METADATA, siteId: 'site#1' }, 'data.object.metadata.siteId'],
    ['offerId that is not a string', { ...METADATA, offerId: 42 }, 'data.object.metadata.offerId'],
  ])('a created subscription with %s is ignored, naming the field', async (_case, metadata, field) => {
    const result = await translate(event('customer.subscription.created', subscription({ metadata })));

    expect(result).toEqual({
      ignored: true,
      processor: 'stripe',
      eventId: 'evt_1Pgc76B7WZ01zgkWwyRHS12y',
      type: 'customer.subscription.created',
      reason: `${field} is not a membergate id: it must be 1–128 letters, digits, or . _ : -`,
    });
  });

  it('an invoice whose frozen subscription metadata breaks the rule is ignored', async () => {
    const parent = {
      subscription_details: { metadata: { ...METADATA, customerId: 'bad id#x' }, subscription: 'sub_1' },
    };

    const result = await translate(event('invoice.paid', invoice({ parent })));

    expect(result).toMatchObject({
      ignored: true,
      reason: expect.stringContaining('data.object.parent.subscription_details.metadata.customerId'),
    });
  });

  it('a checkout session whose metadata breaks the rule is ignored', async () => {
    const session = { mode: 'subscription', subscription: 'sub_1', metadata: { ...METADATA, offerId: 'o f' } };

    const result = await translate(event('checkout.session.completed', session));

    expect(result).toMatchObject({ ignored: true, reason: expect.stringContaining('data.object.metadata.offerId') });
  });

  it('a refunded charge whose metadata.subscriptionId is over-long is ignored', async () => {
    const charge = { id: 'ch_1', amount_refunded: 100, currency: 'usd', metadata: { subscriptionId: LONG_ID } };

    const result = await translate(event('charge.refunded', charge));

    expect(result).toMatchObject({
      ignored: true,
      reason: expect.stringContaining('data.object.metadata.subscriptionId is not a processor id'),
    });
  });

  it('an empty metadata value is no value (Stripe deletes a key by setting it to "")', async () => {
    const result = await translate(
      event('customer.subscription.updated', subscription({ metadata: { ...METADATA, customerId: '' } })),
    );

    expect(result).toMatchObject({ siteId: 'site-1', link: null });
  });
});
