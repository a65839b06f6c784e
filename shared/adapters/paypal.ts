import type { Purchase, RefundablePayment } from '../domain/types.ts';
import { type BillingProcessor, ProcessorError, type ProcessorRefund, retryAfterMs } from '../ports/processor.ts';
import { minorToPayPalAmount, payPalAmountToMinor, payPalSubscriptionState } from './paypal-codec.ts';

/**
 * PayPal adapter for the BillingProcessor port, over PayPal's REST API with global fetch (no SDK):
 * - OAuth2 client credentials (`POST /v1/oauth2/token`), the access token cached until shortly before it expires;
 * - Subscriptions v1: `POST /v1/billing/subscriptions/{id}/cancel | suspend | activate` (204 No Content);
 * - refunds: the subscription's latest captured payment (`GET /v1/billing/subscriptions/{id}/transactions`) is
 *   refunded with `POST /v1/payments/sale/{id}/refund`.
 * Every POST carries `PayPal-Request-Id: <key>`, PayPal's idempotency header, so a retried command never acts twice.
 *
 * PayPal cannot end a subscription at a future instant or resume a suspension by itself: `schedulesCancellation`
 * is false, so membergate keeps the timer and calls `cancelNow` when the cancellation takes effect (and `unpause`
 * when a pause with `resumesAt` ends).
 */
