import { describe, expect, it } from '@jest/globals';
import { generatePayPalSigningMaterial, payPalWebhookHeaders } from '../../infra/local/paypal-sandbox.ts';
import { createPayPalTranslator } from '../../shared/adapters/paypal-webhook.ts';
import type { IgnoredEvent, ProcessorEvent } from '../../shared/domain/processor-events.ts';
import { toErrorResponse } from '../../shared/http/errors.ts';
import { WebhookSignatureError } from '../../shared/ports/webhooks.ts';

const NOW = new Date('2026-12-01T09:00:00.000Z');
const SENT = '2026-12-01T08:59:58Z';
const WEBHOOK_ID = '8PT597110X687430LKGECATA';
const CERT_URL = 'https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77';
const validity = { notBefore: new Date('2026-11-01T00:00:00Z'), notAfter: new Date('2027-11-01T00:00:00Z') };
const material = generatePayPalSigningMaterial(validity);
const stranger = generatePayPalSigningMaterial(validity);

function subscriptionEvent(
  type: string,
  resource: Record<string, unknown>,
  id = 'WH-4M0448861G563140B-9EX36365822141321',
) {
  return JSON.stringify({
    id,
    event_version: '1.0',
    create_time: '2026-12-01T08:59:50.000Z',
    resource_type: 'subscription',
    resource_version: '2.0',
    event_type: type,
    summary: 'A billing subscription event',
    resource: {
      id: 'I-BW452GLLEP1G',
      plan_id: 'P-5ML4271244454362WXNWU5NQ',
      status: 'ACTIVE',
      custom_id: 'site-1:offer-1:customer-1',
      start_time: '2026-11-01T00:00:00Z',
      create_time: '2026-11-01T00:00:00Z',
      update_time: '2026-12-01T08:59:40Z',
      ...resource,
    },
  });
}

function saleEvent(type: string, resource: Record<string, unknown>) {
  return JSON.stringify({
    id: 'WH-2WR32451HC0233532-67976317FL4543714',
    event_version: '1.0',
    create_time: '2026-12-01T08:59:50.000Z',
    resource_type: 'sale',
    event_type: type,
    resource: {
      id: '80021663DE681814L',
      state: 'completed',
      amount: { total: '29.00', currency: 'USD', details: { subtotal: '29.00' } },
      billing_agreement_id: 'I-BW452GLLEP1G',
      custom: 'site-1:offer-1:customer-1',
      create_time: '2026-12-01T08:59:30Z',
      update_time: '2026-12-01T08:59:35Z',
      ...resource,
    },
  });
}

function signed(rawBody: string, overrides: Record<string, string> = {}, key = material.privateKeyPem) {
  return {
    ...payPalWebhookHeaders({
      privateKeyPem: key,
      webhookId: WEBHOOK_ID,
      rawBody,
      transmissionId: '69cd13f0-d67a-11e5-baa3-778b53f4ae55',
      transmissionTime: SENT,
      certUrl: CERT_URL,
    }),
    ...overrides,
  };
}

const translator = createPayPalTranslator({ webhookId: WEBHOOK_ID, certificatePem: material.certificatePem });

async function translated(rawBody: string): Promise<ProcessorEvent> {
  const result = await translator.translate(rawBody, signed(rawBody), NOW);
  if ('ignored' in result) throw new Error(`unexpectedly ignored: ${result.reason}`);
  return result;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (error === null) throw new Error('expected the delivery to be rejected');
  return error;
}

/** The HTTP answer a signed delivery gets when it is refused (the webhook route maps errors like every route). */
async function refusal(rawBody: string): Promise<{ status: number; fields: string[] }> {
  const { statusCode, body } = toErrorResponse(await rejection(translator.translate(rawBody, signed(rawBody), NOW)));
  return { status: statusCode, fields: body.error.details.map((problem) => problem.field) };
}

