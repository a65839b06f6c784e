import * as z from 'zod';
import type { ProductAccess as ProductAccessView } from '../domain/access.ts';
import type { JobView } from '../domain/bulk-jobs.ts';
import type { DomainEvent as DomainEventView } from '../domain/events.ts';
import type { Explanation as ExplanationView } from '../domain/explain.ts';
import type { Charge } from '../domain/preview.ts';
import type { ReconciliationView } from '../domain/reconciliation.ts';
import {
  HISTORY_TYPES,
  type HistoryEntry as HistoryEntryView,
  type Offer as OfferView,
  type Product as ProductView,
  type SiteSettings as SiteSettingsView,
} from '../domain/types.ts';
import { UPCOMING_TYPES } from '../domain/upcoming.ts';
import type { PurchaseView } from '../domain/views.ts';
import type { WebhookEndpointView } from '../domain/webhook-endpoints.ts';
import type { UpcomingPage as UpcomingPageView } from '../usecases/upcoming.ts';
import type { DeliveryLogEntry, EndpointReply } from '../usecases/webhook-endpoints.ts';
import type { WebhookOutcome } from '../usecases/webhooks.ts';
import type { ErrorBody } from './errors.ts';
import { PURCHASE_STATUSES } from './schemas.ts';

/**
 * The schemas of every response body (DESIGN.md §2, §2.1), for the OpenAPI document (shared/http/openapi.ts)
 * and the e2e tests that hold every answer of the local runtime to it. The domain describes these shapes as
 * TypeScript types (views.ts, explain.ts, bulk-jobs.ts…), not as schemas; the checks at the end of this file
 * make the compiler refuse a schema that a view's type no longer satisfies, and the e2e validation refuses a
 * field a view added without the schema (objects here are closed: `additionalProperties: false` in the
 * document), so neither side can change alone.
 *
 * Each schema with an `id` becomes one entry of `components.schemas`. Only the OpenAPI generator and the tests
 * import this module: the access function loads it with the generator on the first `GET /openapi.json` (a chunk
 * of its own), so it costs no function's cold start anything.
 */

const instant = z.iso
  .datetime()
  .meta({ id: 'Instant', description: 'ISO-8601 UTC instant', example: '2026-12-01T00:00:00.000Z' });
const nullableInstant = instant.nullable();
const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const Actor = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('admin'), email: z.string() }),
    z.object({ type: z.literal('support'), email: z.string().nullable() }),
    z.object({ type: z.literal('automation'), id: z.string() }),
    z.object({ type: z.literal('customer'), customerId: z.string() }),
    z.object({
      type: z.literal('processor'),
      processor: z.enum(['none', 'native', 'stripe', 'paypal']),
      eventId: z.string().nullable(),
    }),
    z.object({
      type: z.literal('system'),
      reason: z.enum([
        'access_period_ended',
        'cancellation_effective',
        'processor_ended',
        'pause_ended',
        'webhook_deliveries_failed',
      ]),
    }),
  ])
  .meta({ id: 'Actor', description: 'Who did something (DESIGN.md §1).' });

const interval = z.enum(['day', 'week', 'month', 'year']);
const money = { amount: z.number().int(), currency: z.string() };

export const Price = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('free') }),
    z.object({ type: z.literal('one_time'), ...money }),
    z.object({
      type: z.literal('payment_plan'),
      ...money,
      installments: z.number().int(),
      interval,
      intervalCount: z.number().int(),
    }),
    z.object({ type: z.literal('subscription'), ...money, interval, intervalCount: z.number().int() }),
  ])
  .meta({ id: 'Price', description: 'Amounts in minor units (cents); currency lower-case ISO 4217.' });

export const LocalDay = z
  .object({ date: localDate, timezone: z.string() })
  .meta({ id: 'LocalDay', description: 'The day an admin gave and the site time zone it was read in (rule 15).' });

export const SiteSettings = z
  .object({
    siteId: z.string(),
    selfCancelEnabled: z.boolean(),
    timezone: z.string(),
    stripeAccountId: z.string().nullable(),
    paypalMerchantId: z.string().nullable(),
  })
  // No example: an example naming a site would read, to a tenancy check, as another site's data.
  .meta({ id: 'SiteSettings' });

export const Product = z
  .object({
    siteId: z.string(),
    productId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    archivedAt: nullableInstant,
    updatedAt: instant,
  })
  .meta({ id: 'Product' });

export const Offer = z
  .object({
    siteId: z.string(),
    offerId: z.string(),
    name: z.string(),
    productIds: z.array(z.string()),
    price: Price,
    accessDays: z.number().int().nullable(),
    archivedAt: nullableInstant,
    updatedAt: instant,
  })
  .meta({ id: 'Offer' });

