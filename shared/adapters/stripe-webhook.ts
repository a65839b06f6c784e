import Stripe from 'stripe';
import { InvalidInputError } from '../domain/errors.ts';
import type { IgnoredEvent, PaymentReport, ProcessorEvent, SubscriptionState } from '../domain/processor-events.ts';
import type { Instant } from '../domain/types.ts';
import { WebhookSignatureError, type WebhookTranslator } from '../ports/webhooks.ts';
import {
  type StripeInvoiceLine,
  type StripeSubscription,
  stripeCharge,
  stripeCheckoutSession,
  stripeEnvelope,
  stripeInvoice,
  stripeSubscription,
} from './stripe-payload.ts';
import { metadataId, metadataProcessorId, readPayload } from './webhook-payload.ts';

export interface StripeTranslatorOptions {
  /** The endpoint's signing secret (`whsec_…`). */
  webhookSecret: string;
  /** A configured client; only its `webhooks` helper is used. Defaults to the library's static helper. */
  stripe?: Stripe;
  /** Maximum age of a signature, in seconds (Stripe's default: 300). */
  toleranceSeconds?: number;
  /** `native` when the endpoint receives the platform account's events (DESIGN.md §1, processor `native`). */
  processor?: 'stripe' | 'native';
}

const DEFAULT_TOLERANCE_SECONDS = 300;

const SUBSCRIPTION_EVENTS = new Set([
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
]);

/**
 * Stripe webhook adapter (port: WebhookTranslator). Verifies the `Stripe-Signature` header against the raw
 * body with the official library, then maps the few event types that matter to membergate
 * (DESIGN.md rule 9) into ProcessorEvents; everything else becomes an IgnoredEvent.
 *
 * The payload is read with zod schemas of the parts used (stripe-payload.ts), never trusted to match the SDK's
 * types: webhook payloads follow the API version of the endpoint, and a signature proves who sent a payload,
 * not that its values are usable. A processor field out of shape (an id over 255 characters, a timestamp past
 * the year 9999) is a 400 naming the field; metadata that breaks membergate's id rule makes the event ignored
 * with the reason (webhook-payload.ts says why the two differ).
 */
export function createStripeTranslator(options: StripeTranslatorOptions): WebhookTranslator {
  if (!options.webhookSecret?.trim()) throw new Error('createStripeTranslator: webhookSecret is required');
  const webhooks = options.stripe?.webhooks ?? Stripe.webhooks;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const processor = options.processor ?? 'stripe';

  return {
    processor: 'stripe',
    async translate(rawBody, headers, now) {
      let verified: unknown;
      try {
        // `receivedAt` (the 6th argument) makes the tolerance check use the injected clock instead of
        // Date.now(): the handler's clock decides what "stale" means, and tests need no fake timers.
        verified = webhooks.constructEvent(
          rawBody,
          headers['stripe-signature'] ?? '',
          options.webhookSecret,
          tolerance,
          undefined,
          now.getTime(),
        );
      } catch (error) {
        if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
          throw new WebhookSignatureError('stripe', signatureReason(error.message));
        }
        // The signature matched, so Stripe (or someone holding the secret) sent a body that is not JSON.
        throw new InvalidInputError('stripe webhook body is not a JSON event', [
          { field: 'body', message: 'not a JSON event' },
        ]);
      }
      return translateEvent(verified, processor);
    },
  };
}

/** The library's messages are long and end with a docs link; keep a short, stable reason. */
function signatureReason(message: string): string {
  if (/no stripe-signature header/i.test(message)) return 'missing Stripe-Signature header';
  if (/no webhook payload/i.test(message)) return 'empty body';
  if (/tolerance zone/i.test(message)) return 'timestamp outside the tolerance window (stale or replayed delivery)';
  if (/unable to extract timestamp/i.test(message)) return 'malformed Stripe-Signature header';
  if (/no signatures found with expected scheme/i.test(message)) return 'no v1 signature in Stripe-Signature header';
  if (/no signatures found matching/i.test(message)) return 'signature does not match the body';
  return message.split('\n')[0] ?? 'signature verification failed';
}