describe('PayPal webhook translation', () => {
  it('ACTIVATED: an active subscription with its billing period, tenant and link from custom_id', async () => {
    const event = await translated(
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', {
        billing_info: {
          next_billing_time: '2027-01-01T10:00:00Z',
          last_payment: { amount: { currency_code: 'USD', value: '29.00' }, time: '2026-12-01T08:59:00Z' },
        },
      }),
    );

    expect(event).toEqual({
      processor: 'paypal',
      eventId: 'WH-4M0448861G563140B-9EX36365822141321',
      type: 'BILLING.SUBSCRIPTION.ACTIVATED',
      occurredAt: '2026-12-01T08:59:40.000Z',
      subscriptionId: 'I-BW452GLLEP1G',
      siteId: 'site-1',
      link: { offerId: 'offer-1', customerId: 'customer-1' },
      subscription: {
        status: 'active',
        currentPeriodStart: '2026-12-01T08:59:00.000Z',
        currentPeriodEnd: '2027-01-01T10:00:00.000Z',
        cancelAt: null,
        cancelAtPeriodEnd: false,
        accessEnds: 'now',
        resumesAt: null,
      },
      payment: null,
    });
  });

  it('CANCELLED without next_billing_time (as PayPal sends it): canceled, access to the period end, no period end', async () => {
    const event = await translated(
      subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', {
        status: 'CANCELLED',
        billing_info: { last_payment: { time: '2026-11-01T00:00:00Z' }, failed_payments_count: 0 },
      }),
    );

    expect(event.subscription).toMatchObject({ status: 'canceled', accessEnds: 'period_end', currentPeriodEnd: null });
    expect(event.subscriptionId).toBe('I-BW452GLLEP1G');
    expect(event.payment).toBeNull();
  });

  it('SUSPENDED: paused', async () => {
    const event = await translated(subscriptionEvent('BILLING.SUBSCRIPTION.SUSPENDED', { status: 'SUSPENDED' }));
    expect(event.subscription?.status).toBe('paused');
  });

  it('EXPIRED: canceled, access ends now', async () => {
    const event = await translated(subscriptionEvent('BILLING.SUBSCRIPTION.EXPIRED', { status: 'EXPIRED' }));
    expect(event.subscription).toMatchObject({ status: 'canceled', accessEnds: 'now' });
  });

  it('UPDATED follows the resource status, so an update to a suspended subscription does not unpause it', async () => {
    const event = await translated(subscriptionEvent('BILLING.SUBSCRIPTION.UPDATED', { status: 'SUSPENDED' }));
    expect(event.subscription?.status).toBe('paused');
  });

  it('PAYMENT.FAILED: past_due and a failed payment of the attempted amount', async () => {
    const event = await translated(
      subscriptionEvent('BILLING.SUBSCRIPTION.PAYMENT.FAILED', {
        billing_info: {
          next_billing_time: '2026-12-02T10:00:00Z',
          last_failed_payment: {
            amount: { currency_code: 'EUR', value: '29.50' },
            time: '2026-12-01T08:59:00Z',
            reason_code: 'PAYMENT_DENIED',
          },
        },
      }),
    );

    expect(event.subscription?.status).toBe('past_due');
    expect(event.payment).toEqual({
      outcome: 'failed',
      paymentId: 'I-BW452GLLEP1G:failed:2026-12-01T08:59:00.000Z',
      amount: 2950,
      currency: 'eur',
      periodStart: null,
      periodEnd: null,
      refundId: null,
    });
  });

  it('PAYMENT.SALE.COMPLETED: a succeeded payment in minor units, subscription from billing_agreement_id', async () => {
    const event = await translated(saleEvent('PAYMENT.SALE.COMPLETED', {}));

    expect(event).toMatchObject({
      subscriptionId: 'I-BW452GLLEP1G',
      siteId: 'site-1',
      link: { offerId: 'offer-1', customerId: 'customer-1' },
      occurredAt: '2026-12-01T08:59:35.000Z',
      subscription: null,
      payment: { outcome: 'succeeded', paymentId: '80021663DE681814L', amount: 2900, currency: 'usd', refundId: null },
    });
  });

  it('PAYMENT.SALE.COMPLETED in a zero-decimal currency keeps whole units', async () => {
    const event = await translated(saleEvent('PAYMENT.SALE.COMPLETED', { amount: { total: '3000', currency: 'JPY' } }));
    expect(event.payment).toMatchObject({ amount: 3000, currency: 'jpy' });
  });

  it('PAYMENT.SALE.REFUNDED: a refund of the sale (PayPal writes refunds negative)', async () => {
    const event = await translated(
      saleEvent('PAYMENT.SALE.REFUNDED', {
        id: '6YX43824R4443062K',
        sale_id: '80021663DE681814L',
        amount: { total: '-10.00', currency: 'USD' },
      }),
    );
    expect(event.payment).toMatchObject({
      outcome: 'refunded',
      paymentId: '80021663DE681814L',
      refundId: '6YX43824R4443062K',
      amount: 1000,
    });
  });

  it('a refund without billing_agreement_id, an unknown type and a CREATED subscription are ignored', async () => {
    const refund = saleEvent('PAYMENT.SALE.REFUNDED', { billing_agreement_id: undefined, sale_id: 'X' });
    const other = subscriptionEvent('BILLING.SUBSCRIPTION.CREATED', { status: 'APPROVAL_PENDING' });
    const checkout = JSON.stringify({ id: 'WH-3', event_type: 'CHECKOUT.ORDER.APPROVED', resource: { id: 'O-1' } });
    for (const body of [refund, other, checkout]) {
      const result = (await translator.translate(body, signed(body), NOW)) as IgnoredEvent;
      expect(result).toMatchObject({ ignored: true, processor: 'paypal' });
      expect(result.reason).toEqual(expect.any(String));
    }
  });

  it('a missing or malformed custom_id leaves siteId and link null', async () => {
    for (const custom_id of [undefined, '', 'site-1:offer-1', 'a:b:c:d', 'site 1:offer-1:customer-1']) {
      const event = await translated(subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', { custom_id }));
      expect(event.siteId).toBeNull();
      expect(event.link).toBeNull();
    }
  });
});

