import { createVerify, X509Certificate } from 'node:crypto';
import { WebhookSignatureError } from '../ports/webhooks.ts';
import { crc32 } from './crc32.ts';

/**
 * PayPal webhook verification with PayPal's documented *self-verification* scheme
 * (developer.paypal.com/api/rest/webhooks/rest, "Self verification method"): PayPal signs
 *   `<paypal-transmission-id>|<paypal-transmission-time>|<webhook id>|<CRC32 of the raw body, unsigned decimal>`
 * with SHA256withRSA (`paypal-auth-algo`); the base64 signature is `paypal-transmission-sig` and the signing
 * certificate is downloaded from `paypal-cert-url`. The webhook id is the id PayPal gave the listener URL when
 * it was subscribed (env PAYPAL_WEBHOOK_ID), so a delivery meant for another listener does not verify here.
 * No call to PayPal's `verify-webhook-signature` API: no OAuth token, no extra latency, works for mock events.
 */
export interface PayPalVerificationOptions {
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

/** Verifies one delivery against its raw body; throws WebhookSignatureError (→ 400) when it does not verify. */
export type PayPalVerifier = (rawBody: string, headers: Readonly<Record<string, string>>, now: Date) => Promise<void>;

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

/** Checks the options once (a broken certificate override fails at cold start, not on every delivery). */
export function createPayPalVerifier(options: PayPalVerificationOptions): PayPalVerifier {
  if (!options.webhookId) throw new Error('PayPal webhook id is required (PAYPAL_WEBHOOK_ID)');
  const override = options.certificatePem ? parseCertificates(options.certificatePem)[0] : undefined;
  if (options.certificatePem && !override) throw new Error('PAYPAL_WEBHOOK_CERT holds no PEM certificate');
  const context: VerifyContext = {
    webhookId: options.webhookId,
    tolerance: options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
    override,
    fetchCertificate: options.fetchCertificate ?? downloadCertificate,
  };
  return (rawBody, headers, now) => verify(rawBody, headers, now, context);
}

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
