import * as z from 'zod';
import { HISTORY_TYPES, type HistoryType } from './types.ts';

/**
 * The event catalog (DESIGN.md §5): every event type, what it means, and the JSON Schema of its envelope,
 * generated from the zod schemas below (the same schemas a test holds real events to). `data.details` lists
 * the fields each type carries; processors' events may add fields, so details are open objects.
 */
const instant = z.iso.datetime({ offset: true }).describe('ISO-8601 UTC instant');
const nullableInstant = instant.nullable();

const actor = z.discriminatedUnion('type', [
  z.object({ type: z.literal('admin'), email: z.string() }),
  z.object({ type: z.literal('support'), email: z.string().nullable() }),
  z.object({ type: z.literal('automation'), id: z.string() }),
  z.object({ type: z.literal('customer'), customerId: z.string() }),
  z.object({ type: z.literal('processor'), processor: z.string(), eventId: z.string().nullable() }),
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
]);

/** The purchase page after the change (the shape of `GET /sites/{siteId}/purchases/{purchaseId}`). */
const purchase = z.looseObject({
  purchaseId: z.string(),
  siteId: z.string(),
  customerId: z.string(),
  offerId: z.string(),
  processor: z.enum(['none', 'native', 'stripe', 'paypal']),
  status: z.enum(['active', 'pending_cancellation', 'paused', 'past_due', 'canceled', 'completed']),
  accessEndsAt: nullableInstant,
  products: z.array(
    z.looseObject({ productId: z.string(), access: z.enum(['active', 'revoked']), label: z.string().nullable() }),
  ),
  accessStatus: z.object({ status: z.literal('Access revoked'), label: z.string() }).nullable(),
  version: z.number().int().positive(),
});

const productIds = z.array(z.string());
const money = { amount: z.number().int(), currency: z.string() };

const DETAILS: Record<HistoryType, { meaning: string; details: z.ZodType }> = {
  'purchase.granted': {
    meaning: 'A customer got an offer (manual grant, import, or a processor subscription seen first).',
    details: z.looseObject({ offerId: z.string(), productIds, accessEndsAt: nullableInstant }),
  },
  'access.revoked': {
    meaning: 'Access to some or all products was revoked; billing is untouched (rule 1). `data.label` says by whom.',
    details: z.looseObject({ productIds }),
  },
  'access.resumed': {
    meaning: 'Revoked products are accessible again.',
    details: z.looseObject({ productIds }),
  },
  'access.period_ended': {
    meaning: "The offer's access period (`accessDays`) ended: every product revoked, label `Revoked`.",
    details: z.looseObject({}),
  },
  'cancellation.requested': {
    meaning: 'Payments will stop (`when`: now, period_end or date) at `effectiveAt`.',
    details: z.looseObject({ when: z.enum(['now', 'period_end', 'date']).optional(), effectiveAt: instant.optional() }),
  },
  'cancellation.stopped': {
    meaning: 'A pending cancellation was withdrawn ("Don\'t cancel payments"); payments continue.',
    details: z.looseObject({}),
  },
  'cancellation.effective': {
    meaning: 'The cancellation took effect: billing canceled, every product revoked (label `Revoked`).',
    details: z.looseObject({}),
  },
  'billing.paused': { meaning: 'Billing paused (access continues).', details: z.looseObject({}) },
  'billing.unpaused': { meaning: 'Billing resumed.', details: z.looseObject({}) },
  'billing.updated': {
    meaning: 'The processor reported a new billing period or status.',
    details: z.looseObject({ currentPeriodEnd: nullableInstant.optional() }),
  },
  'payment.succeeded': {
    meaning: 'A payment went through.',
    details: z.looseObject({ paymentId: z.string(), ...money }),
  },
  'payment.failed': {
    meaning: 'A payment failed; the processor retries (status `past_due`, access continues).',
    details: z.looseObject({ paymentId: z.string(), amount: z.number().int() }),
  },
  'refund.created': {
    meaning: 'Money was given back (in full or in part); access is revoked only if asked (a separate event).',
    details: z.looseObject(money),
  },
};

function envelopeOf(type: HistoryType) {
  return z
    .object({
      id: z.string().describe('unique and stable across redeliveries: deduplicate by it'),
      type: z.literal(type),
      siteId: z.string(),
      purchaseId: z.string(),
      customerId: z.string(),
      sequence: z.number().int().positive().describe('1, 2, 3… per purchase, no gaps'),
      occurredAt: instant,
      actor,
      data: z.object({ purchase, details: DETAILS[type].details, label: z.string().optional() }),
    })
    .describe(DETAILS[type].meaning);
}

/** One entry per event type: its meaning and the zod schema of its envelope. */
export const EVENT_CATALOG = Object.fromEntries(
  HISTORY_TYPES.map((type) => [type, { meaning: DETAILS[type].meaning, schema: envelopeOf(type) }]),
) as Record<HistoryType, { meaning: string; schema: ReturnType<typeof envelopeOf> }>;

/** Any purchase event's envelope. */
export const domainEventSchema = z.discriminatedUnion(
  'type',
  HISTORY_TYPES.map((type) => EVENT_CATALOG[type].schema) as unknown as [
    ReturnType<typeof envelopeOf>,
    ...ReturnType<typeof envelopeOf>[],
  ],
);

/** The JSON Schema (draft 2020-12) of each event type's envelope, for integrators' validators and docs. */
export function eventJsonSchemas(): Record<HistoryType, unknown> {
  return Object.fromEntries(
    HISTORY_TYPES.map((type) => [type, z.toJSONSchema(EVENT_CATALOG[type].schema, { io: 'output' })]),
  ) as Record<HistoryType, unknown>;
}

/**
 * Site events: about a site rather than a purchase (no `purchaseId`, no `sequence`), published on the same bus
 * and delivered to webhook endpoints like purchase events.
 */
export const SITE_EVENT_CATALOG = {
  'webhook_endpoint.disabled': {
    meaning:
      'An integrator webhook endpoint was disabled: one event could not be delivered to it for more than a day ' +
      '(every retry failed). `data.endpoint.disabledReason` says which event and the last error; re-enable it ' +
      'with a PUT of `enabled: true`.',
    schema: z
      .object({
        id: z.string().describe('unique and stable across redeliveries: deduplicate by it'),
        type: z.literal('webhook_endpoint.disabled'),
        siteId: z.string(),
        occurredAt: instant,
        actor: z.object({ type: z.literal('system'), reason: z.literal('webhook_deliveries_failed') }),
        data: z.object({
          endpoint: z.looseObject({
            endpointId: z.string(),
            url: z.string(),
            enabled: z.literal(false),
            disabledReason: z.string(),
            disabledAt: instant,
          }),
          causeEventId: z.string().describe('the event whose delivery failed'),
        }),
      })
      .strict(),
  },
} as const;

/** The JSON Schema of each site event type's envelope. */
export function siteEventJsonSchemas(): Record<keyof typeof SITE_EVENT_CATALOG, unknown> {
  return {
    // zod's default `io: 'output'`: the event as it is sent.
    'webhook_endpoint.disabled': z.toJSONSchema(SITE_EVENT_CATALOG['webhook_endpoint.disabled'].schema),
  };
}
