import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the parts of Stripe's API that membergate calls (shared/adapters/stripe.ts), so `npm start`
 * and the tests can make real SDK calls with no network: update and cancel a subscription, retrieve it, list
 * a subscription's paid invoices, create a refund. It speaks Stripe's wire format (form-encoded requests with
 * bracketed keys, JSON objects shaped like the API's, Stripe's error envelope), remembers every subscription
 * it has seen so that responses reflect earlier updates, and honours Idempotency-Key on POST like Stripe:
 * the same key with the same request replays the first response without acting again.
 *
 * Any `sub_…` id is accepted: a subscription seen for the first time is active, with a 30-day period that
 * started when it was first seen, one paid invoice of 20.00 USD, and no metadata — unless the subscription
 * was first reported by a webhook (`observe`, called by the local runtime for every event it delivers): then
 * it bills what that subscription object says (its item's price × quantity, currency, period, metadata), as
 * Stripe's own state and its webhooks would agree.
 */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/subscriptions/sub_123`. */
  path: string;
  /** The decoded query string (GET), flat keys as sent: `expand[0]`. */
  query: Record<string, string>;
  headers: {
    authorization: string | null;
    'idempotency-key': string | null;
    'stripe-version': string | null;
    'content-type': string | null;
    /** The connected account the call acts on (Stripe Connect), null for the platform's own account. */
    'stripe-account': string | null;
  };
  /** The decoded form body, flat keys as sent: `pause_collection[behavior]` → `void`, `cancel_at` → ``. */
  form: Record<string, string>;
  /** The status the sandbox answered. */
  status: number;
}

export interface StripeSandbox {
  /** The API base, e.g. `http://127.0.0.1:53211`: pass it as `apiBase` to stripeClient(). */
  url: string;
  /** Every request received, oldest first (replays and injected failures included). */
  requests: RecordedRequest[];
  stop(): Promise<void>;
  /** Answer every request with this error until called with null (402 → card_error, 5xx → api_error, …). */
  setFailure(next: { status: number; message: string } | null): void;
  /**
   * Takes a subscription object from a Stripe event as this account's state, if the sandbox has not seen the
   * subscription yet (what a webhook reports is what Stripe bills). Anything that is not one is ignored.
   */
  observe(subscription: unknown, account?: string | null): void;
}

const PERIOD_SECONDS = 30 * 86_400;
const PRICE_AMOUNT = 2000;
const CURRENCY = 'usd';
const MAX_BODY_BYTES = 1_000_000;

type Json = Record<string, unknown>;
type Form = Record<string, string>;

interface SandboxSubscription {
  id: string;
  /** The account holding it (`acct_…`), or null for the platform's own account: other accounts cannot see it. */
  account: string | null;
  itemId: string;
  customer: string;
  created: number;
  status: 'active' | 'canceled';
  periodStart: number;
  periodEnd: number;
  cancelAt: number | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: number | null;
  pauseCollection: { behavior: string; resumes_at: number | null } | null;
  metadata: Record<string, string>;
  invoice: SandboxInvoice;
  /** What each period bills, in minor units, and in which currency. */
  amount: number;
  currency: string;
}

interface SandboxInvoice {
  id: string;
  lineId: string;
  paymentId: string;
  paymentIntent: string;
  charge: string;
  amountPaid: number;
  refunded: number;
}

/** What a webhook's subscription object says the subscription bills. */
interface ObservedSubscription {
  id: string;
  amount: number;
  currency: string;
  created: number | undefined;
  periodStart: number | undefined;
  periodEnd: number | undefined;
  metadata: Record<string, string>;
}