export interface PayPalProcessorOptions {
  /** `https://api-m.paypal.com`, `https://api-m.sandbox.paypal.com`, or the local sandbox's URL. */
  apiBase: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  /** For the transactions window and token expiry; defaults to the system clock. */
  now?: () => Date;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

/** A token is renewed this long before PayPal says it expires. */
const TOKEN_MARGIN_MS = 60_000;
/** How far back the latest payment of a subscription is looked for (PayPal billing cycles are at most a year). */
const REFUND_LOOKBACK_MS = 400 * 86_400_000;
/** PayPal's limit for `reason`. */
const REASON_MAX = 128;

type Json = Record<string, unknown>;

interface Token {
  value: string;
  expiresAt: number;
}

interface Answer {
  status: number;
  body: Json | null;
  /** `Retry-After` (a 429), in milliseconds. */
  retryAfterMs?: number | null;
}

export function createPayPalProcessor(options: PayPalProcessorOptions): BillingProcessor {
  const apiBase = options.apiBase.replace(/\/+$/, '');
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? 10_000;
  let token: Token | null = null;
  let pendingToken: Promise<Token> | null = null;

  async function send(url: string, init: RequestInit): Promise<Answer> {
    let response: Response;
    try {
      response = await doFetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new ProcessorError('paypal', `PayPal could not be reached: ${describe(error)}`);
    }
    const raw = await response.text().catch(() => '');
    let body: Json | null = null;
    if (raw) {
      try {
        body = record(JSON.parse(raw));
      } catch {
        body = null;
      }
    }
    return { status: response.status, body, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
  }

  async function fetchToken(): Promise<Token> {
    const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
    const answer = await send(`${apiBase}/v1/oauth2/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${basic}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: 'grant_type=client_credentials',
    });
    const value = text(answer.body?.access_token);
    if (answer.status !== 200 || !value) {
      throw new ProcessorError('paypal', `authentication failed: ${errorMessage(answer)}`, answer.status);
    }
    const lifetimeMs = (typeof answer.body?.expires_in === 'number' ? answer.body.expires_in : 0) * 1000;
    const margin = Math.min(TOKEN_MARGIN_MS, lifetimeMs / 2);
    return { value, expiresAt: now().getTime() + lifetimeMs - margin };
  }

  async function accessToken(): Promise<{ token: Token; fresh: boolean }> {
    if (token && token.expiresAt > now().getTime()) return { token, fresh: false };
    if (!pendingToken) {
      pendingToken = fetchToken().finally(() => {
        pendingToken = null;
      });
    }
    token = await pendingToken;
    return { token, fresh: true };
  }

  /**
   * An authenticated API call; a 401 with a cached token (revoked early) is retried once with a new token.
   * `merchant`: the site's merchant the platform's app acts for (rule 17), sent as `PayPal-Auth-Assertion`.
   */
  async function call(
    merchant: string | null | undefined,
    method: 'GET' | 'POST',
    path: string,
    body?: Json,
    requestId?: string,
  ): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      const current = await accessToken();
      const headers: Record<string, string> = {
        Authorization: `Bearer ${current.token.value}`,
        Accept: 'application/json',
      };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (requestId) headers['PayPal-Request-Id'] = requestId;
      if (merchant) headers['PayPal-Auth-Assertion'] = payPalAuthAssertion(options.clientId, merchant);
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = JSON.stringify(body);
      const answer = await send(`${apiBase}${path}`, init);
      if (answer.status === 401 && !current.fresh && attempt === 0) {
        token = null;
        continue;
      }
      return answer;
    }
  }

  function fail(answer: Answer, what: string): never {
    throw new ProcessorError(
      'paypal',
      `${what} failed: ${errorMessage(answer)}`,
      answer.status,
      errorReason(answer),
      answer.retryAfterMs ?? null,
    );
  }

  /**
   * cancel / suspend / activate. PayPal answers 422 when the subscription is already in the target state (for
   * example canceled in PayPal before membergate's timer fired): the goal is met, so that is success.
   */
  async function transition(
    purchase: Purchase,
    action: 'cancel' | 'suspend' | 'activate',
    reason: string,
    key: string,
  ): Promise<void> {
    const id = subscriptionId(purchase);
    const base = `/v1/billing/subscriptions/${encodeURIComponent(id)}`;
    const merchant = purchase.processorAccount;
    const answer = await call(merchant, 'POST', `${base}/${action}`, { reason: reason.slice(0, REASON_MAX) }, key);
    if (answer.status >= 200 && answer.status < 300) return;
    if (answer.status === 422) {
      const current = await call(merchant, 'GET', base);
      const status = text(current.body?.status);
      const reached = { cancel: ['CANCELLED', 'EXPIRED'], suspend: ['SUSPENDED'], activate: ['ACTIVE'] }[action];
      if (current.status === 200 && status && reached.includes(status)) return;
    }
    fail(answer, `${action} subscription ${id}`);
  }

  async function latestPayment(id: string, purchase: Purchase) {
    const end = now();
    let start = end.getTime() - REFUND_LOOKBACK_MS;
    const periodStart = purchase.currentPeriodStart ? Date.parse(purchase.currentPeriodStart) : Number.NaN;
    if (!Number.isNaN(periodStart)) start = Math.min(start, periodStart - 86_400_000);
    const query = new URLSearchParams({
      start_time: new Date(start).toISOString(),
      end_time: end.toISOString(),
    });
    const answer = await call(
      purchase.processorAccount,
      'GET',
      `/v1/billing/subscriptions/${encodeURIComponent(id)}/transactions?${query}`,
    );
    if (answer.status !== 200) fail(answer, `list transactions of ${id}`);
    const transactions = Array.isArray(answer.body?.transactions) ? answer.body.transactions : [];
    let latest: { id: string; time: string; currency: string; gross: string } | null = null;
    for (const item of transactions) {
      const transaction = record(item);
      const status = text(transaction?.status);
      const transactionId = text(transaction?.id);
      const gross = record(record(transaction?.amount_with_breakdown)?.gross_amount);
      const currency = text(gross?.currency_code);
      const value = text(gross?.value);
      // A partly refunded payment can still be refunded (up to what is left).
      if (!transactionId || !currency || !value || (status !== 'COMPLETED' && status !== 'PARTIALLY_REFUNDED'))
        continue;
      const time = text(transaction?.time) ?? '';
      if (!latest || time >= latest.time) latest = { id: transactionId, time, currency, gross: value };
    }
    return latest;
  }

  async function paymentToRefund(purchase: Purchase): Promise<RefundablePayment | null> {
    const latest = await latestPayment(subscriptionId(purchase), purchase);
    if (!latest) return null;
    const currency = latest.currency.toLowerCase();
    const amount = payPalAmountToMinor(latest.gross, latest.currency);
    // PayPal's transaction list gives the gross amount but not what was refunded of it: membergate's own count.
    return amount === null ? null : { paymentId: latest.id, amount, currency, refunded: null };
  }

  return {
    schedulesCancellation: false,

    cancelNow: (purchase, key) => transition(purchase, 'cancel', 'Canceled by the merchant (membergate)', key),

    // PayPal cannot schedule a future cancellation: membergate keeps the timer and calls cancelNow when it fires.
    // Nothing to call now, and so nothing to undo when the cancellation is stopped.
    scheduleCancellation: async (purchase) => {
      subscriptionId(purchase);
    },
    stopCancellation: async (purchase) => {
      subscriptionId(purchase);
    },

    // PayPal suspends indefinitely; a `resumesAt` is kept by membergate's timer, which calls unpause.
    pause: (purchase, resumesAt, key) =>
      transition(
        purchase,
        'suspend',
        resumesAt ? `Paused by the merchant until ${resumesAt}` : 'Paused by the merchant',
        key,
      ),

    unpause: (purchase, key) => transition(purchase, 'activate', 'Resumed by the merchant', key),

    paymentToRefund,

    async refund(purchase, amount, key, known): Promise<ProcessorRefund> {
      const payment = known ?? (await paymentToRefund(purchase));
      if (!payment) {
        throw new ProcessorError(
          'paypal',
          `subscription ${subscriptionId(purchase)} has no completed payment to refund`,
        );
      }
      const currency = payment.currency.toUpperCase();
      const body: Json = amount === null ? {} : { amount: { total: minorToPayPalAmount(amount, currency), currency } };
      const sale = encodeURIComponent(payment.paymentId);
      const answer = await call(purchase.processorAccount, 'POST', `/v1/payments/sale/${sale}/refund`, body, key);
      if (answer.status < 200 || answer.status >= 300) fail(answer, `refund of payment ${payment.paymentId}`);
      const refunded = record(answer.body?.amount);
      const refundedCurrency = text(refunded?.currency) ?? currency;
      const refundedAmount = payPalAmountToMinor(refunded?.total, refundedCurrency) ?? amount ?? payment.amount;
      return {
        processorRefundId: text(answer.body?.id),
        amount: refundedAmount,
        currency: refundedCurrency.toLowerCase(),
      };
    },

    /**
     * GET /v1/billing/subscriptions/{id} acting for the purchase's merchant (`PayPal-Auth-Assertion`), normalised
     * by the webhook translator's own status mapping. 404: PayPal (or this merchant) has no such subscription.
     */
    async fetchSubscription(purchase) {
      const id = subscriptionId(purchase);
      const answer = await call(
        purchase.processorAccount,
        'GET',
        `/v1/billing/subscriptions/${encodeURIComponent(id)}`,
      );
      if (answer.status === 404) return null;
      if (answer.status !== 200) fail(answer, `read subscription ${id}`);
      const body = answer.body ?? {};
      const billing = record(body.billing_info);
      return payPalSubscriptionState(text(body.status), {
        start_time: text(body.start_time),
        billing_info: {
          next_billing_time: text(billing?.next_billing_time),
          last_payment: { time: text(record(billing?.last_payment)?.time) },
        },
      });
    },
  };
}

/**
 * Where a customer manages (and cancels) a PayPal subscription: PayPal's automatic-payments page for it. PayPal
 * offers no API for a customer-initiated cancellation, so membergate answers self-cancel with this (rule 8).
 */
export function payPalCancelRedirectUrl(subscriptionId: string, environment: 'live' | 'sandbox'): string {
  const host = environment === 'live' ? 'https://www.paypal.com' : 'https://www.sandbox.paypal.com';
  return `${host}/myaccount/autopay/connect/${encodeURIComponent(subscriptionId)}`;
}

function subscriptionId(purchase: Purchase): string {
  if (!purchase.processorSubscriptionId) {
    throw new ProcessorError('paypal', `purchase ${purchase.purchaseId} has no PayPal subscription id`);
  }
  return purchase.processorSubscriptionId;
}

function record(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/**
 * PayPal's error shapes: REST `{name, message, debug_id, details: [{issue, description}]}` and OAuth
 * `{error, error_description}`.
 */
function errorReason(answer: Answer): { code: string | null; param: string | null } {
  const body = answer.body;
  const detail = record(Array.isArray(body?.details) ? body.details[0] : null);
  return { code: text(detail?.issue) ?? text(body?.name) ?? text(body?.error), param: text(detail?.field) };
}

function errorMessage(answer: Answer): string {
  const body = answer.body;
  const detail = record(Array.isArray(body?.details) ? body.details[0] : null);
  const parts = [
    text(body?.name) ?? text(body?.error),
    text(body?.message) ?? text(body?.error_description),
    text(detail?.issue),
    text(detail?.description),
  ].filter((part): part is string => part !== null);
  const debugId = text(body?.debug_id);
  const message = parts.length > 0 ? parts.join(': ') : `HTTP ${answer.status}`;
  return debugId ? `${message} (debug_id ${debugId})` : message;
}

/**
 * PayPal's `PayPal-Auth-Assertion` for a platform acting for a merchant: an unsigned JWT (`alg: none`, empty
 * signature) whose claims name the platform's client id (`iss`) and the merchant (`payer_id`), as PayPal's
 * partner documentation builds it.
 */
export function payPalAuthAssertion(clientId: string, merchantId: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({ iss: clientId, payer_id: merchantId })}.`;
}