const LONG_ID = `I-${'X'.repeat(3000)}`;

describe('PayPal webhook: values out of range are a 400 naming the field', () => {
  it.each([
    [
      'resource.update_time after the year 9999',
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', { update_time: '+020000-01-01T00:00:00Z' }),
      'resource.update_time',
    ],
    [
      'resource.update_time that is not a date',
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', { update_time: 'yesterday' }),
      'resource.update_time',
    ],
    [
      'create_time that lands in the year 10000 in UTC',
      JSON.stringify({
        id: 'WH-1',
        event_type: 'BILLING.SUBSCRIPTION.ACTIVATED',
        create_time: '9999-12-31T23:00:00-05:00',
        resource: { id: 'I-1', status: 'ACTIVE' },
      }),
      'create_time',
    ],
    [
      'billing_info.next_billing_time of +100000',
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', {
        billing_info: { next_billing_time: '+100000-01-01T00:00:00Z' },
      }),
      'resource.billing_info.next_billing_time',
    ],
    [
      'billing_info.last_payment.time of +275760',
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', {
        billing_info: { last_payment: { time: '+275760-09-13T00:00:00Z' } },
      }),
      'resource.billing_info.last_payment.time',
    ],
    [
      'start_time that is a number',
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', { start_time: 1e17 }),
      'resource.start_time',
    ],
    [
      'a sale update_time after the year 9999',
      saleEvent('PAYMENT.SALE.COMPLETED', { update_time: '+010000-01-01T00:00:00Z' }),
      'resource.update_time',
    ],
  ])('%s', async (_case, rawBody, field) => {
    expect(await refusal(rawBody)).toEqual({ status: 400, fields: [field] });
  });

  it.each([
    [
      'a sale total in exponent notation',
      saleEvent('PAYMENT.SALE.COMPLETED', { amount: { total: '1e5', currency: 'USD' } }),
      'resource.amount.total',
    ],
    [
      'a sale total beyond a safe integer',
      saleEvent('PAYMENT.SALE.COMPLETED', { amount: { total: '99999999999999999999', currency: 'USD' } }),
      'resource.amount.total',
    ],
    [
      'a sale currency that is not an ISO code',
      saleEvent('PAYMENT.SALE.COMPLETED', { amount: { total: '29.00', currency: 'US Dollar' } }),
      'resource.amount.currency',
    ],
    [
      'a failed payment value with a comma',
      subscriptionEvent('BILLING.SUBSCRIPTION.PAYMENT.FAILED', {
        billing_info: { last_failed_payment: { amount: { currency_code: 'EUR', value: '29,50' } } },
      }),
      'resource.billing_info.last_failed_payment.amount.value',
    ],
  ])('%s', async (_case, rawBody, field) => {
    expect(await refusal(rawBody)).toEqual({ status: 400, fields: [field] });
  });

  it('the message names the field and the rule', async () => {
    const rawBody = subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', {
      billing_info: { next_billing_time: '+100000-01-01T00:00:00Z' },
    });

    const error = await rejection(translator.translate(rawBody, signed(rawBody), NOW));

    expect((error as Error).message).toContain('resource.billing_info.next_billing_time must be');
  });

  it('a time with an offset is read in UTC', async () => {
    const event = await translated(
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', {
        billing_info: { next_billing_time: '2027-01-01T10:00:00+02:00' },
      }),
    );

    expect(event.subscription?.currentPeriodEnd).toBe('2027-01-01T08:00:00.000Z');
  });
});