type Processor = ProcessorEvent['processor'];
type Base = Pick<ProcessorEvent, 'processor' | 'eventId' | 'type' | 'occurredAt' | 'account'>;
type Ignore = (reason: string) => IgnoredEvent;

/** Where the event's object sits in the body: field names in a 400 are paths from the body's root. */
const OBJECT = ['data', 'object'] as const;

function translateEvent(payload: unknown, processor: Processor): ProcessorEvent | IgnoredEvent {
  const event = readPayload('stripe', stripeEnvelope, payload);
  const ignore = (reason: string): IgnoredEvent => ({
    ignored: true,
    processor,
    eventId: event.id,
    type: event.type,
    reason,
  });
  const base: Base = {
    processor,
    eventId: event.id,
    type: event.type,
    occurredAt: iso(event.created),
    account: event.account ?? null,
  };
  const object = event.data.object;

  if (SUBSCRIPTION_EVENTS.has(event.type)) {
    const sub = readPayload('stripe', stripeSubscription, object, OBJECT);
    if (!sub.id) return ignore('subscription without an id');
    const ids = metadataIds(sub.metadata, 'data.object.metadata');
    if (typeof ids === 'string') return ignore(ids);
    const subscription = subscriptionState(sub, event.type === 'customer.subscription.deleted');
    if (subscription === null) return ignore('subscription incomplete: its first payment is not confirmed yet');
    return { ...base, subscriptionId: sub.id, siteId: ids.siteId, link: linkOf(ids), subscription, payment: null };
  }

  switch (event.type) {
    case 'checkout.session.completed':
      return checkoutCompleted(object, base, ignore);
    case 'invoice.paid':
    case 'invoice.payment_succeeded':
      return invoicePayment(object, 'succeeded', base, ignore);
    case 'invoice.payment_failed':
      return invoicePayment(object, 'failed', base, ignore);
    case 'charge.refunded':
      return chargeRefunded(object, base, ignore);
    default:
      return ignore('unhandled event type');
  }
}

/**
 * A Stripe subscription object → SubscriptionState. Returns null for `incomplete`: the subscription exists
 * but its first payment has not succeeded (card declined or 3-D Secure pending, up to 23 hours). We chose
 * not to report it as `past_due`: past_due keeps access while renewals are retried (rule 9), but an
 * incomplete subscription has never been paid, so creating a purchase (and granting access) from it would
 * give the product away. It either becomes `active` (a later event creates the purchase) or
 * `incomplete_expired` (reported as canceled).
 */
export function subscriptionState(sub: StripeSubscription, deleted: boolean): SubscriptionState | null {
  const status = sub.status ?? null;
  if (status === 'incomplete' && !deleted) return null;

  const items = sub.items?.data ?? [];
  const starts = items.map((item) => item.current_period_start).filter(isNumber);
  const ends = items.map((item) => item.current_period_end).filter(isNumber);
  // API versions before 2025-03-31 (basil) carry the period on the subscription itself.
  if (starts.length === 0 && isNumber(sub.current_period_start)) starts.push(sub.current_period_start);
  if (ends.length === 0 && isNumber(sub.current_period_end)) ends.push(sub.current_period_end);
  const currentPeriodStart = starts.length ? iso(Math.min(...starts)) : null;
  const currentPeriodEnd = ends.length ? iso(Math.max(...ends)) : null;

  const cancelAtPeriodEnd = sub.cancel_at_period_end === true;
  // Current API versions also fill `cancel_at` when `cancel_at_period_end` is set. When they do not,
  // Stripe resolves `cancel_at_period_end` to the EARLIEST item period end (mixed-interval subscriptions),
  // so that is when billing stops.
  const cancelAt = isNumber(sub.cancel_at)
    ? iso(sub.cancel_at)
    : cancelAtPeriodEnd && ends.length
      ? iso(Math.min(...ends))
      : null;

  const pause = sub.pause_collection ?? null;
  const resumesAtSeconds = pause?.resumes_at ?? null;

  return {
    status: deleted ? 'canceled' : mapStatus(status, pause !== null),
    currentPeriodStart,
    currentPeriodEnd,
    cancelAt,
    cancelAtPeriodEnd,
    accessEnds: 'now',
    resumesAt: resumesAtSeconds === null ? null : iso(resumesAtSeconds),
  };
}

