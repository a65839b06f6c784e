import * as z from 'zod';
import { id } from '../domain/ids.ts';
import { isLocalDate, isTimeZone } from '../domain/local-time.ts';
import { HISTORY_TYPES } from '../domain/types.ts';
import { UPCOMING_TYPES } from '../domain/upcoming.ts';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-endpoints.ts';

/**
 * Input schemas at the edge. Ids become parts of DynamoDB keys, so they follow one rule
 * (shared/domain/ids.ts), shared with the processor webhooks; it is re-exported here for the handlers.
 *
 * Each composite schema is built on its first use (`z.lazy`), not when this module loads: building them all
 * costs a cold start tens of milliseconds, and each function uses only its own few.
 */
export { id };

export const settingsInput = z.lazy(() =>
  z
    .object({
      selfCancelEnabled: z.boolean().optional(),
      timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').optional(),
      // Rule 17: the accounts this site bills through; null disconnects (existing purchases keep theirs).
      stripeAccountId: z
        .string()
        .regex(/^acct_[A-Za-z0-9]{1,64}$/, 'must be a Stripe account id such as acct_1Nv0FGQ9RKHgCVdK')
        .nullable()
        .optional(),
      paypalMerchantId: z
        .string()
        .regex(/^[A-Z0-9]{8,20}$/, 'must be a PayPal merchant id such as 7G4EPEEPEF74L')
        .nullable()
        .optional(),
    })
    .strict(),
);

export const productInput = z.lazy(() =>
  z
    .object({ name: z.string().trim().min(1).max(200), description: z.string().max(5000).nullable().optional() })
    .strict(),
);

const amount = z.number().int('must be a whole number of minor units (cents)').positive();
const currency = z
  .string()
  .regex(/^[a-zA-Z]{3}$/, 'must be a three-letter ISO currency code')
  .transform((c) => c.toLowerCase());
const interval = z.enum(['day', 'week', 'month', 'year']);
const intervalCount = z.number().int().min(1).max(365).default(1);

export const priceInput = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('free') }).strict(),
    z.object({ type: z.literal('one_time'), amount, currency }).strict(),
    z
      .object({
        type: z.literal('payment_plan'),
        amount,
        currency,
        installments: z.number().int().min(2).max(120),
        interval,
        intervalCount,
      })
      .strict(),
    z.object({ type: z.literal('subscription'), amount, currency, interval, intervalCount }).strict(),
  ]),
);

export const offerInput = z.lazy(() =>
  z
    .object({
      name: z.string().trim().min(1).max(200),
      productIds: z.array(id).min(1).max(100),
      price: priceInput,
      accessDays: z.number().int().min(1).max(36500).nullable().optional(),
    })
    .strict(),
);

export const customerInput = z.lazy(() =>
  z.object({ email: z.email(), name: z.string().trim().min(1).max(200).nullable().optional() }).strict(),
);

export const instant = z.lazy(() =>
  z.iso
    .datetime({ offset: true, message: 'must be an ISO-8601 date-time such as 2026-12-01T00:00:00Z' })
    .transform((value) => new Date(value).toISOString())
    // Instants are compared as ISO strings, which only sort correctly for four-digit years.
    .refine((value) => /^\d{4}-/.test(value), 'must be before the year 10000'),
);

export const grantInput = z.lazy(() =>
  z
    .object({
      customerId: id,
      offerId: id,
      processor: z.enum(['none', 'native', 'stripe', 'paypal']).default('none'),
      processorSubscriptionId: id.nullable().optional(),
      currentPeriodEnd: instant.nullable().optional(),
    })
    .strict(),
);

export const productSelection = z.lazy(() =>
  z
    .object({ productIds: z.array(id).min(1, 'list at least one product, or omit productIds for all').optional() })
    .strict(),
);

/**
 * A date an admin picks (rule 15): an ISO-8601 instant, or a calendar day `YYYY-MM-DD` meaning through the end
 * of that day in the site's time zone (resolved by the use case, which knows the site).
 */
export const instantOrDay = z.lazy(() =>
  z.union([z.string().refine(isLocalDate, 'must be a calendar day YYYY-MM-DD or an ISO-8601 date-time'), instant], {
    error: 'must be a calendar day YYYY-MM-DD or an ISO-8601 date-time such as 2026-12-01T00:00:00Z',
  }),
);