describe('PayPal webhook: ids over the key-size bound are a 400 naming the field', () => {
  it.each([
    ['a 3 000-character event id', subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', {}, LONG_ID), 'id'],
    ['an event id with a line break', subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', {}, 'WH-1\nX'), 'id'],
    [
      'a 3 000-character event type',
      JSON.stringify({ id: 'WH-1', event_type: 'X'.repeat(3000), resource: {} }),
      'event_type',
    ],
    [
      'a 3 000-character subscription id',
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', { id: LONG_ID }),
      'resource.id',
    ],
    [
      'a 3 000-character billing_agreement_id',
      saleEvent('PAYMENT.SALE.COMPLETED', { billing_agreement_id: LONG_ID }),
      'resource.billing_agreement_id',
    ],
    ['a 3 000-character sale id', saleEvent('PAYMENT.SALE.COMPLETED', { id: LONG_ID }), 'resource.id'],
    [
      'a 3 000-character refund id',
      saleEvent('PAYMENT.SALE.REFUNDED', { id: LONG_ID, sale_id: '80021663DE681814L' }),
      'resource.id',
    ],
    [
      'a 3 000-character sale_id on a refund',
      saleEvent('PAYMENT.SALE.REFUNDED', { id: '6YX43824R4443062K', sale_id: LONG_ID }),
      'resource.sale_id',
    ],
  ])('%s', async (_case, rawBody, field) => {
    expect(await refusal(rawBody)).toEqual({ status: 400, fields: [field] });
  });

  it('an event type not used by membergate is ignored without reading its resource', async () => {
    const rawBody = JSON.stringify({
      id: 'WH-5',
      event_type: 'CUSTOMER.DISPUTE.CREATED',
      resource: { id: LONG_ID, create_time: 'not a date' },
    });

    const result = await translator.translate(rawBody, signed(rawBody), NOW);

    expect(result).toMatchObject({ ignored: true, reason: 'event type not used by membergate' });
  });

  it('a forged delivery is refused for its signature before its values are read', async () => {
    const rawBody = subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', { id: LONG_ID });

    const error = await rejection(translator.translate(rawBody, signed(rawBody, {}, stranger.privateKeyPem), NOW));

    expect(error).toBeInstanceOf(WebhookSignatureError);
  });
});

describe('PayPal webhook: custom_id', () => {
  it('a custom_id whose customer part breaks the API id rule links nothing (the use case then ignores it)', async () => {
    const event = await translated(
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', { custom_id: 'site-1:offer-1:bad id#x' }),
    );

    expect(event).toMatchObject({ siteId: null, link: null });
  });

  it("a custom_id over PayPal's 127 characters links nothing", async () => {
    const event = await translated(
      subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', { custom_id: `site-1:offer-1:${'c'.repeat(3000)}` }),
    );

    expect(event).toMatchObject({ siteId: null, link: null });
  });

  it('a custom_id that is not a string is a 400 naming it', async () => {
    const rawBody = subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', { custom_id: { siteId: 'site-1' } });

    expect(await refusal(rawBody)).toEqual({ status: 400, fields: ['resource.custom_id'] });
  });
});
