import { createSign, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from '../../shared/adapters/crc32.ts';
import { minorToPayPalAmount, payPalAmountToMinor } from '../../shared/adapters/paypal-codec.ts';
import { bitString, DER_NULL, der, oid, sequence, set, time, unsignedInteger, utf8String } from './der.ts';

/**
 * A local stand-in for the parts of PayPal's REST API membergate calls (shared/adapters/paypal.ts), for tests and
 * `npm start`: OAuth2 client credentials, Subscriptions v1 cancel / suspend / activate / show / transactions, and
 * the v1 sale refund. It checks Basic and Bearer auth, honours `PayPal-Request-Id` (the same id on the same path
 * answers the stored response and changes nothing), and records every request.
 *
 * Plus what it takes to sign webhooks like PayPal does, without PayPal: an RSA key with a self-signed certificate
 * (built in pure Node: node:crypto has no certificate builder, so the DER is assembled with ./der.ts) and the signature
 * over `transmissionId|transmissionTime|webhookId|crc32(body)`. Give the certificate to the translator as
 * `certificatePem` (env PAYPAL_WEBHOOK_CERT).
 */

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Lower-case names, e.g. `authorization`, `paypal-request-id`. */
  headers: Record<string, string>;
  /** The JSON body, parsed; null when empty or not JSON (the token request is form-encoded: see rawBody). */
  body: unknown;
  rawBody: string;
}

export interface SandboxTransaction {
  id: string;
  status: 'COMPLETED' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'DECLINED' | 'PENDING' | 'FAILED';
  /** Minor units. */
  amount: number;
  /** Upper-case ISO code, as PayPal writes it. */
  currency: string;
  time: string;
  refunded: number;
}

export interface SandboxSubscription {
  id: string;
  /**
   * The merchant it belongs to (rule 17: the platform's app acts for it with `PayPal-Auth-Assertion`), or null
   * for the app's own account. A call acting for another merchant does not find it (404).
   */
  merchant: string | null;
  status: 'ACTIVE' | 'SUSPENDED' | 'CANCELLED' | 'EXPIRED' | 'APPROVAL_PENDING';
  transactions: SandboxTransaction[];
}

export interface PayPalSandbox {
  url: string;
  requests: RecordedRequest[];
  clientId: string;
  clientSecret: string;
  /** Every subscription the sandbox knows. An unknown `I-…` id is created on first use: ACTIVE, one 29.00 USD payment. */
  subscriptions: Map<string, SandboxSubscription>;
  /** Put a subscription in a given state (transactions default to one completed 29.00 USD payment a day ago). */
  addSubscription(input: {
    id: string;
    merchant?: string | null;
    status?: SandboxSubscription['status'];
    transactions?: Array<Partial<SandboxTransaction> & { amount: number }>;
  }): SandboxSubscription;
  /** Answer every API call (not the token call) with this error until cleared with null. */
  setFailure(next: { status: number; message: string } | null): void;
  /** Invalidate every access token issued so far (PayPal revoking tokens early). */
  revokeTokens(): void;
  stop(): Promise<void>;
}

export interface PayPalSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** `expires_in` of issued tokens, seconds (default 32400, like PayPal). */
  tokenExpiresIn?: number;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'INVALID_REQUEST',
  401: 'AUTHENTICATION_FAILURE',
  403: 'NOT_AUTHORIZED',
  404: 'RESOURCE_NOT_FOUND',
  409: 'RESOURCE_CONFLICT',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'RATE_LIMIT_REACHED',
  500: 'INTERNAL_SERVER_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

interface Reply {
  status: number;
  body: unknown;
}