export const cancelInput = z.lazy(() =>
  z
    .object({ when: z.enum(['now', 'period_end', 'date']), date: instantOrDay.optional() })
    .strict()
    .superRefine((value, ctx) => {
      if (value.when === 'date' && !value.date) {
        ctx.addIssue({ code: 'custom', path: ['date'], message: 'required when when is "date"' });
      }
      if (value.when !== 'date' && value.date) {
        ctx.addIssue({ code: 'custom', path: ['date'], message: 'only allowed when when is "date"' });
      }
    }),
);

export const pauseInput = z.lazy(() => z.object({ resumesAt: instantOrDay.nullable().optional() }).strict());

export const PURCHASE_STATUSES = [
  'active',
  'pending_cancellation',
  'paused',
  'past_due',
  'canceled',
  'completed',
] as const;

export const subscriptionsQuery = z.lazy(() =>
  z
    .object({
      status: z.enum(PURCHASE_STATUSES).optional(),
      offerId: id.optional(),
      limit: z.coerce.number().int().min(1).max(100).default(25),
      cursor: z.string().min(1).max(2048).optional(),
    })
    .strict(),
);

export const eventsQuery = z.lazy(() =>
  z
    .object({
      purchaseId: id.optional(),
      type: z.enum(HISTORY_TYPES).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      /** The `nextCursor` of the previous page: events after it. */
      after: z.string().min(1).max(2048).optional(),
    })
    .strict(),
);

/**
 * The `Idempotency-Key` header: optional, and when sent 1–255 visible ASCII characters (it becomes part of a
 * key, and Stripe allows 255).
 */
export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 visible ASCII characters')
  .optional();

export const refundInput = z.lazy(() =>
  z
    .object({
      amount: z.number().int('must be a whole number of minor units (cents)').positive().optional(),
      revokeAccess: z.boolean().default(false),
    })
    .strict(),
);

/**
 * An integrator webhook endpoint (PUT). `url` is judged by the SSRF guard after parsing; `eventTypes` from
 * the event catalog (absent on create, or null: every type); fields left out of an update keep their value.
 */
export const webhookEndpointInput = z.lazy(() =>
  z
    .object({
      url: z.string().min(1).max(2048),
      eventTypes: z
        .array(z.enum(WEBHOOK_EVENT_TYPES))
        .min(1, 'list at least one event type, or send null for every type')
        .max(WEBHOOK_EVENT_TYPES.length)
        .refine((types) => new Set(types).size === types.length, 'must not repeat a type')
        .nullable()
        .optional(),
      enabled: z.boolean().optional(),
    })
    .strict(),
);

export const pageQuery = z.lazy(() =>
  z
    .object({
      limit: z.coerce.number().int().min(1).max(100).default(25),
      cursor: z.string().min(1).max(2048).optional(),
    })
    .strict(),
);

/** `GET .../access/{productId}/explain?at=`: the instant asked about, default now. */
export const explainQuery = z.lazy(() => z.object({ at: instant.optional() }).strict());

/** The calendar's query (`GET /sites/{siteId}/upcoming`); the window's own rules are in domain/upcoming.ts. */
export const upcomingQuery = z.lazy(() =>
  z
    .object({
      from: instant.optional(),
      to: instant.optional(),
      type: z.enum(UPCOMING_TYPES).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().min(1).max(4096).optional(),
    })
    .strict(),
);

/**
 * A bulk revocation (rule 13). Ids follow the id rule; the customer list is bounded a little above the job's
 * limit so that 10 001 ids is refused by the domain rule with its own message (`validateBulkRequest`), and far
 * more is refused here before anything reads it.
 */
export const reconciliationInput = z.lazy(() =>
  z
    .object({
      processor: z.enum(['stripe', 'paypal']).optional(),
      repair: z.boolean().optional(),
    })
    .strict(),
);

export const bulkRevocationInput = z.lazy(() =>
  z
    .object({
      offerId: id.optional(),
      customerIds: z.array(id).max(20_000).optional(),
      productIds: z.array(id).max(100).optional(),
    })
    .strict(),
);