const Cancellation = z.object({
  when: z.enum(['now', 'period_end', 'date']),
  effectiveAt: instant,
  requestedBy: Actor,
  requestedAt: instant,
  billingStopped: z.boolean().optional(),
  localDay: LocalDay.nullable(),
});

const Refund = z.object({
  refundId: z.string(),
  ...money,
  at: instant,
  by: Actor,
  processorRefundId: z.string().nullable(),
  paymentId: z.string().nullable().optional(),
});

export const Purchase = z
  .object({
    purchaseId: z.string(),
    siteId: z.string(),
    customerId: z.string(),
    offerId: z.string(),
    processor: z.enum(['none', 'native', 'stripe', 'paypal']),
    processorSubscriptionId: z.string().nullable(),
    processorAccount: z.string().nullable(),
    kind: z.enum(['free', 'one_time', 'payment_plan', 'subscription']),
    status: z.enum(PURCHASE_STATUSES),
    price: Price,
    currentPeriodStart: nullableInstant,
    currentPeriodEnd: nullableInstant,
    installments: z.object({ paid: z.number().int(), total: z.number().int() }).nullable(),
    cancellation: Cancellation.nullable(),
    pause: z.object({ pausedAt: instant, resumesAt: nullableInstant, localDay: LocalDay.nullable() }).nullable(),
    accessPeriodEndsAt: nullableInstant,
    accessEndsAt: nullableInstant,
    products: z.array(
      z.object({
        productId: z.string(),
        access: z.enum(['active', 'revoked']),
        revokedAt: nullableInstant,
        revokedBy: Actor.nullable(),
        label: z.string().nullable(),
      }),
    ),
    accessStatus: z
      .object({ status: z.literal('Access revoked'), label: z.string() })
      .nullable()
      .meta({ description: 'Rule 3: no row (null) while every product is accessible.' }),
    refunds: z.array(Refund),
    createdAt: instant,
    updatedAt: instant,
    version: z.number().int(),
  })
  .meta({ id: 'Purchase', description: 'The purchase information page (DESIGN.md §2).' });

export const Customer = z
  .object({
    siteId: z.string(),
    customerId: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    updatedAt: instant,
    purchases: z.array(Purchase).optional(),
  })
  .meta({ id: 'Customer', description: '`purchases` only in the answer of GET.' });

const historyFields = {
  at: instant,
  type: z.enum(HISTORY_TYPES),
  actor: Actor,
  label: z.string().optional(),
  details: z.record(z.string(), z.unknown()),
};
export const HistoryEntry = z.object(historyFields).meta({ id: 'HistoryEntry' });
export const History = z.object({ items: z.array(HistoryEntry) }).meta({ id: 'History' });

export const DomainEvent = z
  .object({
    id: z.string(),
    type: z.enum(HISTORY_TYPES),
    siteId: z.string(),
    purchaseId: z.string(),
    customerId: z.string(),
    sequence: z.number().int(),
    occurredAt: instant,
    actor: Actor,
    data: z.object({ purchase: Purchase, details: z.record(z.string(), z.unknown()), label: z.string().optional() }),
  })
  .meta({ id: 'DomainEvent', description: 'A domain event (DESIGN.md §5); the event catalog lists the types.' });

/** One page of a list: `nextCursor` goes back as `cursor` (as `after` for events); null on the last page. */
function page<Item extends z.ZodType>(item: Item, id: string) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() }).meta({ id });
}

export const EventsPage = page(DomainEvent, 'EventsPage');
export const PurchasesPage = page(Purchase, 'PurchasesPage');

const accessReason = z.enum(['active', 'revoked', 'access_ended', 'canceled', 'not_purchased']);
export const ProductAccess = z
  .object({ productId: z.string(), hasAccess: z.boolean(), until: nullableInstant, reason: accessReason })
  .meta({ id: 'ProductAccess', example: { productId: 'course-101', hasAccess: true, until: null, reason: 'active' } });

export const LibraryAccess = z
  .object({
    customerId: z.string(),
    products: z.array(z.object({ productId: z.string(), hasAccess: z.boolean(), until: nullableInstant })),
  })
  .meta({ id: 'LibraryAccess' });