export async function startPayPalSandbox(options: PayPalSandboxOptions = {}): Promise<PayPalSandbox> {
  const clientId = `sandbox-client-${randomBytes(6).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const tokenLifetime = options.tokenExpiresIn ?? 32_400;
  const requests: RecordedRequest[] = [];
  const subscriptions = new Map<string, SandboxSubscription>();
  const tokens = new Map<string, number>();
  const idempotent = new Map<string, Reply>();
  let failure: { status: number; message: string } | null = null;
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}${String(++counter).padStart(8, '0')}`;

  const error = (status: number, message: string, details?: Array<{ issue: string; description: string }>): Reply => ({
    status,
    body: {
      name: ERROR_NAMES[status] ?? 'ERROR',
      message,
      debug_id: randomBytes(6).toString('hex'),
      ...(details ? { details } : {}),
    },
  });

  const addSubscription: PayPalSandbox['addSubscription'] = (input) => {
    const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
    const transactions = (input.transactions ?? [{ amount: 2900 }]).map((t) => ({
      id: t.id ?? nextId('SALE'),
      status: t.status ?? 'COMPLETED',
      amount: t.amount,
      currency: (t.currency ?? 'USD').toUpperCase(),
      time: t.time ?? dayAgo,
      refunded: t.refunded ?? 0,
    }));
    const subscription: SandboxSubscription = {
      id: input.id,
      merchant: input.merchant ?? null,
      status: input.status ?? 'ACTIVE',
      transactions,
    };
    subscriptions.set(input.id, subscription);
    return subscription;
  };
  const subscriptionFor = (id: string, merchant: string | null): SandboxSubscription | null => {
    const known = subscriptions.get(id);
    if (!known) return addSubscription({ id, merchant });
    return known.merchant === merchant ? known : null;
  };

  /**
   * The merchant a call acts for: the `payer_id` of its `PayPal-Auth-Assertion` (an unsigned JWT whose `iss`
   * must be this app), null without one; undefined when the assertion is malformed or names another app.
   */
  const merchantOf = (request: RecordedRequest): string | null | undefined => {
    const assertion = request.headers['paypal-auth-assertion'];
    if (assertion === undefined) return null;
    const [header, claims, signature] = assertion.split('.');
    if (!header || !claims || signature === undefined) return undefined;
    try {
      const decoded = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as {
        iss?: unknown;
        payer_id?: unknown;
      };
      if (decoded.iss !== clientId || typeof decoded.payer_id !== 'string' || !decoded.payer_id) return undefined;
      return decoded.payer_id;
    } catch {
      return undefined;
    }
  };

  function handle(request: RecordedRequest): Reply {
    const { method, path } = request;
    if (method === 'POST' && path === '/v1/oauth2/token') return issueToken(request);

    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const expiry = bearer ? tokens.get(bearer) : undefined;
    if (!expiry || expiry <= Date.now()) {
      return {
        status: 401,
        body: { error: 'invalid_token', error_description: 'Token signature verification failed' },
      };
    }
    if (failure) return error(failure.status, failure.message);

    const requestId = method === 'POST' ? request.headers['paypal-request-id'] : undefined;
    const key = requestId ? `${request.headers['paypal-auth-assertion'] ?? ''}|${path}|${requestId}` : undefined;
    const stored = key ? idempotent.get(key) : undefined;
    if (stored) return stored;
    const merchant = merchantOf(request);
    if (merchant === undefined) {
      return error(403, 'Authorization failed due to insufficient permissions.', [
        { issue: 'PERMISSION_DENIED', description: 'PayPal-Auth-Assertion is malformed or names another client.' },
      ]);
    }
    const reply = route(request, merchant);
    if (key && reply.status < 500) idempotent.set(key, reply);
    return reply;
  }

  function issueToken(request: RecordedRequest): Reply {
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    if (request.headers.authorization !== expected) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client Authentication failed' } };
    }
    if (new URLSearchParams(request.rawBody).get('grant_type') !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' } };
    }
    const accessToken = `A21AA${randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, Date.now() + tokenLifetime * 1000);
    return {
      status: 200,
      body: {
        scope: 'https://uri.paypal.com/services/subscriptions',
        access_token: accessToken,
        token_type: 'Bearer',
        app_id: 'APP-SANDBOX',
        expires_in: tokenLifetime,
        nonce: `${new Date().toISOString()}${randomBytes(8).toString('hex')}`,
      },
    };
  }

  function route(request: RecordedRequest, merchant: string | null): Reply {
    const { method, path } = request;
    let match = /^\/v1\/billing\/subscriptions\/([^/]+)(?:\/(cancel|suspend|activate|transactions))?$/.exec(path);
    if (match) {
      const subscription = subscriptionFor(decodeURIComponent(match[1]!), merchant);
      if (!subscription) {
        return error(404, 'The specified resource does not exist.', [
          { issue: 'INVALID_RESOURCE_ID', description: 'Requested resource ID was not found.' },
        ]);
      }
      const action = match[2];
      if (method === 'GET' && !action) {
        return { status: 200, body: { id: subscription.id, status: subscription.status } };
      }
      if (method === 'GET' && action === 'transactions') return listTransactions(subscription, request.query);
      if (method === 'POST' && action && action !== 'transactions') return transition(subscription, action, request);
    }
    match = /^\/v1\/payments\/sale\/([^/]+)\/refund$/.exec(path);
    if (match && method === 'POST') return refundSale(decodeURIComponent(match[1]!), request.body, merchant);
    return error(404, 'The specified resource does not exist.');
  }

  function transition(subscription: SandboxSubscription, action: string, request: RecordedRequest): Reply {
    const body = request.body as { reason?: unknown } | null;
    if (action !== 'activate' && (typeof body?.reason !== 'string' || body.reason.length === 0)) {
      return error(400, 'Request is not well-formed, syntactically incorrect, or violates schema.', [
        { issue: 'MISSING_REQUIRED_PARAMETER', description: 'A required field / parameter is missing.' },
      ]);
    }
    const allowed: Record<string, { from: SandboxSubscription['status'][]; to: SandboxSubscription['status'] }> = {
      cancel: { from: ['ACTIVE', 'SUSPENDED'], to: 'CANCELLED' },
      suspend: { from: ['ACTIVE'], to: 'SUSPENDED' },
      activate: { from: ['SUSPENDED'], to: 'ACTIVE' },
    };
    const rule = allowed[action]!;
    if (!rule.from.includes(subscription.status)) {
      return error(
        422,
        'The requested action could not be performed, semantically incorrect, or failed business validation.',
        [
          {
            issue: 'SUBSCRIPTION_STATUS_INVALID',
            description: `Invalid subscription status for ${action} action; subscription status is ${subscription.status}.`,
          },
        ],
      );
    }
    subscription.status = rule.to;
    return { status: 204, body: null };
  }

  function listTransactions(subscription: SandboxSubscription, query: Record<string, string>): Reply {
    const start = Date.parse(query.start_time ?? '');
    const end = Date.parse(query.end_time ?? '');
    if (Number.isNaN(start) || Number.isNaN(end)) {
      return error(400, 'Request is not well-formed, syntactically incorrect, or violates schema.', [
        { issue: 'MISSING_REQUIRED_PARAMETER', description: 'start_time and end_time are required.' },
      ]);
    }
    const transactions = subscription.transactions
      .filter((t) => Date.parse(t.time) >= start && Date.parse(t.time) <= end)
      .map((t) => ({
        status: t.status,
        id: t.id,
        amount_with_breakdown: {
          gross_amount: { currency_code: t.currency, value: minorToPayPalAmount(t.amount, t.currency) },
        },
        time: t.time,
      }));
    return { status: 200, body: { transactions, total_items: transactions.length, total_pages: 1, links: [] } };
  }

  function refundSale(saleId: string, body: unknown, merchant: string | null): Reply {
    const sale = [...subscriptions.values()]
      .filter((s) => s.merchant === merchant)
      .flatMap((s) => s.transactions)
      .find((t) => t.id === saleId);
    if (!sale)
      return error(404, 'The requested resource ID was not found', [
        { issue: 'INVALID_RESOURCE_ID', description: 'Resource id is invalid' },
      ]);
    if (sale.status !== 'COMPLETED' && sale.status !== 'PARTIALLY_REFUNDED') {
      return error(400, 'Requested transaction has already been fully refunded.', [
        { issue: 'TRANSACTION_REFUSED', description: 'The sale is not refundable.' },
      ]);
    }
    const remaining = sale.amount - sale.refunded;
    const requested = (body as { amount?: { total?: unknown; currency?: unknown } } | null)?.amount;
    let amount = remaining;
    if (requested !== undefined) {
      const currency = typeof requested.currency === 'string' ? requested.currency.toUpperCase() : '';
      const minor = payPalAmountToMinor(requested.total, sale.currency);
      if (currency !== sale.currency || minor === null || minor <= 0) {
        return error(400, 'Request is not well-formed, syntactically incorrect, or violates schema.', [
          { issue: 'INVALID_PARAMETER_VALUE', description: 'amount must be a positive total in the sale currency.' },
        ]);
      }
      if (minor > remaining) {
        return error(400, 'Refund amount exceeds the amount that can be refunded.', [
          {
            issue: 'REFUND_AMOUNT_EXCEEDED',
            description: `At most ${minorToPayPalAmount(remaining, sale.currency)} can be refunded.`,
          },
        ]);
      }
      amount = minor;
    }
    sale.refunded += amount;
    sale.status = sale.refunded >= sale.amount ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    const now = new Date().toISOString();
    return {
      status: 201,
      body: {
        id: nextId('REFUND'),
        state: 'completed',
        amount: { total: minorToPayPalAmount(amount, sale.currency), currency: sale.currency },
        sale_id: sale.id,
        create_time: now,
        update_time: now,
      },
    };
  }

  const server = createServer((req, res) => {
    void serve(req, res);
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    let body: unknown = null;
    if (rawBody && (headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = null;
      }
    }
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      rawBody,
    };
    requests.push(recorded);
    let reply: Reply;
    try {
      reply = handle(recorded);
    } catch (caught) {
      reply = error(500, caught instanceof Error ? caught.message : 'sandbox error');
    }
    if (reply.body === null) {
      res.writeHead(reply.status).end();
    } else {
      const payload = JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
      res.end(payload);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    clientId,
    clientSecret,
    subscriptions,
    addSubscription,
    setFailure(next) {
      failure = next;
    },
    revokeTokens() {
      tokens.clear();
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Webhook signing material

export interface SigningMaterialOptions {
  /** Default `messageverificationcerts.paypal.com`, the name PayPal's real signing certificate carries. */
  commonName?: string;
  /** Default: an hour ago. */
  notBefore?: Date;
  /** Default: a year from now. */
  notAfter?: Date;
  /** Big-endian, non-negative; default 16 random bytes. Leading zero bytes are allowed (DER drops them). */
  serialNumber?: Uint8Array;
}

/**
 * An RSA-2048 key pair and a self-signed X.509 certificate for it, in pure Node (no openssl CLI): the
 * certificate's DER is assembled by ./der.ts and signed with sha256WithRSAEncryption.
 */
export function generatePayPalSigningMaterial(options: SigningMaterialOptions = {}): {
  privateKeyPem: string;
  certificatePem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const name = sequence(
    set(sequence(oid('2.5.4.3'), utf8String(options.commonName ?? 'messageverificationcerts.paypal.com'))),
  );
  const sha256WithRsa = sequence(oid('1.2.840.113549.1.1.11'), DER_NULL);
  const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
  const tbs = sequence(
    der(0xa0, unsignedInteger(Buffer.from([2]))), // v3
    unsignedInteger(options.serialNumber ?? randomSerialNumber()),
    sha256WithRsa,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, sha256WithRsa, bitString(signature));
  const base64 = certificate
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`,
  };
}

