import { InvalidInputError } from '../domain/errors.ts';
import type { IgnoredEvent, PaymentReport, ProcessorEvent, SubscriptionState } from '../domain/processor-events.ts';
import type { Instant } from '../domain/types.ts';
import type { WebhookTranslator } from '../ports/webhooks.ts';
import { parsePayPalCustomId, payPalSubscriptionState } from './paypal-codec.ts';
import { type PayPalSubscription, payPalEnvelope, payPalSaleEvent, payPalSubscriptionEvent } from './paypal-payload.ts';
import { createPayPalVerifier, type PayPalVerificationOptions } from './paypal-signature.ts';
import { readPayload } from './webhook-payload.ts';

/**
 * PayPal webhooks (POST /webhooks/paypal): verified (paypal-signature.ts), then translated into a ProcessorEvent.
 *
 * `custom_id`: membergate creates every PayPal subscription with `custom_id` = `${siteId}:${offerId}:${customerId}`
 * (paypal-codec.ts); that is how a webhook finds (or creates) its purchase, like Stripe's metadata.
 *
 * The payload is read with zod schemas of the parts used (paypal-payload.ts): a PayPal field out of shape (an id
 * over 255 characters, a time that is not a date or lands after 9999, an amount beyond a safe integer) is a 400
 * naming the field, and nothing is written.
 */
export type PayPalTranslatorOptions = PayPalVerificationOptions;

export function createPayPalTranslator(options: PayPalTranslatorOptions): WebhookTranslator {
  const verify = createPayPalVerifier(options);
  return {
    processor: 'paypal',
    async translate(rawBody, headers, now) {
      await verify(rawBody, headers, now);
      return translateEvent(parseJson(rawBody));
    },
  };
}

function parseJson(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new InvalidInputError('paypal webhook body is not JSON', [{ field: 'body', message: 'not JSON' }]);
  }
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

function translateEvent(body: unknown): ProcessorEvent | IgnoredEvent {
  const { id: eventId, event_type: type, resource } = readPayload('paypal', payPalEnvelope, body);
  const ignore = (reason: string): IgnoredEvent => ({ ignored: true, processor: 'paypal', eventId, type, reason });
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    return ignore('event has no resource');
  }

  if (SUBSCRIPTION_EVENTS.has(type)) {
    const event = readPayload('paypal', payPalSubscriptionEvent, body);
    const subscriptionResource = event.resource;
    const subscriptionId = subscriptionResource.id;
    if (!subscriptionId) return ignore('subscription resource has no id');
    const subscription = subscriptionState(type, subscriptionResource);
    if (!subscription) return ignore(`subscription status ${String(subscriptionResource.status)} has no meaning here`);
    const link = parsePayPalCustomId(subscriptionResource.custom_id);
    return {
      processor: 'paypal',
      eventId,
      type,
      occurredAt: occurredAt(eventId, type, event.create_time, subscriptionResource),
      subscriptionId,
      siteId: link?.siteId ?? null,
      link: link ? { offerId: link.offerId, customerId: link.customerId } : null,
      subscription,
      payment:
        type === 'BILLING.SUBSCRIPTION.PAYMENT.FAILED'
          ? failedPayment(eventId, subscriptionId, subscriptionResource)
          : null,
    };
  }

  if (type === 'PAYMENT.SALE.COMPLETED' || type === 'PAYMENT.SALE.REFUNDED') {
    const event = readPayload('paypal', payPalSaleEvent, body);
    const sale = event.resource;
    const subscriptionId = sale.billing_agreement_id;
    if (!subscriptionId) return ignore('sale is not part of a subscription (no billing_agreement_id)');
    if (!sale.id || !sale.amount) return ignore('sale has no id or amount');
    const refunded = type === 'PAYMENT.SALE.REFUNDED';
    const saleId = refunded ? sale.sale_id : sale.id;
    if (!saleId) return ignore('refund names no sale_id');
    const link = parsePayPalCustomId(sale.custom ?? sale.custom_id);
    return {
      processor: 'paypal',
      eventId,
      type,
      occurredAt: occurredAt(eventId, type, event.create_time, sale),
      subscriptionId,
      account: sale.payee?.merchant_id ?? null,
      siteId: link?.siteId ?? null,
      link: link ? { offerId: link.offerId, customerId: link.customerId } : null,
      subscription: null,
      payment: {
        outcome: refunded ? 'refunded' : 'succeeded',
        paymentId: saleId,
        amount: sale.amount.minor,
        currency: sale.amount.currency.toLowerCase(),
        periodStart: null,
        periodEnd: null,
        refundId: refunded ? sale.id : null,
      },
    };
  }

  return ignore('event type not used by membergate');
}

/**
 * When PayPal produced this state: the resource's own update or create time, else the event's. Only asked of
 * the events membergate uses, so an ignored one may lack it.
 */
function occurredAt(
  eventId: string,
  type: string,
  eventTime: Instant | null | undefined,
  resource: { update_time?: Instant | null; create_time?: Instant | null },
): Instant {
  const time = resource.update_time ?? resource.create_time ?? eventTime;
  if (time) return time;
  throw new InvalidInputError(`paypal event ${eventId} (${type}) carries no time`, [
    { field: 'create_time', message: 'missing' },
  ]);
}

/**
 * The subscription as the event reports it. ACTIVATED / RE-ACTIVATED assert `active`; UPDATED (plan, quantity
 * or billing changes) follows `resource.status`, so an update to a suspended subscription does not unpause it.
 * PayPal cannot schedule a future end, so `cancelAt` is always null.
 */
function subscriptionState(type: string, resource: PayPalSubscription): SubscriptionState | null {
  const base = payPalSubscriptionState('ACTIVE', resource)!;
  const byStatus = (status: string | null | undefined) => payPalSubscriptionState(status, resource);
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
function failedPayment(eventId: string, subscriptionId: string, resource: PayPalSubscription): PaymentReport {
  const failed = resource.billing_info?.last_failed_payment;
  // Without an amount the attempt is still reported (it makes the purchase past_due), for nothing.
  const currency = failed?.amount?.currency ?? resource.billing_info?.outstanding_balance?.currency_code ?? 'USD';
  const time = failed?.time ?? null;
  return {
    outcome: 'failed',
    paymentId: time ? `${subscriptionId}:failed:${time}` : eventId,
    amount: failed?.amount?.minor ?? 0,
    currency: currency.toLowerCase(),
    periodStart: null,
    periodEnd: null,
    refundId: null,
  };
}
