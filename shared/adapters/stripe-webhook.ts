import Stripe from 'stripe';
import { InvalidInputError } from '../domain/errors.ts';
import type { IgnoredEvent, PaymentReport, ProcessorEvent, SubscriptionState } from '../domain/processor-events.ts';
import type { Instant } from '../domain/types.ts';
import { WebhookSignatureError, type WebhookTranslator } from '../ports/webhooks.ts';

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
 * The payload is read defensively (field by field, never trusted to match the SDK's types): webhook
 * payloads follow the API version of the endpoint, so fields move between versions — `current_period_*`
 * moved to subscription items, `invoice.subscription` moved to `invoice.parent.subscription_details`.
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
      return translateEvent(readEnvelope(verified), processor);
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

interface Envelope {
  id: string;
  type: string;
  created: number;
  object: Obj;
}

function readEnvelope(event: unknown): Envelope {
  const id = str(get(event, 'id'));
  const type = str(get(event, 'type'));
  const created = num(get(event, 'created'));
  const object = get(event, 'data', 'object');
  if (id === null || type === null || created === null || !isObj(object)) {
    throw new InvalidInputError('stripe webhook body is not an event', [
      { field: 'body', message: 'expected id, type, created and data.object' },
    ]);
  }
  return { id, type, created, object };
}

function translateEvent(event: Envelope, processor: Processor): ProcessorEvent | IgnoredEvent {
  const ignore = (reason: string): IgnoredEvent => ({
    ignored: true,
    processor,
    eventId: event.id,
    type: event.type,
    reason,
  });
  const base = { processor, eventId: event.id, type: event.type, occurredAt: iso(event.created) };

  if (SUBSCRIPTION_EVENTS.has(event.type)) {
    const sub = event.object;
    const subscriptionId = str(sub.id);
    if (subscriptionId === null) return ignore('subscription without an id');
    const subscription = subscriptionState(sub, event.type === 'customer.subscription.deleted');
    if (subscription === null) return ignore('subscription incomplete: its first payment is not confirmed yet');
    const metadata = sub.metadata;
    return {
      ...base,
      subscriptionId,
      siteId: meta(metadata, 'siteId'),
      link: linkFrom(metadata),
      subscription,
      payment: null,
    };
  }

  switch (event.type) {
    case 'checkout.session.completed':
      return checkoutCompleted(event.object, base, ignore);
    case 'invoice.paid':
    case 'invoice.payment_succeeded':
      return invoicePayment(event.object, 'succeeded', base, ignore);
    case 'invoice.payment_failed':
      return invoicePayment(event.object, 'failed', base, ignore);
    case 'charge.refunded':
      return chargeRefunded(event.object, base, ignore);
    default:
      return ignore('unhandled event type');
  }
}

type Base = Pick<ProcessorEvent, 'processor' | 'eventId' | 'type' | 'occurredAt'>;
type Ignore = (reason: string) => IgnoredEvent;

/**
 * A Stripe subscription object → SubscriptionState. Returns null for `incomplete`: the subscription exists
 * but its first payment has not succeeded (card declined or 3-D Secure pending, up to 23 hours). We chose
 * not to report it as `past_due`: past_due keeps access while renewals are retried (rule 9), but an
 * incomplete subscription has never been paid, so creating a purchase (and granting access) from it would
 * give the product away. It either becomes `active` (a later event creates the purchase) or
 * `incomplete_expired` (reported as canceled).
 */
function subscriptionState(sub: Obj, deleted: boolean): SubscriptionState | null {
  const status = str(sub.status);
  if (status === 'incomplete' && !deleted) return null;

  const items = arr(get(sub, 'items', 'data'));
  const starts = items.map((item) => num(get(item, 'current_period_start'))).filter(isNumber);
  const ends = items.map((item) => num(get(item, 'current_period_end'))).filter(isNumber);
  // API versions before 2025-03-31 (basil) carry the period on the subscription itself.
  const legacyStart = num(sub.current_period_start);
  const legacyEnd = num(sub.current_period_end);
  if (starts.length === 0 && legacyStart !== null) starts.push(legacyStart);
  if (ends.length === 0 && legacyEnd !== null) ends.push(legacyEnd);
  const currentPeriodStart = starts.length ? iso(Math.min(...starts)) : null;
  const currentPeriodEnd = ends.length ? iso(Math.max(...ends)) : null;

  const cancelAtPeriodEnd = sub.cancel_at_period_end === true;
  const cancelAtSeconds = num(sub.cancel_at);
  // Current API versions also fill `cancel_at` when `cancel_at_period_end` is set. When they do not,
  // Stripe resolves `cancel_at_period_end` to the EARLIEST item period end (mixed-interval subscriptions),
  // so that is when billing stops.
  const cancelAt =
    cancelAtSeconds !== null ? iso(cancelAtSeconds) : cancelAtPeriodEnd && ends.length ? iso(Math.min(...ends)) : null;

  const pause = sub.pause_collection;
  const paused = isObj(pause);
  const resumesAtSeconds = paused ? num(pause.resumes_at) : null;

  return {
    status: deleted ? 'canceled' : mapStatus(status, paused),
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

function checkoutCompleted(session: Obj, base: Base, ignore: Ignore): ProcessorEvent | IgnoredEvent {
  if (session.mode !== 'subscription') return ignore('checkout session is not for a subscription');
  const subscriptionField = session.subscription;
  const subscriptionId = idOf(subscriptionField);
  if (subscriptionId === null) return ignore('checkout session has no subscription');
  // When the endpoint expands `subscription`, its state and metadata come with it.
  const expanded = isObj(subscriptionField) ? subscriptionField : null;
  const metadata = hasLink(session.metadata) || !expanded ? session.metadata : expanded.metadata;
  return {
    ...base,
    subscriptionId,
    siteId: meta(session.metadata, 'siteId') ?? (expanded ? meta(expanded.metadata, 'siteId') : null),
    link: linkFrom(metadata),
    subscription: expanded ? subscriptionState(expanded, false) : null,
    payment: null,
  };
}

function invoicePayment(
  invoice: Obj,
  outcome: 'succeeded' | 'failed',
  base: Base,
  ignore: Ignore,
): ProcessorEvent | IgnoredEvent {
  const details = get(invoice, 'parent', 'subscription_details');
  // Current API: parent.subscription_details.subscription; before 2025-03-31 (basil): invoice.subscription.
  const subscriptionId = idOf(get(details, 'subscription')) ?? idOf(invoice.subscription);
  if (subscriptionId === null) return ignore('invoice not linked to a subscription (one-off invoice)');
  const paymentId = str(invoice.id);
  if (paymentId === null) return ignore('invoice without an id');
  // `subscription_details.metadata` is the subscription's metadata frozen when the invoice was finalized.
  const subscriptionMetadata = get(details, 'metadata');
  const line = subscriptionLine(arr(get(invoice, 'lines', 'data')));
  const periodStart = num(get(line, 'period', 'start'));
  const periodEnd = num(get(line, 'period', 'end'));
  const payment: PaymentReport = {
    outcome,
    paymentId,
    amount: num(outcome === 'succeeded' ? invoice.amount_paid : invoice.amount_due) ?? 0,
    currency: str(invoice.currency) ?? 'usd',
    periodStart: periodStart === null ? null : iso(periodStart),
    periodEnd: periodEnd === null ? null : iso(periodEnd),
    refundId: null,
  };
  return {
    ...base,
    subscriptionId,
    siteId: meta(subscriptionMetadata, 'siteId') ?? meta(invoice.metadata, 'siteId'),
    link: linkFrom(subscriptionMetadata),
    subscription: null,
    payment,
  };
}

/**
 * The line that pays for the subscription period: a subscription-item line that is not a proration,
 * else any subscription-item line, else the first line. (Older API versions: `type: 'subscription'`.)
 */
function subscriptionLine(lines: unknown[]): unknown {
  const isSubscriptionLine = (line: unknown) =>
    isObj(get(line, 'parent', 'subscription_item_details')) || get(line, 'type') === 'subscription';
  const isProration = (line: unknown) =>
    get(line, 'parent', 'subscription_item_details', 'proration') === true || get(line, 'proration') === true;
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
function chargeRefunded(charge: Obj, base: Base, ignore: Ignore): ProcessorEvent | IgnoredEvent {
  const subscriptionId = meta(charge.metadata, 'subscriptionId');
  if (subscriptionId === null) return ignore('charge not linked to a subscription');
  const chargeId = str(charge.id);
  if (chargeId === null) return ignore('charge without an id');
  const latestRefund = arr(get(charge, 'refunds', 'data'))[0];
  return {
    ...base,
    subscriptionId,
    siteId: meta(charge.metadata, 'siteId'),
    link: null,
    subscription: null,
    payment: {
      outcome: 'refunded',
      paymentId: chargeId,
      amount: num(charge.amount_refunded) ?? 0,
      currency: str(charge.currency) ?? 'usd',
      periodStart: null,
      periodEnd: null,
      refundId: str(get(latestRefund, 'id')),
    },
  };
}

// --- defensive readers -------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function get(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isObj(current)) return undefined;
    current = current[key];
  }
  return current;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function isNumber(value: number | null): value is number {
  return value !== null;
}

function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A reference that may be an id or an expanded object. */
function idOf(value: unknown): string | null {
  return str(value) ?? str(get(value, 'id'));
}

function meta(metadata: unknown, key: string): string | null {
  return str(get(metadata, key));
}

function hasLink(metadata: unknown): boolean {
  return meta(metadata, 'offerId') !== null && meta(metadata, 'customerId') !== null;
}

function linkFrom(metadata: unknown): ProcessorEvent['link'] {
  const offerId = meta(metadata, 'offerId');
  const customerId = meta(metadata, 'customerId');
  return offerId !== null && customerId !== null ? { offerId, customerId } : null;
}

/** Stripe timestamps are Unix seconds. */
function iso(seconds: number): Instant {
  return new Date(seconds * 1000).toISOString();
}
