import * as z from 'zod';
import { processorId } from '../domain/ids.ts';
import { payPalAmountToMinor } from './paypal-codec.ts';

/**
 * The parts of a PayPal webhook event the translator reads, as zod schemas. Objects are loose: PayPal adds
 * fields over time, and only what is read is validated. `custom_id` (and a sale's `custom`) is read as any
 * string: PayPal lets merchants put their own references there, so one that is not membergate's
 * `site:offer:customer` simply links nothing (paypal-codec.ts).
 */

/**
 * PayPal's date-times (RFC 3339, `2026-12-01T08:59:40Z`) → ISO-8601 UTC. Instants are stored and compared as
 * ISO strings, which sort correctly only with four-digit years, so a time that lands after 9999 in UTC is
 * refused like a malformed one.
 */
const instant = z.iso
  .datetime({ offset: true, error: 'must be an ISO-8601 date-time such as 2026-12-01T00:00:00Z' })
  .transform((value) => new Date(value).toISOString())
  .refine((value) => /^\d{4}-/.test(value), 'must be before the year 10000');

/** PayPal's money value: its documented pattern and length (`"29.00"`, `"-10.00"`, `"3000"`). */
const decimal = z
  .string()
  .max(32, 'must be a decimal amount of at most 32 characters')
  .regex(/^-?(?:\d+|\d*\.\d+)$/, 'must be a decimal amount such as "29.00"');

const currencyCode = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO currency code')
  .transform((code) => code.toUpperCase());

/** Integer minor units of `currency`, or an issue on `field` when the value is beyond a safe integer. */
function toMinor(value: string, currency: string, field: string, ctx: z.RefinementCtx): number {
  const minor = payPalAmountToMinor(value, currency);
  if (minor !== null) return minor;
  ctx.addIssue({ code: 'custom', path: [field], message: 'is too large an amount' });
  return z.NEVER;
}

/** Payments API v1 amount (sales and refunds): `{total, currency}`. */
const saleAmount = z.looseObject({ total: decimal, currency: currencyCode }).transform((amount, ctx) => ({
  minor: toMinor(amount.total, amount.currency, 'total', ctx),
  currency: amount.currency,
}));

/** Subscriptions API money: `{value, currency_code}`. */
const money = z.looseObject({ value: decimal, currency_code: currencyCode }).transform((amount, ctx) => ({
  minor: toMinor(amount.value, amount.currency_code, 'value', ctx),
  currency: amount.currency_code,
}));

/** The envelope: enough to identify the event. The resource is read by the schema of the event's type. */
export const payPalEnvelope = z.looseObject({ id: processorId, event_type: processorId, resource: z.unknown() });

const payPalSubscription = z.looseObject({
  id: processorId.nullish(),
  status: z.string().max(64, 'must be a PayPal subscription status').nullish(),
  custom_id: z.string().nullish(),
  start_time: instant.nullish(),
  create_time: instant.nullish(),
  update_time: instant.nullish(),
  billing_info: z
    .looseObject({
      next_billing_time: instant.nullish(),
      last_payment: z.looseObject({ time: instant.nullish() }).nullish(),
      last_failed_payment: z.looseObject({ time: instant.nullish(), amount: money.nullish() }).nullish(),
      outstanding_balance: z.looseObject({ currency_code: currencyCode.nullish() }).nullish(),
    })
    .nullish(),
});
export type PayPalSubscription = z.output<typeof payPalSubscription>;

export const payPalSubscriptionEvent = z.looseObject({
  create_time: instant.nullish(),
  resource: payPalSubscription,
});

export const payPalSaleEvent = z.looseObject({
  create_time: instant.nullish(),
  resource: z.looseObject({
    id: processorId.nullish(),
    billing_agreement_id: processorId.nullish(),
    sale_id: processorId.nullish(),
    amount: saleAmount.nullish(),
    custom: z.string().nullish(),
    custom_id: z.string().nullish(),
    create_time: instant.nullish(),
    update_time: instant.nullish(),
    // The merchant the money went to (a platform acting for several merchants receives all their sales).
    payee: z.looseObject({ merchant_id: z.string().max(64).nullish() }).nullish(),
  }),
});