/**
 * Stripe `status` → membergate status. `pause_collection` pauses payment collection without changing the
 * status (Stripe keeps it `active`), and it is what membergate's own pause sets: report it as `paused`.
 * Stripe's `paused` status (a trial ended without a payment method) is a pause too.
 */
function mapStatus(status: string | null, collectionPaused: boolean): SubscriptionState['status'] {
  switch (status) {
    case 'active':
    case 'trialing':
      return collectionPaused ? 'paused' : 'active';
    case 'past_due':
    case 'unpaid':
    case 'incomplete': // not reached (filtered out above); listed so every Stripe status has a mapping
      return 'past_due';
    case 'paused':
      return 'paused';
    case 'canceled':
    case 'incomplete_expired':
      return 'canceled';
    default:
      // An unknown future status: do not guess an end of access; the next known status corrects it.
      return collectionPaused ? 'paused' : 'active';
  }
}

function checkoutCompleted(object: unknown, base: Base, ignore: Ignore): ProcessorEvent | IgnoredEvent {
  const session = readPayload('stripe', stripeCheckoutSession, object, OBJECT);
  if (session.mode !== 'subscription') return ignore('checkout session is not for a subscription');
  const field = session.subscription;
  if (!field) return ignore('checkout session has no subscription');
  // When the endpoint expands `subscription`, its state and metadata come with it.
  const expanded = typeof field === 'string' ? null : field;
  const sessionIds = metadataIds(session.metadata, 'data.object.metadata');
  if (typeof sessionIds === 'string') return ignore(sessionIds);
  const expandedIds = expanded ? metadataIds(expanded.metadata, 'data.object.subscription.metadata') : null;
  if (typeof expandedIds === 'string') return ignore(expandedIds);
  return {
    ...base,
    subscriptionId: typeof field === 'string' ? field : field.id,
    siteId: sessionIds.siteId ?? expandedIds?.siteId ?? null,
    link: linkOf(sessionIds) ?? (expandedIds ? linkOf(expandedIds) : null),
    subscription: expanded ? subscriptionState(expanded, false) : null,
    payment: null,
  };
}

function invoicePayment(
  object: unknown,
  outcome: 'succeeded' | 'failed',
  base: Base,
  ignore: Ignore,
): ProcessorEvent | IgnoredEvent {
  const invoice = readPayload('stripe', stripeInvoice, object, OBJECT);
  const details = invoice.parent?.subscription_details;
  const subscriptionId = idOf(details?.subscription) ?? idOf(invoice.subscription);
  if (subscriptionId === null) return ignore('invoice not linked to a subscription (one-off invoice)');
  if (!invoice.id) return ignore('invoice without an id');
  // `subscription_details.metadata` is the subscription's metadata frozen when the invoice was finalized.
  const ids = metadataIds(details?.metadata, 'data.object.parent.subscription_details.metadata');
  if (typeof ids === 'string') return ignore(ids);
  const invoiceSite = metadataId(invoice.metadata?.siteId, 'data.object.metadata.siteId');
  if (!invoiceSite.ok) return ignore(invoiceSite.reason);
  const period = subscriptionLine(invoice.lines?.data ?? [])?.period;
  const periodStart = period?.start ?? null;
  const periodEnd = period?.end ?? null;
  const payment: PaymentReport = {
    outcome,
    paymentId: invoice.id,
    amount: (outcome === 'succeeded' ? invoice.amount_paid : invoice.amount_due) ?? 0,
    currency: invoice.currency ?? 'usd',
    periodStart: periodStart === null ? null : iso(periodStart),
    periodEnd: periodEnd === null ? null : iso(periodEnd),
    refundId: null,
  };
  return {
    ...base,
    subscriptionId,
    siteId: ids.siteId ?? invoiceSite.value,
    link: linkOf(ids),
    subscription: null,
    payment,
  };
}

