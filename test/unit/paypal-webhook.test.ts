import { createSign } from 'node:crypto';
import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  generatePayPalSigningMaterial,
  payPalWebhookHeaders,
  signPayPalWebhook,
} from '../../infra/local/paypal-sandbox.ts';
import {
  clearPayPalCertificateCache,
  crc32,
  createPayPalTranslator,
  formatPayPalCustomId,
  isPayPalCertificateUrl,
  minorToPayPalAmount,
  parsePayPalCustomId,
  payPalAmountToMinor,
  tableCrc32,
} from '../../shared/adapters/paypal-webhook.ts';
import type { IgnoredEvent, ProcessorEvent } from '../../shared/domain/processor-events.ts';
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

async function rejection(promise: Promise<unknown>): Promise<WebhookSignatureError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WebhookSignatureError);
  return error as WebhookSignatureError;
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

describe('PayPal webhook verification', () => {
  beforeEach(() => clearPayPalCertificateCache());

  const body = subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', { status: 'CANCELLED' });

  it('refuses a signature made with another key', async () => {
    await rejection(translator.translate(body, signed(body, {}, stranger.privateKeyPem), NOW));
  });

  it('refuses a body changed after signing', async () => {
    const headers = signed(body);
    const altered = body.replace('CANCELLED', 'ACTIVE ');
    await rejection(translator.translate(altered, headers, NOW));
  });

  it('refuses a delivery signed for another webhook id', async () => {
    const other = createPayPalTranslator({ webhookId: 'OTHERWEBHOOK', certificatePem: material.certificatePem });
    await rejection(other.translate(body, signed(body), NOW));
  });

  it('refuses missing signature headers, naming the header', async () => {
    for (const name of [
      'paypal-transmission-id',
      'paypal-transmission-time',
      'paypal-transmission-sig',
      'paypal-auth-algo',
    ]) {
      const headers: Record<string, string> = signed(body);
      delete headers[name];
      const error = await rejection(translator.translate(body, headers, NOW));
      expect(error.message).toContain(name);
    }
  });

  it('refuses an unsupported algorithm, a signature that is not base64 and a stale or future transmission', async () => {
    await rejection(translator.translate(body, signed(body, { 'paypal-auth-algo': 'SHA1withRSA' }), NOW));
    await rejection(translator.translate(body, signed(body, { 'paypal-transmission-sig': '!!not base64' }), NOW));
    const strict = createPayPalTranslator({
      webhookId: WEBHOOK_ID,
      certificatePem: material.certificatePem,
      toleranceSeconds: 60,
    });
    const later = new Date(NOW.getTime() + 120_000);
    expect((await rejection(strict.translate(body, signed(body), later))).message).toContain('too old');
    const earlier = new Date(NOW.getTime() - 3_600_000);
    expect((await rejection(translator.translate(body, signed(body), earlier))).message).toContain('future');
  });

  it('accepts a PayPal retry a day after the original transmission with the default window', async () => {
    const dayLater = new Date(NOW.getTime() + 86_400_000);
    await expect(translator.translate(body, signed(body), dayLater)).resolves.toMatchObject({
      eventId: expect.any(String),
    });
  });

  it('refuses when the certificate has expired', async () => {
    const old = generatePayPalSigningMaterial({
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2026-01-01T00:00:00Z'),
    });
    const expired = createPayPalTranslator({ webhookId: WEBHOOK_ID, certificatePem: old.certificatePem });
    const error = await rejection(expired.translate(body, signed(body, {}, old.privateKeyPem), NOW));
    expect(error.message).toContain('expired');
  });

  it('never downloads a certificate from a host that is not PayPal', async () => {
    const fetchCertificate = jest.fn(async (_url: string) => material.certificatePem);
    const live = createPayPalTranslator({ webhookId: WEBHOOK_ID, fetchCertificate });
    for (const url of [
      'https://paypal.com.evil.example/v1/notifications/certs/CERT-1',
      'https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1',
      'https://evil.example/api.paypal.com/CERT-1',
      'http://api.paypal.com/v1/notifications/certs/CERT-1',
      'https://api.paypal.com:8443/v1/notifications/certs/CERT-1',
      'https://user@api.paypal.com/v1/notifications/certs/CERT-1',
      'https://api.paypal.com./v1/notifications/certs/CERT-1',
      'not a url',
    ]) {
      await rejection(live.translate(body, signed(body, { 'paypal-cert-url': url }), NOW));
    }
    const missing: Record<string, string> = signed(body);
    delete missing['paypal-cert-url'];
    await rejection(live.translate(body, missing, NOW));
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('accepts exactly the PayPal certificate hosts', () => {
    for (const host of ['api.paypal.com', 'api-m.paypal.com', 'api.sandbox.paypal.com', 'api-m.sandbox.paypal.com']) {
      expect(isPayPalCertificateUrl(`https://${host}/v1/notifications/certs/CERT-1`)).toBe(true);
    }
    expect(isPayPalCertificateUrl('https://www.paypal.com/v1/notifications/certs/CERT-1')).toBe(false);
  });

  it('downloads a PayPal certificate once and reuses it for later deliveries', async () => {
    const fetchCertificate = jest.fn(async (_url: string) => material.certificatePem);
    const live = createPayPalTranslator({ webhookId: WEBHOOK_ID, fetchCertificate });
    const second = saleEvent('PAYMENT.SALE.COMPLETED', {});

    await expect(live.translate(body, signed(body), NOW)).resolves.toMatchObject({
      type: 'BILLING.SUBSCRIPTION.CANCELLED',
    });
    await expect(live.translate(second, signed(second), NOW)).resolves.toMatchObject({
      type: 'PAYMENT.SALE.COMPLETED',
    });

    expect(fetchCertificate).toHaveBeenCalledTimes(1);
    expect(fetchCertificate).toHaveBeenCalledWith(CERT_URL);
  });

  it('refuses a downloaded certificate that is not issued to PayPal webhook signing, and does not cache a failure', async () => {
    const impostor = generatePayPalSigningMaterial({ ...validity, commonName: 'attacker.example' });
    const fetchCertificate = jest.fn(async (_url: string) => impostor.certificatePem);
    const live = createPayPalTranslator({ webhookId: WEBHOOK_ID, fetchCertificate });
    const headers = signed(body, {}, impostor.privateKeyPem);

    await rejection(live.translate(body, headers, NOW));
    await rejection(live.translate(body, headers, NOW));
    expect(fetchCertificate).toHaveBeenCalledTimes(2);
  });

  it('a failed download is a signature error', async () => {
    const live = createPayPalTranslator({
      webhookId: WEBHOOK_ID,
      fetchCertificate: async () => {
        throw new Error('HTTP 503');
      },
    });
    expect((await rejection(live.translate(body, signed(body), NOW))).message).toContain('download');
  });

  it('the signed message is transmissionId|transmissionTime|webhookId|crc32 in unsigned decimal', async () => {
    const message = `t-1|${SENT}|${WEBHOOK_ID}|${crc32(body)}`;
    expect(message).toMatch(/\|\d+$/);
    const signature = createSign('RSA-SHA256').update(message).sign(material.privateKeyPem, 'base64');
    expect(
      signPayPalWebhook({
        privateKeyPem: material.privateKeyPem,
        transmissionId: 't-1',
        transmissionTime: SENT,
        webhookId: WEBHOOK_ID,
        rawBody: body,
      }),
    ).toBe(signature);
    const headers = signed(body, { 'paypal-transmission-id': 't-1', 'paypal-transmission-sig': signature });
    await expect(translator.translate(body, headers, NOW)).resolves.toMatchObject({ subscriptionId: 'I-BW452GLLEP1G' });
  });
});

describe('helpers', () => {
  it('CRC32 (IEEE) of a known string', () => {
    expect(crc32('The quick brown fox jumps over the lazy dog')).toBe(0x414fa339);
    expect(crc32('The quick brown fox jumps over the lazy dog')).toBe(1095738169);
    expect(tableCrc32('The quick brown fox jumps over the lazy dog')).toBe(1095738169);
    expect(tableCrc32('{"id":"WH-1","résumé":"ü"}')).toBe(crc32('{"id":"WH-1","résumé":"ü"}'));
    // Unsigned: a checksum with the top bit set is not negative.
    expect(crc32('a')).toBe(0xe8b7be43);
  });

  it('amounts: PayPal decimal strings ↔ integer minor units, exactly', () => {
    expect(payPalAmountToMinor('29.00', 'USD')).toBe(2900);
    expect(payPalAmountToMinor('0.1', 'USD')).toBe(10);
    expect(payPalAmountToMinor('19.99', 'EUR')).toBe(1999);
    expect(payPalAmountToMinor('-0.01', 'USD')).toBe(1);
    expect(payPalAmountToMinor('1000', 'JPY')).toBe(1000);
    expect(payPalAmountToMinor('1500', 'HUF')).toBe(1500);
    expect(payPalAmountToMinor('abc', 'USD')).toBeNull();
    expect(minorToPayPalAmount(2900, 'USD')).toBe('29.00');
    expect(minorToPayPalAmount(5, 'USD')).toBe('0.05');
    expect(minorToPayPalAmount(1000, 'JPY')).toBe('1000');
  });

  it('custom_id: site:offer:customer, colons inside ids escaped', () => {
    expect(formatPayPalCustomId({ siteId: 'site-1', offerId: 'offer-1', customerId: 'cus-1' })).toBe(
      'site-1:offer-1:cus-1',
    );
    const tricky = { siteId: 'site:a', offerId: 'offer-1', customerId: 'cus:1' };
    expect(parsePayPalCustomId(formatPayPalCustomId(tricky))).toEqual(tricky);
    expect(() => formatPayPalCustomId({ siteId: 'x'.repeat(120), offerId: 'y'.repeat(20), customerId: 'z' })).toThrow(
      RangeError,
    );
  });
});