function observedSubscription(value: unknown): ObservedSubscription | null {
  const object = value as Json | null;
  if (typeof object !== 'object' || object === null || object.object !== 'subscription') return null;
  if (typeof object.id !== 'string' || !/^[A-Za-z0-9_]+$/.test(object.id)) return null;
  const items = (object.items as Json | undefined)?.data;
  const item = (Array.isArray(items) ? items[0] : undefined) as Json | undefined;
  const price = (item?.price ?? item?.plan) as Json | undefined;
  const unitAmount = price?.unit_amount ?? price?.amount;
  const quantity = typeof item?.quantity === 'number' ? item.quantity : 1;
  if (typeof unitAmount !== 'number' || !Number.isSafeInteger(unitAmount * quantity) || unitAmount < 0) return null;
  const seconds = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
  const metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries((object.metadata as Json | undefined) ?? {})) {
    if (typeof v === 'string') metadata[name] = v;
  }
  return {
    id: object.id,
    amount: unitAmount * quantity,
    currency: typeof price?.currency === 'string' ? price.currency : CURRENCY,
    created: seconds(object.created),
    periodStart: seconds(item?.current_period_start),
    periodEnd: seconds(item?.current_period_end),
    metadata,
  };
}

interface Reply {
  status: number;
  body: Json;
}

class StripeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

