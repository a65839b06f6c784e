import Stripe from 'stripe';
import type { SubscriptionState } from '../domain/processor-events.ts';
import type { CancelWhen, Instant, Purchase, RefundablePayment } from '../domain/types.ts';
import { type BillingProcessor, ProcessorError, type ProcessorRefund, retryAfterMs } from '../ports/processor.ts';
import { stripeSubscription } from './stripe-payload.ts';
import { subscriptionState } from './stripe-webhook.ts';

export interface StripeClientOptions {
  secretKey: string;
  /**
   * Where the API lives, e.g. `http://127.0.0.1:12111` for the local sandbox (infra/local/stripe-sandbox.ts).
   * Defaults to https://api.stripe.com. Only scheme, host and port are used: the SDK always adds `/v1/…`.
   */
  apiBase?: string;
}

/**
 * Retries: the SDK retries connection errors, 409 and 5xx (never other 4xx) with backoff, sending the same
 * Idempotency-Key, so a retry never acts twice. Timeout: a Stripe call normally takes well under a second;
 * 8 s × (1 + 2 retries) still fits in API Gateway's 29 s limit, which the SDK's 80 s default would not.
 */
const MAX_NETWORK_RETRIES = 2;
const TIMEOUT_MS = 8_000;

/** A Stripe client for the adapter below, optionally pointed at another API base (the local sandbox). */
export function stripeClient(options: StripeClientOptions): Stripe {
  if (!options.secretKey?.trim()) throw new Error('stripeClient: secretKey is required');
  const config: Stripe.StripeConfig = {
    maxNetworkRetries: MAX_NETWORK_RETRIES,
    timeout: TIMEOUT_MS,
    appInfo: { name: 'membergate' },
  };
  if (options.apiBase) {
    const url = new URL(options.apiBase);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`stripeClient: apiBase must be an http(s) URL, got ${options.apiBase}`);
    }
    if (url.pathname !== '/' || url.search) {
      throw new Error(`stripeClient: apiBase takes no path (the SDK adds /v1/), got ${options.apiBase}`);
    }
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    config.protocol = protocol;
    // `hostname` keeps the brackets of an IPv6 literal, which Node's http.request does not accept.
    config.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    config.port = url.port || (protocol === 'https' ? 443 : 80);
  }
  return new Stripe(options.secretKey, config);
}

export interface StripeProcessorOptions {
  stripe: Stripe;
  /** `native` when this is the platform's own Stripe account (DESIGN.md rule 9); named in errors. */
  processor?: 'stripe' | 'native';
}

/**
 * Stripe adapter of the BillingProcessor port (DESIGN.md rules 4, 5, 7, 9, 12): `now` cancels the
 * subscription, `period_end` sets `cancel_at_period_end`, `date` sets `cancel_at`, stop clears both; pause
 * uses `pause_collection` (behavior `void`: no invoices are collected while paused, access continues).
 * Every mutating call carries the caller's idempotency key. Stripe failures become ProcessorError.
 */
