import { createVerify, X509Certificate } from 'node:crypto';
import * as zlib from 'node:zlib';
import { InvalidInputError } from '../domain/errors.ts';
import type { IgnoredEvent, PaymentReport, ProcessorEvent, SubscriptionState } from '../domain/processor-events.ts';
import type { Instant } from '../domain/types.ts';
import { WebhookSignatureError, type WebhookTranslator } from '../ports/webhooks.ts';

/**
 * PayPal webhooks (POST /webhooks/paypal): verified with PayPal's documented *self-verification* scheme, then
 * translated into a ProcessorEvent.
 *
 * Verification (developer.paypal.com/api/rest/webhooks/rest, "Self verification method"): PayPal signs
 *   `<paypal-transmission-id>|<paypal-transmission-time>|<webhook id>|<CRC32 of the raw body, unsigned decimal>`
 * with SHA256withRSA (`paypal-auth-algo`); the base64 signature is `paypal-transmission-sig` and the signing
 * certificate is downloaded from `paypal-cert-url`. The webhook id is the id PayPal gave the listener URL when
 * it was subscribed (env PAYPAL_WEBHOOK_ID), so a delivery meant for another listener does not verify here.
 * No call to PayPal's `verify-webhook-signature` API: no OAuth token, no extra latency, works for mock events.
 *
 * `custom_id`: membergate creates every PayPal subscription with `custom_id` = `${siteId}:${offerId}:${customerId}`
 * (see formatPayPalCustomId); that is how a webhook finds (or creates) its purchase, like Stripe's metadata.
 */
export interface PayPalTranslatorOptions {
  /** The webhook id of this listener URL in the PayPal app (env PAYPAL_WEBHOOK_ID). */
  webhookId: string;
  /**
   * A PEM certificate to verify with instead of downloading `paypal-cert-url` (env PAYPAL_WEBHOOK_CERT): the
   * documented override for local runs and tests, where deliveries are signed with a locally generated key.
   * When set, the URL is never fetched (and the header is not required).
   */
  certificatePem?: string;
  /** Downloads a certificate (default: global fetch, no redirects, 5 s timeout). Only called for PayPal hosts. */
  fetchCertificate?: (url: string) => Promise<string>;
  /**
   * How old a `paypal-transmission-time` may be. Default: 4 days; see DEFAULT_TOLERANCE_SECONDS for why not minutes.
   */
  toleranceSeconds?: number;
}

/**
 * Why the default window is days, not minutes: PayPal retries a delivery that did not get a 2xx "up to 25 times
 * over 3 days" and documents no replay window, nor that a retry is re-signed with a fresh transmission time. A
 * five-minute window could therefore reject legitimate retries after an outage, and a lost CANCELLED or
 * PAYMENT.FAILED is worse than a replay: a replayed genuine delivery changes nothing here (events are applied
 * once per event id, and out-of-order ones are resolved by the resource's own timestamps). So the window covers
 * the documented retry period plus a day of slack and mainly bounds how long a captured delivery can be replayed.
 */
export const DEFAULT_TOLERANCE_SECONDS = 4 * 24 * 60 * 60;
/** A transmission time this far in the future is refused (clock skew allowance). */
const FUTURE_SKEW_SECONDS = 300;

/**
 * Hosts PayPal serves webhook signing certificates from (`https://api.paypal.com/v1/notifications/certs/CERT-…`
 * in live, `api.sandbox.paypal.com` in sandbox; the `api-m.` names are PayPal's current API hosts for the same
 * services). An exact match: `paypal.com.evil.example`, `evil-paypal.com` or `api.paypal.com.` are all refused,
 * because whoever controls the certificate URL controls the key the signature is checked against.
 */
export const PAYPAL_CERT_HOSTS: ReadonlySet<string> = new Set([
  'api.paypal.com',
  'api-m.paypal.com',
  'api.sandbox.paypal.com',
  'api-m.sandbox.paypal.com',
]);

/** The subject PayPal's signing certificate is issued to (PayPal's Java SDK checked the same name). */
const PAYPAL_SIGNING_CN = /^CN=messageverificationcerts(\.[a-z0-9-]+)*\.paypal\.com$/i;

const MAX_CACHED_CERTIFICATES = 32;
const MAX_CERTIFICATE_BYTES = 64 * 1024;