/**
 * The line that pays for the subscription period: a subscription-item line that is not a proration,
 * else any subscription-item line, else the first line. (Older API versions: `type: 'subscription'`.)
 */
function subscriptionLine(lines: readonly StripeInvoiceLine[]): StripeInvoiceLine | undefined {
  const isSubscriptionLine = (line: StripeInvoiceLine) =>
    (line.parent?.subscription_item_details ?? null) !== null || line.type === 'subscription';
  const isProration = (line: StripeInvoiceLine) =>
    line.parent?.subscription_item_details?.proration === true || line.proration === true;
  return (
    lines.find((line) => isSubscriptionLine(line) && !isProration(line)) ?? lines.find(isSubscriptionLine) ?? lines[0]
  );
}

/**
 * A refund reaches us as the refunded charge. Limitation: current API versions no longer link a charge to
 * its invoice (`charge.invoice` is gone), so without an extra API call the subscription is known only when
 * the charge carries `metadata.subscriptionId`. Other refunds are ignored here; refunds made through
 * membergate are recorded by the refund use case itself.
 *
 * `amount` is the charge's cumulative `amount_refunded`, a total rather than an increment, so a repeated or
 * reordered delivery never counts a refund twice. `refunds` is only present when the endpoint expands it
 * (not included by default since API version 2022-11-15); the latest refund is listed first.
 */
function chargeRefunded(object: unknown, base: Base, ignore: Ignore): ProcessorEvent | IgnoredEvent {
  const charge = readPayload('stripe', stripeCharge, object, OBJECT);
  const subscription = metadataProcessorId(charge.metadata?.subscriptionId, 'data.object.metadata.subscriptionId');
  if (!subscription.ok) return ignore(subscription.reason);
  if (subscription.value === null) return ignore('charge not linked to a subscription');
  if (!charge.id) return ignore('charge without an id');
  const site = metadataId(charge.metadata?.siteId, 'data.object.metadata.siteId');
  if (!site.ok) return ignore(site.reason);
  return {
    ...base,
    subscriptionId: subscription.value,
    siteId: site.value,
    link: null,
    subscription: null,
    payment: {
      outcome: 'refunded',
      paymentId: charge.id,
      amount: charge.amount_refunded ?? 0,
      currency: charge.currency ?? 'usd',
      periodStart: null,
      periodEnd: null,
      refundId: charge.refunds?.data?.[0]?.id ?? null,
    },
  };
}

// --- metadata and small readers -----------------------------------------------------------------------

interface MetadataIds {
  siteId: string | null;
  offerId: string | null;
  customerId: string | null;
}

/**
 * The membergate ids a subscription's metadata carries (DESIGN.md §2: metadata.siteId/offerId/customerId),
 * or the reason one of them is unusable. They become key parts and, for a subscription membergate has not
 * seen, a new customer: the API's id rule applies, so a webhook never creates what the API cannot read.
 */
function metadataIds(metadata: Readonly<Record<string, unknown>> | null | undefined, at: string): MetadataIds | string {
  const ids: MetadataIds = { siteId: null, offerId: null, customerId: null };
  for (const key of ['siteId', 'offerId', 'customerId'] as const) {
    const read = metadataId(metadata?.[key], `${at}.${key}`);
    if (!read.ok) return read.reason;
    ids[key] = read.value;
  }
  return ids;
}

function linkOf(ids: MetadataIds): ProcessorEvent['link'] {
  return ids.offerId !== null && ids.customerId !== null ? { offerId: ids.offerId, customerId: ids.customerId } : null;
}

/** A reference that may be an id or an expanded object. */
function idOf(reference: string | { id: string } | null | undefined): string | null {
  if (reference === null || reference === undefined) return null;
  return typeof reference === 'string' ? reference : reference.id;
}

function isNumber(value: number | null | undefined): value is number {
  return typeof value === 'number';
}

/** Stripe timestamps are Unix seconds, bounded by the schema (unixSeconds), so this never throws. */
function iso(seconds: number): Instant {
  return new Date(seconds * 1000).toISOString();
}