export async function startStripeSandbox(options: { port?: number } = {}): Promise<StripeSandbox> {
  const requests: RecordedRequest[] = [];
  const subscriptions = new Map<string, SandboxSubscription>();
  const idempotent = new Map<string, { method: string; path: string; params: string; reply: Reply }>();
  let failure: { status: number; message: string } | null = null;
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}_sandbox${String(++counter).padStart(6, '0')}`;
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  /**
   * The subscription `id` as `account` sees it. Stripe ids are unique across accounts, and a subscription of
   * another account is "No such subscription" (404) to this one, as with Stripe Connect.
   */
  const subscriptionFor = (
    id: string,
    account: string | null,
    observed?: ObservedSubscription,
  ): SandboxSubscription => {
    const known = subscriptions.get(id);
    if (known) {
      if (known.account !== account) throw noSuch('subscription', id);
      return known;
    }
    const now = nowSeconds();
    const amount = observed?.amount ?? PRICE_AMOUNT;
    const created: SandboxSubscription = {
      id,
      account,
      itemId: nextId('si'),
      customer: nextId('cus'),
      created: observed?.created ?? now,
      status: 'active',
      periodStart: observed?.periodStart ?? now,
      periodEnd: observed?.periodEnd ?? now + PERIOD_SECONDS,
      cancelAt: null,
      cancelAtPeriodEnd: false,
      canceledAt: null,
      pauseCollection: null,
      metadata: observed?.metadata ?? {},
      amount,
      currency: observed?.currency ?? CURRENCY,
      invoice: {
        id: nextId('in'),
        lineId: nextId('il'),
        paymentId: nextId('inpay'),
        paymentIntent: nextId('pi'),
        charge: nextId('ch'),
        amountPaid: amount,
        refunded: 0,
      },
    };
    subscriptions.set(id, created);
    return created;
  };

  const route = (method: string, path: string, query: Form, form: Form, account: string | null): Reply => {
    const subscriptionPath = /^\/v1\/subscriptions\/([A-Za-z0-9_]+)$/.exec(path);
    if (subscriptionPath?.[1]) {
      const id = subscriptionPath[1];
      if (method === 'GET') return ok(subscriptionJson(subscriptionFor(id, account)));
      if (method === 'POST') {
        return ok(subscriptionJson(updateSubscription(subscriptionFor(id, account), form, nowSeconds())));
      }
      if (method === 'DELETE') {
        const subscription = subscriptionFor(id, account);
        // Stripe treats a canceled subscription as deleted: canceling it again is "No such subscription".
        if (subscription.status === 'canceled') throw noSuch('subscription', id);
        subscription.status = 'canceled';
        subscription.canceledAt = nowSeconds();
        return ok(subscriptionJson(subscription));
      }
    }
    if (path === '/v1/invoices' && method === 'GET') return ok(listInvoices(query, account));
    if (path === '/v1/refunds' && method === 'POST') return ok(createRefund(form, account));
    throw new StripeApiError(
      404,
      `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    );
  };

  const listInvoices = (query: Form, account: string | null): Json => {
    const wanted = query.subscription
      ? [subscriptionFor(query.subscription, account)]
      : [...subscriptions.values()].filter((s) => s.account === account);
    const status = query.status;
    const expandPayments = Object.entries(query).some(
      ([key, value]) => key.startsWith('expand[') && value === 'data.payments',
    );
    const limit = query.limit ? Number(query.limit) : 10;
    const data = status && status !== 'paid' ? [] : wanted.map((s) => invoiceJson(s, expandPayments)).slice(0, limit);
    return { object: 'list', data, has_more: false, url: '/v1/invoices' };
  };

  const createRefund = (form: Form, account: string | null): Json => {
    const by = form.payment_intent ? 'payment_intent' : form.charge ? 'charge' : null;
    if (!by)
      throw new StripeApiError(
        400,
        'One of the following params should be provided for this request: payment_intent or charge.',
        'parameter_missing',
      );
    const ref = form[by] ?? '';
    const subscription = [...subscriptions.values()].find(
      (s) =>
        s.account === account && (by === 'payment_intent' ? s.invoice.paymentIntent === ref : s.invoice.charge === ref),
    );
    if (!subscription) throw noSuch(by, ref);
    const invoice = subscription.invoice;
    const remaining = invoice.amountPaid - invoice.refunded;
    if (remaining <= 0)
      throw new StripeApiError(400, `Charge ${invoice.charge} has already been refunded.`, 'charge_already_refunded');
    const amount = form.amount === undefined ? remaining : Number(form.amount);
    if (!Number.isInteger(amount) || amount <= 0) {
      throw new StripeApiError(400, 'Invalid positive integer', 'parameter_invalid_integer', 'amount');
    }
    if (amount > remaining) {
      throw new StripeApiError(
        400,
        `Refund amount ($${(amount / 100).toFixed(2)}) is greater than unrefunded amount on charge ($${(remaining / 100).toFixed(2)})`,
        'amount_too_large',
        'amount',
      );
    }
    invoice.refunded += amount;
    return {
      id: nextId('re'),
      object: 'refund',
      amount,
      balance_transaction: null,
      charge: invoice.charge,
      created: nowSeconds(),
      currency: subscription.currency,
      metadata: nested(form, 'metadata') ?? {},
      payment_intent: invoice.paymentIntent,
      reason: null,
      receipt_number: null,
      status: 'succeeded',
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : null;
    };
    const key = header('idempotency-key');
    const account = header('stripe-account');
    let form: Form = {};
    let reply: Reply;
    let replayed = false;
    try {
      const body = await readBody(req);
      form = Object.fromEntries(new URLSearchParams(body));
      if (failure) throw new StripeApiError(failure.status, failure.message);
      if (!/^Bearer \S+$/.test(header('authorization') ?? '')) {
        throw new StripeApiError(
          401,
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        );
      }
      // Stripe applies idempotency to POST only (GET and DELETE are idempotent by definition).
      const params = JSON.stringify(Object.entries(form).sort(([a], [b]) => a.localeCompare(b)));
      // Stripe scopes idempotency keys per account.
      const scopedKey = key ? `${account ?? 'platform'}:${key}` : null;
      const earlier = method === 'POST' && scopedKey ? idempotent.get(scopedKey) : undefined;
      if (earlier) {
        if (earlier.method !== method || earlier.path !== path || earlier.params !== params) {
          throw new StripeApiError(
            400,
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            'idempotency_key_in_use',
          );
        }
        reply = earlier.reply;
        replayed = true;
      } else {
        reply = route(method, path, query, form, account);
        if (method === 'POST' && scopedKey) idempotent.set(scopedKey, { method, path, params, reply });
      }
    } catch (error) {
      reply = errorReply(error);
    }
    requests.push({
      method,
      path,
      query,
      headers: {
        authorization: header('authorization'),
        'idempotency-key': key,
        'stripe-version': header('stripe-version'),
        'content-type': header('content-type'),
        'stripe-account': account,
      },
      form,
      status: reply.status,
    });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'request-id': `req_sandbox${String(requests.length).padStart(6, '0')}`,
    };
    if (key) headers['idempotency-key'] = key;
    if (replayed) headers['idempotent-replayed'] = 'true';
    const version = header('stripe-version');
    if (version) headers['stripe-version'] = version;
    res.writeHead(reply.status, headers).end(JSON.stringify(reply.body));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'api_error', message: 'sandbox failure' } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    observe(subscription, account = null) {
      const observed = observedSubscription(subscription);
      if (!observed) return;
      try {
        subscriptionFor(observed.id, account, observed);
      } catch {
        // Already known under another account: an event of one account never rewrites another's state.
      }
    },
    setFailure(next) {
      failure = next;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; close them so `close` does not wait for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

/** Applies an update the way Stripe does for the parameters membergate sends; others are ignored. */
function updateSubscription(subscription: SandboxSubscription, form: Form, now: number): SandboxSubscription {
  const touched = Object.keys(form).filter((key) => !key.startsWith('metadata') && !key.startsWith('expand'));
  if (subscription.status === 'canceled' && touched.length > 0) {
    throw new StripeApiError(400, 'A canceled subscription can only update its cancellation_details and metadata.');
  }
  if ('cancel_at' in form) {
    const value = form.cancel_at ?? '';
    if (value === '') subscription.cancelAt = null;
    else {
      const at = Number(value);
      if (!Number.isInteger(at)) {
        throw new StripeApiError(400, `Invalid integer: ${value}`, 'parameter_invalid_integer', 'cancel_at');
      }
      if (at <= now) {
        throw new StripeApiError(400, 'cancel_at must be in the future.', 'parameter_invalid_integer', 'cancel_at');
      }
      subscription.cancelAt = at;
      subscription.cancelAtPeriodEnd = false;
    }
  }
  if ('cancel_at_period_end' in form) {
    const atPeriodEnd = form.cancel_at_period_end === 'true';
    // Current API versions report the resolved instant in `cancel_at` as well.
    if (atPeriodEnd) subscription.cancelAt = subscription.periodEnd;
    else if (!('cancel_at' in form) && subscription.cancelAtPeriodEnd) subscription.cancelAt = null;
    subscription.cancelAtPeriodEnd = atPeriodEnd;
  }
  if ('pause_collection' in form && form.pause_collection === '') subscription.pauseCollection = null;
  const pause = nested(form, 'pause_collection');
  if (pause) {
    const behavior = pause.behavior;
    if (behavior !== 'void' && behavior !== 'keep_as_draft' && behavior !== 'mark_uncollectible') {
      throw new StripeApiError(
        400,
        `Invalid pause_collection[behavior]: ${behavior ?? '(missing)'}`,
        'parameter_invalid_empty',
        'pause_collection[behavior]',
      );
    }
    const resumesAt = pause.resumes_at ? Number(pause.resumes_at) : null;
    subscription.pauseCollection = { behavior, resumes_at: resumesAt };
  }
  if ('metadata' in form && form.metadata === '') subscription.metadata = {};
  for (const [key, value] of Object.entries(nested(form, 'metadata') ?? {})) {
    if (value === '') delete subscription.metadata[key];
    else subscription.metadata[key] = value;
  }
  return subscription;
}

function subscriptionJson(s: SandboxSubscription): Json {
  return {
    id: s.id,
    object: 'subscription',
    application: null,
    billing_cycle_anchor: s.periodStart,
    billing_mode: { type: 'classic' },
    cancel_at: s.cancelAt,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt,
    cancellation_details: { comment: null, feedback: null, reason: s.canceledAt ? 'cancellation_requested' : null },
    collection_method: 'charge_automatically',
    created: s.created,
    currency: s.currency,
    customer: s.customer,
    ended_at: s.status === 'canceled' ? s.canceledAt : null,
    items: {
      object: 'list',
      data: [
        {
          id: s.itemId,
          object: 'subscription_item',
          created: s.created,
          current_period_start: s.periodStart,
          current_period_end: s.periodEnd,
          metadata: {},
          price: priceJson(s),
          quantity: 1,
          subscription: s.id,
          tax_rates: [],
        },
      ],
      has_more: false,
      url: `/v1/subscription_items?subscription=${s.id}`,
    },
    latest_invoice: s.invoice.id,
    livemode: false,
    metadata: { ...s.metadata },
    pause_collection: s.pauseCollection ? { ...s.pauseCollection } : null,
    start_date: s.created,
    status: s.status,
    trial_end: null,
    trial_start: null,
  };
}

function priceJson(s: SandboxSubscription): Json {
  return {
    id: 'price_sandbox',
    object: 'price',
    active: true,
    currency: s.currency,
    product: 'prod_sandbox',
    recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed' },
    type: 'recurring',
    unit_amount: s.amount,
    unit_amount_decimal: String(s.amount),
  };
}

function invoiceJson(s: SandboxSubscription, withPayments: boolean): Json {
  const invoice = s.invoice;
  const json: Json = {
    id: invoice.id,
    object: 'invoice',
    amount_due: invoice.amountPaid,
    amount_paid: invoice.amountPaid,
    amount_remaining: 0,
    billing_reason: 'subscription_create',
    collection_method: 'charge_automatically',
    created: s.periodStart,
    currency: s.currency,
    customer: s.customer,
    livemode: false,
    metadata: {},
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: { ...s.metadata }, subscription: s.id },
    },
    lines: {
      object: 'list',
      data: [
        {
          id: invoice.lineId,
          object: 'line_item',
          amount: invoice.amountPaid,
          currency: s.currency,
          description: '1 × membership (at $20.00 / month)',
          invoice: invoice.id,
          livemode: false,
          metadata: {},
          period: { start: s.periodStart, end: s.periodEnd },
          parent: {
            type: 'subscription_item_details',
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: null,
              proration: false,
              proration_details: { credited_items: null },
              subscription: s.id,
              subscription_item: s.itemId,
            },
          },
          quantity: 1,
        },
      ],
      has_more: false,
      url: `/v1/invoices/${invoice.id}/lines`,
    },
    period_start: s.periodStart,
    period_end: s.periodStart,
    status: 'paid',
    status_transitions: {
      finalized_at: s.periodStart,
      marked_uncollectible_at: null,
      paid_at: s.periodStart,
      voided_at: null,
    },
    subtotal: invoice.amountPaid,
    total: invoice.amountPaid,
  };
  if (withPayments) {
    json.payments = {
      object: 'list',
      data: [
        {
          id: invoice.paymentId,
          object: 'invoice_payment',
          amount_paid: invoice.amountPaid,
          amount_requested: invoice.amountPaid,
          created: s.periodStart,
          currency: s.currency,
          invoice: invoice.id,
          is_default: true,
          livemode: false,
          payment: { type: 'payment_intent', payment_intent: invoice.paymentIntent },
          status: 'paid',
          status_transitions: { canceled_at: null, paid_at: s.periodStart },
        },
      ],
      has_more: false,
      url: `/v1/invoice_payments?invoice=${invoice.id}`,
    };
  }
  return json;
}