/**
 * Downloaded certificates by URL, for the life of the process (a warm Lambda verifies most deliveries without a
 * download). PayPal publishes a new URL when it rotates its certificate, so an entry never goes stale in place;
 * an expired one is evicted. In-flight downloads are shared, failures are not cached.
 */
const certificateCache = new Map<string, Promise<X509Certificate>>();

/** For tests: forget downloaded certificates. */
export function clearPayPalCertificateCache(): void {
  certificateCache.clear();
}

export function createPayPalTranslator(options: PayPalTranslatorOptions): WebhookTranslator {
  if (!options.webhookId) throw new Error('PayPal webhook id is required (PAYPAL_WEBHOOK_ID)');
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const fetchCertificate = options.fetchCertificate ?? downloadCertificate;
  // A broken override is a configuration error: fail at cold start, not on every delivery.
  const override = options.certificatePem ? parseCertificates(options.certificatePem)[0] : undefined;
  if (options.certificatePem && !override) throw new Error('PAYPAL_WEBHOOK_CERT holds no PEM certificate');

  return {
    processor: 'paypal',
    async translate(rawBody, headers, now) {
      await verify(rawBody, headers, now, {
        webhookId: options.webhookId,
        tolerance,
        override,
        fetchCertificate,
      });
      return translateEvent(parseBody(rawBody));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Verification

interface VerifyContext {
  webhookId: string;
  tolerance: number;
  override: X509Certificate | undefined;
  fetchCertificate: (url: string) => Promise<string>;
}

function reject(reason: string): never {
  throw new WebhookSignatureError('paypal', reason);
}

async function verify(
  rawBody: string,
  headers: Readonly<Record<string, string>>,
  now: Date,
  context: VerifyContext,
): Promise<void> {
  const header = (name: string): string => {
    const value = headers[name]?.trim();
    if (!value) reject(`missing ${name} header`);
    return value;
  };
  const transmissionId = header('paypal-transmission-id');
  const transmissionTime = header('paypal-transmission-time');
  const signature = header('paypal-transmission-sig');
  const algorithm = header('paypal-auth-algo');
  if (algorithm.toLowerCase() !== 'sha256withrsa') reject(`unsupported paypal-auth-algo ${algorithm}`);

  const sentAt = Date.parse(transmissionTime);
  if (Number.isNaN(sentAt)) reject('paypal-transmission-time is not a date');
  const ageSeconds = (now.getTime() - sentAt) / 1000;
  if (ageSeconds > context.tolerance) reject('paypal-transmission-time is too old');
  if (ageSeconds < -FUTURE_SKEW_SECONDS) reject('paypal-transmission-time is in the future');

  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) reject('paypal-transmission-sig is not base64');
  const signatureBytes = Buffer.from(signature, 'base64');

  const certificate = context.override ?? (await downloadedCertificate(header('paypal-cert-url'), context, now));
  checkValidity(certificate, now);

  const message = `${transmissionId}|${transmissionTime}|${context.webhookId}|${crc32(rawBody)}`;
  let valid = false;
  try {
    valid = createVerify('RSA-SHA256').update(message).verify(certificate.publicKey, signatureBytes);
  } catch {
    valid = false;
  }
  if (!valid) reject('signature does not match');
}

function checkValidity(certificate: X509Certificate, now: Date): void {
  const from = Date.parse(certificate.validFrom);
  const to = Date.parse(certificate.validTo);
  if (Number.isNaN(from) || Number.isNaN(to)) reject('certificate validity dates are unreadable');
  if (now.getTime() < from) reject('certificate is not yet valid');
  if (now.getTime() > to) reject('certificate has expired');
}

/** Refuses anything but https on an exact PayPal host (no port, no credentials) before any download. */
export function isPayPalCertificateUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    url.protocol === 'https:' &&
    PAYPAL_CERT_HOSTS.has(url.hostname) &&
    url.port === '' &&
    url.username === '' &&
    url.password === ''
  );
}

async function downloadedCertificate(url: string, context: VerifyContext, now: Date): Promise<X509Certificate> {
  if (!isPayPalCertificateUrl(url)) reject('paypal-cert-url is not a PayPal certificate URL');
  let pending = certificateCache.get(url);
  if (!pending) {
    pending = loadCertificate(url, context.fetchCertificate);
    if (certificateCache.size >= MAX_CACHED_CERTIFICATES) {
      const oldest = certificateCache.keys().next().value;
      if (oldest !== undefined) certificateCache.delete(oldest);
    }
    certificateCache.set(url, pending);
    pending.catch(() => certificateCache.delete(url));
  }
  const certificate = await pending;
  if (now.getTime() > Date.parse(certificate.validTo)) certificateCache.delete(url);
  return certificate;
}