export const Explanation = z
  .object({
    productId: z.string(),
    hasAccess: z.boolean(),
    until: nullableInstant,
    reason: accessReason,
    at: instant,
    grants: z.array(
      z.object({
        purchaseId: z.string(),
        offerId: z.string(),
        status: z.enum(PURCHASE_STATUSES),
        access: z.enum(['active', 'revoked']),
        label: z.string().nullable(),
        accessEndsAt: nullableInstant,
        cancellation: Cancellation.extend({ localDay: LocalDay.nullable().optional() }).nullable(),
        hasAccess: z.boolean(),
        until: nullableInstant,
        reason: accessReason,
        facts: z.array(z.object(historyFields)),
      }),
    ),
    pending: z.array(
      z.object({
        at: instant,
        type: z.enum(['cancellation_effective', 'access_period_ends', 'pause_ends']),
        purchaseId: z.string(),
      }),
    ),
  })
  .meta({ id: 'Explanation', description: 'Why a customer has access or not (DESIGN.md §2.1 Explain).' });

export const CancellationPreview = z
  .object({
    accessEndsAt: instant,
    localDay: LocalDay.optional(),
    charges: z.array(z.object({ at: instant, ...money, prorated: z.boolean() })),
  })
  .meta({ id: 'CancellationPreview', description: 'Rule 4: what a cancellation would still charge; changes nothing.' });

