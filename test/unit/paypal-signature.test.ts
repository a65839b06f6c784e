import { createSign } from 'node:crypto';
import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  generatePayPalSigningMaterial,
  payPalWebhookHeaders,
  signPayPalWebhook,
} from '../../infra/local/paypal-sandbox.ts';
import { crc32 } from '../../shared/adapters/crc32.ts';
import {
  clearPayPalCertificateCache,
  createPayPalVerifier,
  isPayPalCertificateUrl,
} from '../../shared/adapters/paypal-signature.ts';
import { WebhookSignatureError } from '../../shared/ports/webhooks.ts';

// Deliveries are signed like PayPal signs them (SHA256withRSA over id|time|webhook id|CRC32 of the body), with a
// locally generated key and certificate (infra/local/paypal-sandbox.ts); the body's content does not matter here.

const NOW = new Date('2026-12-01T09:00:00.000Z');
const SENT = '2026-12-01T08:59:58Z';
const WEBHOOK_ID = '8PT597110X687430LKGECATA';
const CERT_URL = 'https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77';
const validity = { notBefore: new Date('2026-11-01T00:00:00Z'), notAfter: new Date('2027-11-01T00:00:00Z') };
const material = generatePayPalSigningMaterial(validity);
const stranger = generatePayPalSigningMaterial(validity);

function subscriptionEvent(type: string, resource: Record<string, unknown>) {
  return JSON.stringify({
    id: 'WH-4M0448861G563140B-9EX36365822141321',
    event_type: type,
    resource: { id: 'I-BW452GLLEP1G', status: 'ACTIVE', custom_id: 'site-1:offer-1:customer-1', ...resource },
  });
}

function saleEvent(type: string, resource: Record<string, unknown>) {
  return JSON.stringify({
    id: 'WH-2WR32451HC0233532-67976317FL4543714',
    event_type: type,
    resource: { id: '80021663DE681814L', billing_agreement_id: 'I-BW452GLLEP1G', ...resource },
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

const verify = createPayPalVerifier({ webhookId: WEBHOOK_ID, certificatePem: material.certificatePem });

async function rejection(promise: Promise<unknown>): Promise<WebhookSignatureError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WebhookSignatureError);
  return error as WebhookSignatureError;
}

describe('PayPal webhook verification', () => {
  beforeEach(() => clearPayPalCertificateCache());

  const body = subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', { status: 'CANCELLED' });

  it('refuses a signature made with another key', async () => {
    await rejection(verify(body, signed(body, {}, stranger.privateKeyPem), NOW));
  });

  it('refuses a body changed after signing', async () => {
    const headers = signed(body);
    const altered = body.replace('CANCELLED', 'ACTIVE ');
    await rejection(verify(altered, headers, NOW));
  });

  it('refuses a delivery signed for another webhook id', async () => {
    const other = createPayPalVerifier({ webhookId: 'OTHERWEBHOOK', certificatePem: material.certificatePem });
    await rejection(other(body, signed(body), NOW));
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
      const error = await rejection(verify(body, headers, NOW));
      expect(error.message).toContain(name);
    }
  });

  it('refuses an unsupported algorithm, a signature that is not base64 and a stale or future transmission', async () => {
    await rejection(verify(body, signed(body, { 'paypal-auth-algo': 'SHA1withRSA' }), NOW));
    await rejection(verify(body, signed(body, { 'paypal-transmission-sig': '!!not base64' }), NOW));
    const strict = createPayPalVerifier({
      webhookId: WEBHOOK_ID,
      certificatePem: material.certificatePem,
      toleranceSeconds: 60,
    });
    const later = new Date(NOW.getTime() + 120_000);
    expect((await rejection(strict(body, signed(body), later))).message).toContain('too old');
    const earlier = new Date(NOW.getTime() - 3_600_000);
    expect((await rejection(verify(body, signed(body), earlier))).message).toContain('future');
  });

  it('accepts a PayPal retry a day after the original transmission with the default window', async () => {
    const dayLater = new Date(NOW.getTime() + 86_400_000);
    await expect(verify(body, signed(body), dayLater)).resolves.toBeUndefined();
  });

  it('refuses when the certificate has expired', async () => {
    const old = generatePayPalSigningMaterial({
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2026-01-01T00:00:00Z'),
    });
    const expired = createPayPalVerifier({ webhookId: WEBHOOK_ID, certificatePem: old.certificatePem });
    const error = await rejection(expired(body, signed(body, {}, old.privateKeyPem), NOW));
    expect(error.message).toContain('expired');
  });

  it('never downloads a certificate from a host that is not PayPal', async () => {
    const fetchCertificate = jest.fn(async (_url: string) => material.certificatePem);
    const live = createPayPalVerifier({ webhookId: WEBHOOK_ID, fetchCertificate });
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
      await rejection(live(body, signed(body, { 'paypal-cert-url': url }), NOW));
    }
    const missing: Record<string, string> = signed(body);
    delete missing['paypal-cert-url'];
    await rejection(live(body, missing, NOW));
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
    const live = createPayPalVerifier({ webhookId: WEBHOOK_ID, fetchCertificate });
    const second = saleEvent('PAYMENT.SALE.COMPLETED', {});

    await expect(live(body, signed(body), NOW)).resolves.toBeUndefined();
    await expect(live(second, signed(second), NOW)).resolves.toBeUndefined();

    expect(fetchCertificate).toHaveBeenCalledTimes(1);
    expect(fetchCertificate).toHaveBeenCalledWith(CERT_URL);
  });

  it('refuses a downloaded certificate that is not issued to PayPal webhook signing, and does not cache a failure', async () => {
    const impostor = generatePayPalSigningMaterial({ ...validity, commonName: 'attacker.example' });
    const fetchCertificate = jest.fn(async (_url: string) => impostor.certificatePem);
    const live = createPayPalVerifier({ webhookId: WEBHOOK_ID, fetchCertificate });
    const headers = signed(body, {}, impostor.privateKeyPem);

    await rejection(live(body, headers, NOW));
    await rejection(live(body, headers, NOW));
    expect(fetchCertificate).toHaveBeenCalledTimes(2);
  });

  it('a failed download is a signature error', async () => {
    const live = createPayPalVerifier({
      webhookId: WEBHOOK_ID,
      fetchCertificate: async () => {
        throw new Error('HTTP 503');
      },
    });
    expect((await rejection(live(body, signed(body), NOW))).message).toContain('download');
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
    await expect(verify(body, headers, NOW)).resolves.toBeUndefined();
  });
});

describe('PayPal verifier configuration', () => {
  it('refuses to start without a webhook id', () => {
    expect(() => createPayPalVerifier({ webhookId: '', certificatePem: material.certificatePem })).toThrow(
      /PAYPAL_WEBHOOK_ID/,
    );
  });

  it('refuses a certificate override that holds no certificate', () => {
    expect(() => createPayPalVerifier({ webhookId: WEBHOOK_ID, certificatePem: 'not a pem' })).toThrow(
      /PAYPAL_WEBHOOK_CERT/,
    );
  });
});
