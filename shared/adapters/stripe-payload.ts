import * as z from 'zod';
import { processorId } from '../domain/ids.ts';

/**
 * The parts of a Stripe event payload the translator reads, as zod schemas. Objects are loose: Stripe adds
 * fields in every API version, and only what is read is validated. Fields move between API versions
 * (`current_period_*` moved to subscription items, `invoice.subscription` to
 * `invoice.parent.subscription_details`), so both places are optional and the translator picks.
 *
 * Metadata is read as plain objects here: its values are the site's, and an unusable one makes the event
 * ignored rather than refused (see webhook-payload.ts).
 */

/**
 * 9999-12-31T23:59:59Z. Instants are stored and compared as ISO-8601 strings, which sort correctly only with
 * four-digit years, and `new Date()` throws beyond ±8.64e15 ms; Stripe timestamps are far inside this.
 */
export const MAX_UNIX_SECONDS = 253_402_300_799;

/** A Stripe timestamp: whole Unix seconds between 1970 and the end of year 9999. */
export const unixSeconds = z
  .number()
  // Range before wholeness: 1e17 is also past 2^53 (not a "safe" integer), but what is wrong with it is the date.
  .min(0, 'must not be before 1970')
  .max(MAX_UNIX_SECONDS, 'must be before the year 10000')
  .int('must be whole Unix seconds');

/** An amount in minor units (cents). */
const minorUnits = z.number().int('must be a whole number of minor units').min(0, 'must not be negative');

/** Stripe writes ISO currency codes in lower case. */
const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO currency code')
  .transform((code) => code.toLowerCase());

const metadata = z.looseObject({}).nullish();

const subscriptionItem = z.looseObject({
  current_period_start: unixSeconds.nullish(),
  current_period_end: unixSeconds.nullish(),
});

export const stripeSubscription = z.looseObject({
  id: processorId.nullish(),
  status: z.string().nullish(),
  items: z.looseObject({ data: z.array(subscriptionItem).nullish() }).nullish(),
  // API versions before 2025-03-31 (basil) carry the period on the subscription itself.
  current_period_start: unixSeconds.nullish(),
  current_period_end: unixSeconds.nullish(),
  cancel_at: unixSeconds.nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  pause_collection: z.looseObject({ resumes_at: unixSeconds.nullish() }).nullish(),
  metadata,
});
export type StripeSubscription = z.output<typeof stripeSubscription>;

/** A field that holds an id, or the object itself when the endpoint expands it. */
const reference = z.union([processorId, z.looseObject({ id: processorId })], {
  error: 'must be an id or an object with an id',
});

/** The event envelope. `data.object` is read by the schema of the event's type. */
export const stripeEnvelope = z.looseObject({
  id: processorId,
  type: processorId,
  created: unixSeconds,
  // Stripe Connect: the connected account the event happened in; absent for the platform's own account.
  account: z
    .string()
    .regex(/^acct_[A-Za-z0-9]{1,64}$/)
    .nullish(),
  data: z.looseObject({ object: z.looseObject({}) }),
});

export const stripeCheckoutSession = z.looseObject({
  mode: z.string().nullish(),
  // An id, or the subscription itself (its state and metadata come with it) when the endpoint expands it.
  subscription: z.union([processorId, stripeSubscription.extend({ id: processorId })]).nullish(),
  metadata,
});

const invoiceLine = z.looseObject({
  type: z.string().nullish(),
  proration: z.boolean().nullish(),
  period: z.looseObject({ start: unixSeconds.nullish(), end: unixSeconds.nullish() }).nullish(),
  parent: z
    .looseObject({ subscription_item_details: z.looseObject({ proration: z.boolean().nullish() }).nullish() })
    .nullish(),
});
export type StripeInvoiceLine = z.output<typeof invoiceLine>;

export const stripeInvoice = z.looseObject({
  id: processorId.nullish(),
  // Current API: parent.subscription_details; before 2025-03-31 (basil): invoice.subscription.
  parent: z
    .looseObject({
      subscription_details: z.looseObject({ subscription: reference.nullish(), metadata }).nullish(),
    })
    .nullish(),
  subscription: reference.nullish(),
  lines: z.looseObject({ data: z.array(invoiceLine).nullish() }).nullish(),
  amount_paid: minorUnits.nullish(),
  amount_due: minorUnits.nullish(),
  currency: currency.nullish(),
  metadata,
});

export const stripeCharge = z.looseObject({
  id: processorId.nullish(),
  amount_refunded: minorUnits.nullish(),
  currency: currency.nullish(),
  refunds: z.looseObject({ data: z.array(z.looseObject({ id: processorId })).nullish() }).nullish(),
  metadata,
});