/**
 * 16 random bytes, never all zero (RFC 5280 §4.1.2.2: a positive integer of at most 20 octets; 16 random
 * bytes encode in at most 17). Any first byte is fine, 0x00 included: the encoder makes it minimal.
 */
function randomSerialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[serial.length - 1]! |= 0x01;
  return serial;
}

/** PayPal's webhook signature: base64 SHA256withRSA over `transmissionId|transmissionTime|webhookId|crc32(body)`. */
export function signPayPalWebhook(input: {
  privateKeyPem: string;
  transmissionId: string;
  transmissionTime: string;
  webhookId: string;
  rawBody: string;
}): string {
  const message = `${input.transmissionId}|${input.transmissionTime}|${input.webhookId}|${crc32(input.rawBody)}`;
  return createSign('RSA-SHA256').update(message).sign(input.privateKeyPem, 'base64');
}

/** The full header set of a signed delivery (lower-case names), as a local sender or a test posts it. */
export function payPalWebhookHeaders(input: {
  privateKeyPem: string;
  webhookId: string;
  rawBody: string;
  transmissionId?: string;
  /** ISO-8601; default now. */
  transmissionTime?: string;
  certUrl?: string;
}): Record<string, string> {
  const transmissionId = input.transmissionId ?? randomBytes(16).toString('hex');
  const transmissionTime = input.transmissionTime ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'paypal-transmission-id': transmissionId,
    'paypal-transmission-time': transmissionTime,
    'paypal-transmission-sig': signPayPalWebhook({ ...input, transmissionId, transmissionTime }),
    'paypal-cert-url': input.certUrl ?? 'https://api.sandbox.paypal.com/v1/notifications/certs/CERT-LOCAL',
    'paypal-auth-algo': 'SHA256withRSA',
    'content-type': 'application/json',
  };
}