export const UpcomingPage = z
  .object({
    from: instant,
    to: instant,
    items: z.array(
      z.object({
        at: instant,
        type: z.enum(UPCOMING_TYPES),
        purchaseId: z.string(),
        customerId: z.string(),
        offerId: z.string(),
        productIds: z.array(z.string()),
        amount: z.number().int().optional(),
        currency: z.string().optional(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'UpcomingPage', description: 'The calendar of timed changes in `[from, to)`, soonest first.' });

export const MyLibrary = z
  .object({
    products: z.array(z.object({ productId: z.string(), name: z.string().nullable(), until: nullableInstant })),
  })
  .meta({ id: 'MyLibrary' });

export const MySubscriptions = z
  .object({
    items: z.array(
      z.object({
        purchaseId: z.string(),
        offerId: z.string(),
        kind: z.enum(['free', 'one_time', 'payment_plan', 'subscription']),
        status: z.enum(PURCHASE_STATUSES),
        price: Price,
        currentPeriodEnd: nullableInstant,
        cancellation: z.object({ when: z.enum(['now', 'period_end', 'date']), effectiveAt: instant }).nullable(),
        accessEndsAt: nullableInstant,
        canCancel: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'MySubscriptions' });

export const WebhookReceipt = z
  .object({
    received: z.literal(true),
    outcome: z.enum(['applied', 'created', 'unchanged', 'duplicate', 'ignored']),
    eventId: z.string(),
    purchaseId: z.string().optional(),
    reason: z.string().optional(),
  })
  .meta({ id: 'WebhookReceipt', description: 'Duplicates and ignored types answer 200 too, so the processor stops.' });

const endpointFields = {
  siteId: z.string(),
  endpointId: z.string(),
  url: z.string(),
  eventTypes: z.array(z.string()).nullable(),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  disabledAt: nullableInstant,
  secretRotatedAt: nullableInstant,
  createdAt: instant,
  updatedAt: instant,
};
export const WebhookEndpoint = z
  .object({
    ...endpointFields,
    secret: z
      .string()
      .optional()
      .meta({ description: 'Only in the answer that created the endpoint or rotated its secret.' }),
  })
  .meta({ id: 'WebhookEndpoint' });
export const WebhookEndpointsPage = page(z.object(endpointFields), 'WebhookEndpointsPage');

export const DeliveriesPage = page(
  z.object({
    eventId: z.string(),
    eventType: z.string(),
    attempt: z.number().int(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    scheduledFor: instant,
    attemptedAt: nullableInstant,
    responseCode: z.number().int().nullable(),
    durationMs: z.number().nullable(),
    error: z.string().nullable(),
    nextAttemptAt: nullableInstant,
  }),
  'DeliveriesPage',
);

export const BulkJob = z
  .object({
    jobId: z.string(),
    siteId: z.string(),
    kind: z.enum(['revoke', 'undo']),
    undoOf: z.string().nullable(),
    status: z.enum(['queued', 'running', 'completed', 'failed']),
    selection: z.discriminatedUnion('type', [
      z.object({ type: z.literal('offer'), offerId: z.string() }),
      z.object({ type: z.literal('customers'), customerCount: z.number().int() }),
      z.object({ type: z.literal('job'), jobId: z.string() }),
    ]),
    productIds: z.array(z.string()).nullable(),
    total: z.number().int(),
    done: z.number().int(),
    skipped: z.number().int(),
    failed: z.number().int(),
    failures: z.array(z.object({ purchaseId: z.string(), reason: z.string() })),
    requestedBy: Actor,
    createdAt: instant,
    startedAt: nullableInstant,
    finishedAt: nullableInstant,
    error: z.string().optional(),
  })
  .meta({ id: 'BulkJob', description: 'A bulk revocation job (DESIGN.md §2.1).' });
export const BulkJobsPage = page(BulkJob, 'BulkJobsPage');
const problemList = z.array(z.object({ purchaseId: z.string(), reason: z.string() }));
export const DriftItem = z
  .object({
    purchaseId: z.string(),
    processorSubscriptionId: z.string(),
    field: z.enum(['status', 'cancelAt', 'currentPeriodEnd', 'pause.resumesAt']),
    ledger: z.string().nullable(),
    processor: z.string().nullable(),
  })
  .meta({ id: 'DriftItem', description: 'One field on which membergate and the processor disagree.' });
const reconciliationFields = {
  jobId: z.string(),
  siteId: z.string(),
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  processor: z.enum(['stripe', 'paypal']).nullable(),
  repair: z.boolean(),
  checked: z.number().int(),
  drifted: z.number().int(),
  repaired: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  problems: problemList,
  requestedBy: Actor,
  createdAt: instant,
  startedAt: nullableInstant,
  finishedAt: nullableInstant,
  error: z.string().optional(),
};
export const Reconciliation = z.object(reconciliationFields).meta({
  id: 'Reconciliation',
  description: 'A drift reconciliation job, its counters only (DESIGN.md §2.1).',
});
export const ReconciliationReport = z
  .object({ ...reconciliationFields, items: z.array(DriftItem), nextCursor: z.string().nullable() })
  .meta({
    id: 'ReconciliationReport',
    description: 'A reconciliation with one page of the fields that disagree (`nextCursor` for the rest).',
  });
export const ReconciliationsPage = page(Reconciliation, 'ReconciliationsPage');
export const JobAccepted = z
  .object({ jobId: z.string() })
  .meta({ id: 'JobAccepted', example: { jobId: 'job_01jd3kq8w2r7x5v0c9b4n6m1tz' } });

export const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable machine-readable code: invalid_request, not_found, conflict…' }),
      message: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })),
      redirectUrl: z.string().optional().meta({ description: 'cancel_at_processor: where the customer cancels.' }),
      correlationId: z.string().optional().meta({ description: '5xx: the request id the failure was logged with.' }),
    }),
  })
  .meta({
    id: 'Error',
    description: 'Every 4xx and 5xx answer of membergate (shared/http/errors.ts).',
    example: {
      error: {
        code: 'invalid_request',
        message: 'invalid request',
        details: [{ field: 'offerId', message: 'Required' }],
      },
    },
  });

/**
 * The compiler's half of "the schema is the view": each view's type must be assignable to what its schema
 * describes, so a field whose type changed, or a schema field the view lost, fails `tsc`. (A field the view
 * added is the e2e validation's half: closed objects refuse it.)
 */
type Describes<View, Schema extends z.ZodType> = View extends z.output<Schema> ? true : false;
const checks: {
  [K in
    | 'settings'
    | 'product'
    | 'offer'
    | 'purchase'
    | 'history'
    | 'event'
    | 'access'
    | 'explain'
    | 'preview'
    | 'upcoming'
    | 'job'
    | 'reconciliation'
    | 'endpoint'
    | 'endpointView'
    | 'delivery'
    | 'receipt'
    | 'error']: true;
} = {
  settings: true satisfies Describes<SiteSettingsView, typeof SiteSettings>,
  product: true satisfies Describes<ProductView, typeof Product>,
  offer: true satisfies Describes<OfferView, typeof Offer>,
  purchase: true satisfies Describes<PurchaseView, typeof Purchase>,
  history: true satisfies Describes<HistoryEntryView, typeof HistoryEntry>,
  event: true satisfies Describes<DomainEventView, typeof DomainEvent>,
  access: true satisfies Describes<ProductAccessView, typeof ProductAccess>,
  explain: true satisfies Describes<ExplanationView, typeof Explanation>,
  preview: true satisfies Describes<{ accessEndsAt: string; charges: Charge[] }, typeof CancellationPreview>,
  upcoming: true satisfies Describes<UpcomingPageView, typeof UpcomingPage>,
  job: true satisfies Describes<JobView, typeof BulkJob>,
  reconciliation: true satisfies Describes<Required<ReconciliationView>, typeof ReconciliationReport>,
  endpoint: true satisfies Describes<EndpointReply, typeof WebhookEndpoint>,
  endpointView: true satisfies Describes<WebhookEndpointView, typeof WebhookEndpoint>,
  delivery: true satisfies Describes<DeliveryLogEntry, z.ZodType<z.output<typeof DeliveriesPage>['items'][number]>>,
  receipt: true satisfies Describes<WebhookOutcome & { received: true }, typeof WebhookReceipt>,
  error: true satisfies Describes<ErrorBody, typeof ErrorResponse>,
};
void checks;