/** `prefix[a]=1&prefix[b]=2` → `{a: '1', b: '2'}` (one level, which is all membergate sends). */
function nested(form: Form, prefix: string): Record<string, string> | null {
  const result: Record<string, string> = {};
  let found = false;
  for (const [key, value] of Object.entries(form)) {
    const match = /^([^[]+)\[([^\]]+)\]$/.exec(key);
    if (match?.[1] === prefix && match[2]) {
      result[match[2]] = value;
      found = true;
    }
  }
  return found ? result : null;
}

function ok(body: Json): Reply {
  return { status: 200, body };
}

function noSuch(what: string, id: string): StripeApiError {
  return new StripeApiError(404, `No such ${what}: '${id}'`, 'resource_missing', what === 'subscription' ? 'id' : what);
}

function errorReply(error: unknown): Reply {
  if (!(error instanceof StripeApiError)) {
    return { status: 500, body: { error: { type: 'api_error', message: 'sandbox failure' } } };
  }
  const type =
    error.status === 402
      ? 'card_error'
      : error.code === 'idempotency_key_in_use'
        ? 'idempotency_error'
        : error.status >= 500
          ? 'api_error'
          : 'invalid_request_error';
  const body: Json = { type, message: error.message };
  if (error.code) body.code = error.code;
  if (error.param) body.param = error.param;
  return { status: error.status, body: { error: body } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new StripeApiError(413, 'Request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