export function createStripeProcessor(options: StripeProcessorOptions): BillingProcessor {
  const { stripe } = options;
  const processor = options.processor ?? 'stripe';

  const subscriptionIdOf = (purchase: Purchase): string => {
    if (!purchase.processorSubscriptionId) {
      throw new ProcessorError(processor, `purchase ${purchase.purchaseId} has no Stripe subscription id`);
    }
    return purchase.processorSubscriptionId;
  };

  /** Runs one Stripe call; any Stripe failure (API error, connection, timeout) becomes a ProcessorError. */
  const call = async <T>(what: string, action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      throw toProcessorError(processor, what, error);
    }
  };

  /**
   * Request options of every call for `purchase`: Stripe Connect acts on the site's connected account with the
   * platform's key plus `Stripe-Account` (rule 17); `native` and legacy purchases have no account.
   */
  const on = (purchase: Purchase, key?: string): Stripe.RequestOptions => ({
    ...(purchase.processorAccount ? { stripeAccount: purchase.processorAccount } : {}),
    ...(key ? { idempotencyKey: key } : {}),
  });

  const update = async (purchase: Purchase, params: Stripe.SubscriptionUpdateParams, key: string, what: string) => {
    const id = subscriptionIdOf(purchase);
    await call(what, () => stripe.subscriptions.update(id, params, on(purchase, key)));
  };

  /**
   * The latest paid invoice's payment: its PaymentIntent (or charge) and the amount the invoice collected. A
   * read, so no idempotency key (Stripe ignores it on GET). `payments` is an includable field of the invoice
   * (API 2025-03-31 basil removed `invoice.charge` / `invoice.payment_intent`), hence the expand. What was
   * already refunded of it is membergate's own count; Stripe's `amount_too_large` guards the rest.
   */
  const paymentToRefund = async (purchase: Purchase): Promise<RefundablePayment | null> => {
    const id = subscriptionIdOf(purchase);
    const invoices = await call('find the latest paid invoice', () =>
      stripe.invoices.list({ subscription: id, status: 'paid', limit: 1, expand: ['data.payments'] }, on(purchase)),
    );
    const invoice = invoices.data[0];
    if (!invoice) return null;
    const target = refundTarget(invoice);
    if (!target) return null;
    const paymentId = 'payment_intent' in target ? target.payment_intent : target.charge;
    return { paymentId, amount: invoice.amount_paid, currency: invoice.currency, refunded: null };
  };

  return {
    schedulesCancellation: true,

    async cancelNow(purchase, key) {
      const id = subscriptionIdOf(purchase);
      try {
        // Stripe ignores Idempotency-Key on DELETE; sent anyway so the request is traceable by it.
        await stripe.subscriptions.cancel(id, {}, on(purchase, key));
      } catch (error) {
        // A retried command (or a cancel made in Stripe's dashboard first) meets an already canceled
        // subscription, which Stripe answers "No such subscription" (404). That is the desired end state.
        if (isStripeError(error) && error.statusCode === 404 && (await isCanceled(stripe, id, on(purchase)))) return;
        throw toProcessorError(processor, 'cancel subscription', error);
      }
    },

    async scheduleCancellation(purchase, when: Exclude<CancelWhen, 'now'>, at: Instant, key) {
      const params: Stripe.SubscriptionUpdateParams =
        when === 'period_end' ? { cancel_at_period_end: true } : { cancel_at: unixSeconds(at) };
      await update(purchase, params, key, 'schedule cancellation');
    },

    async stopCancellation(purchase, key) {
      // Clear both ways a cancellation can be scheduled (ours, or one made in Stripe's dashboard).
      // `''` unsets a parameter in Stripe's form encoding (the SDK types it as `Emptyable`).
      await update(purchase, { cancel_at_period_end: false, cancel_at: '' }, key, 'stop cancellation');
    },

    async pause(purchase, resumesAt, key) {
      const pauseCollection: Stripe.SubscriptionUpdateParams.PauseCollection = { behavior: 'void' };
      if (resumesAt !== null) pauseCollection.resumes_at = unixSeconds(resumesAt);
      await update(purchase, { pause_collection: pauseCollection }, key, 'pause collection');
    },

    async unpause(purchase, key) {
      await update(purchase, { pause_collection: '' }, key, 'resume collection');
    },

    paymentToRefund,

    async refund(purchase, amount, key, known): Promise<ProcessorRefund> {
      const id = subscriptionIdOf(purchase);
      const payment = known ?? (await paymentToRefund(purchase));
      if (!payment) throw new ProcessorError(processor, `subscription ${id} has no paid invoice to refund`);
      const params: Stripe.RefundCreateParams = {
        ...(payment.paymentId.startsWith('ch_')
          ? { charge: payment.paymentId }
          : { payment_intent: payment.paymentId }),
        // The refunded charge carries no link to the subscription in current API versions; the refund does.
        metadata: { siteId: purchase.siteId, purchaseId: purchase.purchaseId, subscriptionId: id },
      };
      if (amount !== null) params.amount = amount;
      const refund = await call('refund', () => stripe.refunds.create(params, on(purchase, key)));
      return { processorRefundId: refund.id, amount: refund.amount, currency: refund.currency };
    },

    /**
     * GET /v1/subscriptions/{id} on the purchase's account, normalised by the webhook translator's own rules
     * (current API versions carry `current_period_end` on the items). No SDK retries: the reconciliation
     * paces its reads and retries a 429 itself, honouring Retry-After (processor-throttle.ts).
     */
    async fetchSubscription(purchase): Promise<SubscriptionState | null> {
      const id = subscriptionIdOf(purchase);
      let subscription: Stripe.Subscription;
      try {
        subscription = await stripe.subscriptions.retrieve(id, {}, { ...on(purchase), maxNetworkRetries: 0 });
      } catch (error) {
        if (isStripeError(error) && error.statusCode === 404) return null;
        throw toProcessorError(processor, 'read subscription', error);
      }
      const parsed = stripeSubscription.safeParse(subscription);
      if (!parsed.success) throw new ProcessorError(processor, `subscription ${id} is not shaped as expected`);
      return subscriptionState(parsed.data, false);
    },
  };
}