async function loadCertificate(
  url: string,
  fetchCertificate: (url: string) => Promise<string>,
): Promise<X509Certificate> {
  let pem: string;
  try {
    pem = await fetchCertificate(url);
  } catch (error) {
    reject(`certificate download failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const chain = parseCertificates(pem);
  const leaf = chain[0];
  if (!leaf) reject('paypal-cert-url did not return a certificate');
  if (!leaf.subject.split('\n').some((part) => PAYPAL_SIGNING_CN.test(part.trim()))) {
    reject('certificate is not issued to PayPal webhook signing');
  }
  // The download itself is authenticated by TLS to a PayPal host; when PayPal includes intermediates, each
  // link must also hold (no anchoring to a root store here: PayPal documents no chain contents to pin).
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i]!;
    const issuer = chain[i + 1]!;
    if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) reject('certificate chain does not verify');
  }
  return leaf;
}

function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    reject('certificate is not a valid X.509 PEM');
  }
}

async function downloadCertificate(url: string): Promise<string> {
  // No redirects: the host check above must hold for the URL actually read.
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_CERTIFICATE_BYTES) throw new Error('certificate response too large');
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// CRC32 (IEEE 802.3, the one PayPal uses): zlib.crc32 on Node ≥ 20.15 / 22 (local and Lambda); a table fallback
// keeps older Node 20 releases working.

let table: Uint32Array | undefined;

/** Table-driven CRC32 (IEEE), unsigned. Exported for tests; `crc32` prefers zlib's. */
export function tableCrc32(data: string | Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let crc = 0xffffffff;
  for (const byte of bytes) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC32 of the UTF-8 bytes of `data`, as the unsigned integer PayPal puts (in decimal) into the signed message. */
export function crc32(data: string | Uint8Array): number {
  return typeof zlib.crc32 === 'function' ? zlib.crc32(data) >>> 0 : tableCrc32(data);
}

// ---------------------------------------------------------------------------------------------------------------
// custom_id

/** PayPal's limit for a subscription's `custom_id`. */
const CUSTOM_ID_MAX = 127;
const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * `custom_id` for a PayPal subscription created by membergate: `${siteId}:${offerId}:${customerId}`. membergate ids
 * may themselves contain `:`; such a colon is written `%3A` (and `%` as `%25`) so the three parts stay apart, while
 * ordinary ids appear unchanged. Throws when the result exceeds PayPal's 127 characters.
 */
export function formatPayPalCustomId(link: { siteId: string; offerId: string; customerId: string }): string {
  const escapePart = (part: string) => part.replaceAll('%', '%25').replaceAll(':', '%3A');
  const value = [link.siteId, link.offerId, link.customerId].map(escapePart).join(':');
  if (value.length > CUSTOM_ID_MAX) throw new RangeError(`PayPal custom_id exceeds ${CUSTOM_ID_MAX} characters`);
  return value;
}

/** The inverse of formatPayPalCustomId; null for anything absent or malformed (never a partial result). */
export function parsePayPalCustomId(value: unknown): { siteId: string; offerId: string; customerId: string } | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > CUSTOM_ID_MAX) return null;
  const parts = value.split(':');
  if (parts.length !== 3) return null;
  const decoded: string[] = [];
  for (const part of parts) {
    if (/%(?!25|3A)/i.test(part)) return null;
    const plain = part.replace(/%3A/gi, ':').replace(/%25/g, '%');
    if (!ID_PATTERN.test(plain)) return null;
    decoded.push(plain);
  }
  const [siteId, offerId, customerId] = decoded as [string, string, string];
  return { siteId, offerId, customerId };
}

// ---------------------------------------------------------------------------------------------------------------
// Amounts

/** Currencies PayPal does not allow decimals for (PayPal currency codes reference). */
const ZERO_DECIMAL = new Set(['HUF', 'JPY', 'TWD']);

/**
 * A PayPal decimal string (`"29.00"`, `"-0.01"`, `"1000"`) → integer minor units of `currency` (absolute value:
 * refunds arrive negative). Exact: no floating point. Null when unreadable.
 */
export function payPalAmountToMinor(value: unknown, currency: string): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const match = /^-?(\d*)(?:\.(\d*))?$/.exec(String(value).trim());
  if (!match || (!match[1] && !match[2])) return null;
  const digits = ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2;
  const whole = match[1] || '0';
  const fraction = (match[2] ?? '').padEnd(digits, '0');
  // Digits beyond the currency's precision are rounded half up.
  const kept = fraction.slice(0, digits);
  const roundUp = (fraction[digits] ?? '0') >= '5' ? 1 : 0;
  const minor = Number(whole) * 10 ** digits + Number(kept || '0') + roundUp;
  return Number.isSafeInteger(minor) ? minor : null;
}

/** Non-negative integer minor units → PayPal's decimal string for `currency` (`2900` → `"29.00"`). */
export function minorToPayPalAmount(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`not an amount in minor units: ${minor}`);
  if (ZERO_DECIMAL.has(currency.toUpperCase())) return String(minor);
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Translation

type Json = Record<string, unknown>;

function record(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function at(value: unknown, ...path: string[]): unknown {
  let current: unknown = value;
  for (const key of path) current = record(current)?.[key];
  return current;
}

function instant(value: unknown): Instant | null {
  const raw = text(value);
  if (!raw) return null;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function parseBody(rawBody: string): Json {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw new InvalidInputError('paypal webhook body is not JSON', [{ field: 'body', message: 'not JSON' }]);
  }
  const event = record(body);
  if (!event || !text(event.id) || !text(event.event_type)) {
    throw new InvalidInputError('paypal webhook body is not a webhook event', [
      { field: 'body', message: 'missing id or event_type' },
    ]);
  }
  return event;
}

const SUBSCRIPTION_EVENTS = new Set([
  'BILLING.SUBSCRIPTION.ACTIVATED',
  'BILLING.SUBSCRIPTION.RE-ACTIVATED',
  'BILLING.SUBSCRIPTION.UPDATED',
  'BILLING.SUBSCRIPTION.SUSPENDED',
  'BILLING.SUBSCRIPTION.CANCELLED',
  'BILLING.SUBSCRIPTION.EXPIRED',
  'BILLING.SUBSCRIPTION.PAYMENT.FAILED',
]);

function translateEvent(event: Json): ProcessorEvent | IgnoredEvent {
  const eventId = event.id as string;
  const type = event.event_type as string;
  const ignore = (reason: string): IgnoredEvent => ({ ignored: true, processor: 'paypal', eventId, type, reason });
  const resource = record(event.resource);
  if (!resource) return ignore('event has no resource');
  // Only asked of the events membergate uses: an ignored one may lack it.
  const occurredAt = (): Instant =>
    instant(resource.update_time) ??
    instant(resource.create_time) ??
    instant(event.create_time) ??
    missingTime(eventId, type);

  if (SUBSCRIPTION_EVENTS.has(type)) {
    const subscriptionId = text(resource.id);
    if (!subscriptionId) return ignore('subscription resource has no id');
    const subscription = subscriptionState(type, resource);
    if (!subscription) return ignore(`subscription status ${String(resource.status)} has no meaning here`);
    const link = parsePayPalCustomId(resource.custom_id);
    return {
      processor: 'paypal',
      eventId,
      type,
      occurredAt: occurredAt(),
      subscriptionId,
      siteId: link?.siteId ?? null,
      link: link ? { offerId: link.offerId, customerId: link.customerId } : null,
      subscription,
      payment: type === 'BILLING.SUBSCRIPTION.PAYMENT.FAILED' ? failedPayment(eventId, subscriptionId, resource) : null,
    };
  }

  if (type === 'PAYMENT.SALE.COMPLETED' || type === 'PAYMENT.SALE.REFUNDED') {
    const subscriptionId = text(resource.billing_agreement_id);
    if (!subscriptionId) return ignore('sale is not part of a subscription (no billing_agreement_id)');
    const currency = text(at(resource, 'amount', 'currency'));
    const amount = currency ? payPalAmountToMinor(at(resource, 'amount', 'total'), currency) : null;
    const id = text(resource.id);
    if (!currency || amount === null || !id) return ignore('sale has no readable id or amount');
    const refunded = type === 'PAYMENT.SALE.REFUNDED';
    const saleId = refunded ? text(resource.sale_id) : id;
    if (!saleId) return ignore('refund names no sale_id');
    const link = parsePayPalCustomId(resource.custom ?? resource.custom_id);
    return {
      processor: 'paypal',
      eventId,
      type,
      occurredAt: occurredAt(),
      subscriptionId,
      siteId: link?.siteId ?? null,
      link: link ? { offerId: link.offerId, customerId: link.customerId } : null,
      subscription: null,
      payment: {
        outcome: refunded ? 'refunded' : 'succeeded',
        paymentId: saleId,
        amount,
        currency: currency.toLowerCase(),
        periodStart: null,
        periodEnd: null,
        refundId: refunded ? id : null,
      },
    };
  }

  return ignore('event type not used by membergate');
}

function missingTime(eventId: string, type: string): never {
  throw new InvalidInputError(`paypal event ${eventId} (${type}) carries no readable time`, [
    { field: 'create_time', message: 'missing or not a date' },
  ]);
}

/**
 * The subscription as the event reports it. ACTIVATED / RE-ACTIVATED assert `active`; UPDATED (plan, quantity
 * or billing changes) follows `resource.status`, so an update to a suspended subscription does not unpause it.
 * PayPal cannot schedule a future end, so `cancelAt` is always null.
 */
function subscriptionState(type: string, resource: Json): SubscriptionState | null {
  const base: SubscriptionState = {
    status: 'active',
    currentPeriodStart:
      instant(at(resource, 'billing_info', 'last_payment', 'time')) ?? instant(resource.start_time) ?? null,
    currentPeriodEnd: instant(at(resource, 'billing_info', 'next_billing_time')),
    cancelAt: null,
    cancelAtPeriodEnd: false,
    accessEnds: 'now',
    resumesAt: null,
  };
  const byStatus = (status: unknown): SubscriptionState | null => {
    switch (status) {
      case 'ACTIVE':
        return base;
      case 'SUSPENDED':
        return { ...base, status: 'paused' };
      // Billing stopped; access lasts to the end of the cycle already paid (rule 9). Real CANCELLED deliveries
      // omit next_billing_time: currentPeriodEnd is then null and the purchase keeps the period end it recorded.
      case 'CANCELLED':
        return { ...base, status: 'canceled', accessEnds: 'period_end' };
      case 'EXPIRED':
        return { ...base, status: 'canceled', accessEnds: 'now' };
      default:
        return null;
    }
  };
  switch (type) {
    case 'BILLING.SUBSCRIPTION.ACTIVATED':
    case 'BILLING.SUBSCRIPTION.RE-ACTIVATED':
      return base;
    case 'BILLING.SUBSCRIPTION.UPDATED':
      return byStatus(resource.status);
    case 'BILLING.SUBSCRIPTION.SUSPENDED':
      return byStatus('SUSPENDED');
    case 'BILLING.SUBSCRIPTION.CANCELLED':
      return byStatus('CANCELLED');
    case 'BILLING.SUBSCRIPTION.EXPIRED':
      return byStatus('EXPIRED');
    case 'BILLING.SUBSCRIPTION.PAYMENT.FAILED':
      return { ...base, status: 'past_due' };
    default:
      return null;
  }
}

/**
 * PAYMENT.FAILED carries the subscription, not a payment object: the failed attempt is
 * `billing_info.last_failed_payment` ({amount: {currency_code, value}, time}). It has no id of its own, so the
 * payment id is the subscription id and the attempt's time (one per attempt), or the event id without a time.
 */
function failedPayment(eventId: string, subscriptionId: string, resource: Json): PaymentReport {
  const failed = record(at(resource, 'billing_info', 'last_failed_payment'));
  const currency =
    text(at(failed, 'amount', 'currency_code')) ??
    text(at(resource, 'billing_info', 'outstanding_balance', 'currency_code')) ??
    'USD';
  const time = instant(failed?.time);
  return {
    outcome: 'failed',
    paymentId: time ? `${subscriptionId}:failed:${time}` : eventId,
    amount: payPalAmountToMinor(at(failed, 'amount', 'value'), currency) ?? 0,
    currency: currency.toLowerCase(),
    periodStart: null,
    periodEnd: null,
    refundId: null,
  };
}