/**
 * The payment of an invoice: its paid InvoicePayment's PaymentIntent (or charge, for charges made without
 * one), else the fields of API versions before basil, which a client pinned to an older version returns.
 */
function refundTarget(invoice: Stripe.Invoice): { payment_intent: string } | { charge: string } | null {
  const payments = invoice.payments?.data ?? [];
  const payment = payments.find((p) => p.status === 'paid') ?? payments[0];
  const paymentIntent = idOf(payment?.payment.payment_intent);
  if (paymentIntent) return { payment_intent: paymentIntent };
  const charge = idOf(payment?.payment.charge);
  if (charge) return { charge };
  const legacyIntent = idOf(Reflect.get(invoice, 'payment_intent'));
  if (legacyIntent) return { payment_intent: legacyIntent };
  const legacyCharge = idOf(Reflect.get(invoice, 'charge'));
  return legacyCharge ? { charge: legacyCharge } : null;
}

function idOf(value: unknown): string | null {
  if (typeof value === 'string' && value) return value;
  if (typeof value === 'object' && value !== null && 'id' in value && typeof value.id === 'string') return value.id;
  return null;
}

async function isCanceled(stripe: Stripe, id: string, options: Stripe.RequestOptions): Promise<boolean> {
  try {
    const subscription = await stripe.subscriptions.retrieve(id, {}, options);
    return subscription.status === 'canceled' || subscription.status === 'incomplete_expired';
  } catch {
    return false;
  }
}

function isStripeError(error: unknown): error is Stripe.errors.StripeError {
  return error instanceof Stripe.errors.StripeError;
}

function toProcessorError(processor: 'stripe' | 'native', what: string, error: unknown): Error {
  if (error instanceof ProcessorError) return error;
  if (isStripeError(error)) {
    const detail = error.code ? ` (${error.code})` : '';
    const headers = (error.headers ?? {}) as Record<string, string | undefined>;
    return new ProcessorError(
      processor,
      `${what} failed: ${error.message}${detail}`,
      error.statusCode,
      { code: error.code ?? null, param: error.param ?? null },
      retryAfterMs(headers['retry-after']),
    );
  }
  // Not from Stripe: a bug on our side, not the processor refusing; let it surface as such.
  return error instanceof Error ? error : new Error(String(error));
}

/** Stripe timestamps are whole Unix seconds; round up so a cancellation never lands before its instant. */
function unixSeconds(instant: Instant): number {
  return Math.ceil(Date.parse(instant) / 1000);
}
