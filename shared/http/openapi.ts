/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas the handlers validate requests with
 * (./schemas.ts) and the schemas of every response (./responses.ts), one operation per entry of `ROUTES`.
 *
 * Generator: zod 4's own `z.toJSONSchema`, not `zod-openapi` or `@asteasolutions/zod-to-openapi`. OpenAPI 3.1's
 * schema dialect is JSON Schema draft 2020-12, which is exactly what `z.toJSONSchema` emits, so the only
 * OpenAPI-specific part left is the operation skeleton (paths, parameters, security), which `OPERATIONS`
 * below states anyway. Both libraries would add a dependency (zod-openapi is a wrapper over this same
 * function for zod 4; zod-to-openapi patches zod's prototype with `.openapi()`), and neither is installed; this
 * keeps the schemas plain zod, readable by the handlers, the document and the tests alike.
 *
 * `OPERATIONS` is a `Record<DeclaredRouteKey, OperationSpec>`: a route added to `ROUTES` without its operation, or an
 * operation for no route, fails to compile (and test/unit/openapi.test.ts checks it again at run time).
 */
import * as z from 'zod';
import { ID_PATTERN } from '../domain/ids.ts';
import * as responses from './responses.ts';
import {
  type ApiFunctionName,
  ROUTES,
  type RouteAccess,
  type RouteDefinition,
  type RouteKeyOf,
  routeKey,
} from './routes.ts';
import {
  bulkRevocationInput,
  cancelInput,
  customerInput,
  eventsQuery,
  explainQuery,
  grantInput,
  idempotencyKeyHeader,
  offerInput,
  pageQuery,
  pauseInput,
  productInput,
  productSelection,
  reconciliationInput,
  refundInput,
  settingsInput,
  subscriptionsQuery,
  upcomingQuery,
  webhookEndpointInput,
} from './schemas.ts';

/** Exactly the keys of `ROUTES` (`RouteKey` is every method with every path). */
export type DeclaredRouteKey = RouteKeyOf<ApiFunctionName>;

type SuccessStatus = 200 | 201 | 202 | 204;
/** Answers beside the ones every operation of its kind has (see `refusalsOf`). */
type RefusalStatus = 409 | 422 | 502;

interface SuccessResponse {
  description: string;
  /** Absent: no body (204). */
  schema?: z.ZodType;
  /** The answer of an Idempotency-Key replay carries `Idempotent-Replayed: true`. */
  replayable?: boolean;
}

export interface OperationSpec {
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  query?: z.ZodType;
  body?: { schema: z.ZodType; required: boolean; example?: unknown };
  /** Takes the `Idempotency-Key` header (./schemas.ts `idempotencyKeyHeader`). */
  idempotencyKey?: boolean;
  success: Partial<Record<SuccessStatus, SuccessResponse>>;
  refusals?: readonly RefusalStatus[];
}

const PURCHASE_EXAMPLE_NOTE = 'The purchase page after the change (DESIGN.md §2).';
const purchaseAfterChange: SuccessResponse = { description: PURCHASE_EXAMPLE_NOTE, schema: responses.Purchase };
const ok = (schema: z.ZodType, description = 'OK'): Partial<Record<SuccessStatus, SuccessResponse>> => ({
  200: { description, schema },
});

/** Processor webhooks: the body is the processor's own event, read raw for its signature. */
const processorEvent = z.record(z.string(), z.unknown()).meta({ description: "The processor's event, as sent." });

/** One operation per route: adding a route to `ROUTES` without an entry here fails to compile. */
export const OPERATIONS: Record<DeclaredRouteKey, OperationSpec> = {
  'GET /sites/{siteId}/settings': {
    operationId: 'getSettings',
    summary: "The site's settings",
    tag: 'Catalog',
    success: ok(responses.SiteSettings),
  },
  'PUT /sites/{siteId}/settings': {
    operationId: 'updateSettings',
    summary: "Change the site's settings (fields left out keep their value)",
    tag: 'Catalog',
    body: { schema: settingsInput, required: true, example: { timezone: 'America/New_York', selfCancelEnabled: true } },
    success: ok(responses.SiteSettings),
  },
  'PUT /sites/{siteId}/products/{productId}': {
    operationId: 'putProduct',
    summary: 'Create or change a product',
    tag: 'Catalog',
    body: { schema: productInput, required: true, example: { name: 'Course 101' } },
    success: ok(responses.Product),
  },
  'DELETE /sites/{siteId}/products/{productId}': {
    operationId: 'archiveProduct',
    summary: 'Archive a product (nothing is deleted)',
    tag: 'Catalog',
    success: ok(responses.Product),
  },
  'PUT /sites/{siteId}/offers/{offerId}': {
    operationId: 'putOffer',
    summary: 'Create or change an offer',
    tag: 'Catalog',
    body: {
      schema: offerInput,
      required: true,
      example: {
        name: 'All access',
        productIds: ['course-101', 'community'],
        price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
      },
    },
    success: ok(responses.Offer),
  },
  'DELETE /sites/{siteId}/offers/{offerId}': {
    operationId: 'archiveOffer',
    summary: 'Archive an offer (nothing is deleted)',
    tag: 'Catalog',
    success: ok(responses.Offer),
  },
  'PUT /sites/{siteId}/customers/{customerId}': {
    operationId: 'putCustomer',
    summary: 'Create or change a customer',
    tag: 'Catalog',
    body: { schema: customerInput, required: true, example: { email: 'ada@example.com', name: 'Ada' } },
    success: ok(responses.Customer),
  },
  'GET /sites/{siteId}/customers/{customerId}': {
    operationId: 'getCustomer',
    summary: 'A customer and their purchases',
    tag: 'Catalog',
    success: ok(responses.Customer),
  },
  'POST /sites/{siteId}/purchases': {
    operationId: 'grantOffer',
    summary: 'Grant an offer to a customer (a manual grant or an import)',
    tag: 'Purchases',
    body: { schema: grantInput, required: true, example: { customerId: 'cus-1', offerId: 'all-access' } },
    success: { 201: { description: 'The new purchase', schema: responses.Purchase } },
    refusals: [409],
  },
  'GET /sites/{siteId}/purchases/{purchaseId}': {
    operationId: 'getPurchase',
    summary: 'The purchase information page',
    tag: 'Purchases',
    success: ok(responses.Purchase),
  },
  'GET /sites/{siteId}/purchases/{purchaseId}/history': {
    operationId: 'getPurchaseHistory',
    summary: "The purchase's audit trail, oldest first",
    tag: 'Purchases',
    success: ok(responses.History),
  },
  'POST /sites/{siteId}/purchases/{purchaseId}/access/revoke': {
    operationId: 'revokeAccess',
    summary: 'Revoke access to some or all products (billing is untouched)',
    tag: 'Purchases',
    body: { schema: productSelection, required: false, example: { productIds: ['course-101'] } },
    success: { 200: purchaseAfterChange },
    refusals: [409],
  },
  'POST /sites/{siteId}/purchases/{purchaseId}/access/resume': {
    operationId: 'resumeAccess',
    summary: 'Give revoked products back',
    tag: 'Purchases',
    body: { schema: productSelection, required: false, example: { productIds: ['course-101'] } },
    success: { 200: purchaseAfterChange },
    refusals: [409],
  },
  'GET /sites/{siteId}/events': {
    operationId: 'listEvents',
    summary: "The site's domain events, oldest first (pass `nextCursor` back as `after`)",
    tag: 'Events',
    query: eventsQuery,
    success: ok(responses.EventsPage),
  },
  'GET /sites/{siteId}/customers/{customerId}/access': {
    operationId: 'getLibraryAccess',
    summary: "A customer's access to every product they ever had",
    tag: 'Access',
    success: ok(responses.LibraryAccess),
  },
  'GET /sites/{siteId}/customers/{customerId}/access/{productId}': {
    operationId: 'getProductAccess',
    summary: 'May this customer use this product now?',
    tag: 'Access',
    success: ok(responses.ProductAccess),
  },
  'GET /sites/{siteId}/customers/{customerId}/access/{productId}/explain': {
    operationId: 'explainAccess',
    summary: 'Why the access check says yes or no (now, or `at` an instant)',
    tag: 'Access',
    query: explainQuery,
    success: ok(responses.Explanation),
  },
  'POST /sites/{siteId}/purchases/{purchaseId}/cancellation/preview': {
    operationId: 'previewCancellation',
    summary: 'What a cancellation would still charge and when access would end (changes nothing)',
    tag: 'Billing',
    body: { schema: cancelInput, required: true, example: { when: 'date', date: '2027-03-14' } },
    success: ok(responses.CancellationPreview),
    refusals: [409],
  },
  'POST /sites/{siteId}/purchases/{purchaseId}/cancellation': {
    operationId: 'cancelPayments',
    summary: 'Cancel payments now, at the period end, or on a date',
    tag: 'Billing',
    body: { schema: cancelInput, required: true, example: { when: 'period_end' } },
    success: { 200: purchaseAfterChange },
    refusals: [409, 422, 502],
  },
  'DELETE /sites/{siteId}/purchases/{purchaseId}/cancellation': {
    operationId: 'stopCancellation',
    summary: "Don't cancel payments: stop a pending cancellation",
    tag: 'Billing',
    success: { 200: purchaseAfterChange },
    refusals: [409, 422, 502],
  },
  'POST /sites/{siteId}/purchases/{purchaseId}/pause': {
    operationId: 'pauseBilling',
    summary: 'Pause billing (access continues), until `resumesAt` when given',
    tag: 'Billing',
    body: { schema: pauseInput, required: false, example: { resumesAt: '2027-01-01T00:00:00Z' } },
    success: { 200: purchaseAfterChange },
    refusals: [409, 422, 502],
  },
  'POST /sites/{siteId}/purchases/{purchaseId}/unpause': {
    operationId: 'unpauseBilling',
    summary: 'Resume billing',
    tag: 'Billing',
    success: { 200: purchaseAfterChange },
    refusals: [409, 422, 502],
  },
  'GET /sites/{siteId}/subscriptions': {
    operationId: 'listSubscriptions',
    summary: 'Subscriptions and payment plans, by status or offer',
    tag: 'Billing',
    query: subscriptionsQuery,
    success: ok(responses.PurchasesPage),
  },
  'POST /sites/{siteId}/purchases/{purchaseId}/refunds': {
    operationId: 'refundPurchase',
    summary: 'Refund (all that is left of the last payment, or `amount`), optionally revoking access',
    tag: 'Billing',
    body: { schema: refundInput, required: false, example: { amount: 1000, revokeAccess: false } },
    idempotencyKey: true,
    success: { 201: { description: PURCHASE_EXAMPLE_NOTE, schema: responses.Purchase, replayable: true } },
    refusals: [409, 422, 502],
  },
  'GET /sites/{siteId}/upcoming': {
    operationId: 'listUpcoming',
    summary: 'The calendar of timed changes (default: the next 30 days)',
    tag: 'Billing',
    query: upcomingQuery,
    success: ok(responses.UpcomingPage),
  },
  'GET /me/library': {
    operationId: 'myLibrary',
    summary: 'The products the customer of the token may use now',
    tag: 'Me',
    success: ok(responses.MyLibrary),
  },
  'GET /me/subscriptions': {
    operationId: 'mySubscriptions',
    summary: "The token's customer's subscriptions and payment plans",
    tag: 'Me',
    success: ok(responses.MySubscriptions),
  },
  'POST /me/subscriptions/{purchaseId}/cancel': {
    operationId: 'selfCancel',
    summary: 'Cancel at the end of the billing period (when the site allows it)',
    description: 'A PayPal subscriber gets 409 `cancel_at_processor` with the `redirectUrl` to cancel at PayPal.',
    tag: 'Me',
    success: { 200: purchaseAfterChange },
    refusals: [409, 422, 502],
  },
  'POST /webhooks/stripe': {
    operationId: 'stripeWebhook',
    summary: "Stripe's webhook (signed with `Stripe-Signature`)",
    tag: 'Processor webhooks',
    body: { schema: processorEvent, required: true },
    success: ok(responses.WebhookReceipt),
  },
  'POST /webhooks/paypal': {
    operationId: 'paypalWebhook',
    summary: "PayPal's webhook (signed with the `PAYPAL-TRANSMISSION-*` headers)",
    tag: 'Processor webhooks',
    body: { schema: processorEvent, required: true },
    success: ok(responses.WebhookReceipt),
  },
  'GET /sites/{siteId}/webhook-endpoints': {
    operationId: 'listWebhookEndpoints',
    summary: "The site's integrator webhook endpoints (admin)",
    tag: 'Integrator webhooks',
    query: pageQuery,
    success: ok(responses.WebhookEndpointsPage),
  },
  'PUT /sites/{siteId}/webhook-endpoints/{endpointId}': {
    operationId: 'putWebhookEndpoint',
    summary: 'Register or change an endpoint (admin); a new one answers its signing secret, once',
    tag: 'Integrator webhooks',
    body: {
      schema: webhookEndpointInput,
      required: true,
      example: { url: 'https://example.com/hooks/membergate', eventTypes: ['access.revoked'] },
    },
    success: {
      200: { description: 'Changed', schema: responses.WebhookEndpoint },
      201: { description: 'Created, with its `secret`', schema: responses.WebhookEndpoint },
    },
    refusals: [409],
  },
  'GET /sites/{siteId}/webhook-endpoints/{endpointId}': {
    operationId: 'getWebhookEndpoint',
    summary: 'One endpoint (admin)',
    tag: 'Integrator webhooks',
    success: ok(responses.WebhookEndpoint),
  },
  'DELETE /sites/{siteId}/webhook-endpoints/{endpointId}': {
    operationId: 'deleteWebhookEndpoint',
    summary: 'Remove an endpoint (admin)',
    tag: 'Integrator webhooks',
    success: { 204: { description: 'Removed' } },
  },
  'POST /sites/{siteId}/webhook-endpoints/{endpointId}/rotate-secret': {
    operationId: 'rotateWebhookSecret',
    summary: 'A new signing secret; the previous one still signs for a grace period (admin)',
    tag: 'Integrator webhooks',
    success: ok(responses.WebhookEndpoint),
  },
  'GET /sites/{siteId}/webhook-endpoints/{endpointId}/deliveries': {
    operationId: 'listWebhookDeliveries',
    summary: "The endpoint's delivery log, newest first (admin)",
    tag: 'Integrator webhooks',
    query: pageQuery,
    success: ok(responses.DeliveriesPage),
  },
  'POST /sites/{siteId}/bulk-revocations': {
    operationId: 'startBulkRevocation',
    summary: "Revoke access for an offer's purchases or a list of customers, as a job (admin, support)",
    tag: 'Bulk revocations',
    body: { schema: bulkRevocationInput, required: true, example: { offerId: 'all-access' } },
    idempotencyKey: true,
    success: { 202: { description: 'The job was queued', schema: responses.JobAccepted, replayable: true } },
    refusals: [409, 422],
  },
  'GET /sites/{siteId}/bulk-revocations': {
    operationId: 'listBulkRevocations',
    summary: "The site's bulk jobs, newest first",
    tag: 'Bulk revocations',
    query: pageQuery,
    success: ok(responses.BulkJobsPage),
  },
  'GET /sites/{siteId}/bulk-revocations/{jobId}': {
    operationId: 'getBulkRevocation',
    summary: 'One job and its progress',
    tag: 'Bulk revocations',
    success: ok(responses.BulkJob),
  },
  'POST /sites/{siteId}/bulk-revocations/{jobId}/undo': {
    operationId: 'undoBulkRevocation',
    summary: 'Give back what a job revoked, as a job (admin, support)',
    tag: 'Bulk revocations',
    idempotencyKey: true,
    success: { 202: { description: 'The undo job was queued', schema: responses.JobAccepted, replayable: true } },
    refusals: [409, 422],
  },
  'POST /sites/{siteId}/reconciliations': {
    operationId: 'startReconciliation',
    summary:
      "Compare every processor-linked purchase with the processor's subscription, optionally repairing (admin, support)",
    tag: 'Reconciliations',
    body: { schema: reconciliationInput, required: false, example: { processor: 'stripe', repair: false } },
    idempotencyKey: true,
    success: { 202: { description: 'The job was queued', schema: responses.JobAccepted, replayable: true } },
    refusals: [409, 422],
  },
  'GET /sites/{siteId}/reconciliations': {
    operationId: 'listReconciliations',
    summary: "The site's reconciliations, newest first (counters only)",
    tag: 'Reconciliations',
    query: pageQuery,
    success: ok(responses.ReconciliationsPage),
  },
  'GET /sites/{siteId}/reconciliations/{jobId}': {
    operationId: 'getReconciliation',
    summary: 'One reconciliation: its counters and a page of the fields that disagree',
    tag: 'Reconciliations',
    query: pageQuery,
    success: ok(responses.ReconciliationReport),
  },
  'GET /health': {
    operationId: 'health',
    summary: 'Liveness',
    tag: 'Meta',
    success: ok(responses.Health),
  },
  'GET /openapi.json': {
    operationId: 'openApiDocument',
    summary: 'This document',
    tag: 'Meta',
    success: ok(z.record(z.string(), z.unknown()).meta({ description: 'An OpenAPI 3.1 document' })),
  },
};

type JsonSchema = Record<string, unknown>;

const COMPONENT_PREFIX = '#/components/schemas/';

/**
 * Response schemas: every schema with an `id` in zod's global registry becomes a component, and any schema
 * that uses it refers to it. `io: 'output'` describes what the API sends, and makes plain objects closed
 * (`additionalProperties: false`), so an undocumented field is a validation failure.
 */
function responseComponents(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    io: 'output',
    uri: (id) => `${COMPONENT_PREFIX}${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  const components: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) {
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    components[name] = rest;
  }
  return components;
}

/** A response schema: its component when it has one, otherwise inline. */
function responseSchema(schema: z.ZodType): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return { $ref: `${COMPONENT_PREFIX}${id}` };
  const inline = stripDialect(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' }));
  // A component used inside an inline schema would land in a local `$defs`: give the schema an id instead.
  if ('$defs' in inline) throw new Error('an inline response schema uses a component: give it an id');
  return inline;
}

/** Request schemas are what the caller may send: defaults make fields optional (`io: 'input'`). */
function requestSchema(schema: z.ZodType): JsonSchema {
  return stripDialect(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }));
}

function stripDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

const PATH_PARAMETER_DESCRIPTIONS: Record<string, string> = {
  siteId: "The site; a staff token's own site only (403 otherwise).",
};

function pathParameters(path: string) {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    ...(PATH_PARAMETER_DESCRIPTIONS[name!] ? { description: PATH_PARAMETER_DESCRIPTIONS[name!] } : {}),
    schema: { type: 'string', pattern: ID_PATTERN.source },
  }));
}

const QUERY_PARAMETER_DESCRIPTIONS: Record<string, string> = {
  cursor: 'The `nextCursor` of the previous page (valid only with the filters it came with).',
  after: 'The `nextCursor` of the previous page: the events after it.',
  limit: 'The page size.',
  at: 'The instant asked about (default now).',
};

function queryParameters(query: z.ZodType | undefined) {
  if (!query) return [];
  const schema = requestSchema(query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    ...(QUERY_PARAMETER_DESCRIPTIONS[name] ? { description: QUERY_PARAMETER_DESCRIPTIONS[name] } : {}),
    schema: property,
  }));
}

function headerParameters(route: RouteDefinition, spec: OperationSpec) {
  const headers: JsonSchema[] = [];
  if (spec.idempotencyKey) {
    headers.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'A retry with the same key answers what the first request got (and does nothing again).',
      schema: requestSchema(idempotencyKeyHeader.unwrap()),
    });
  }
  if (route.fn === 'webhook-paypal') {
    for (const name of ['PAYPAL-TRANSMISSION-ID', 'PAYPAL-TRANSMISSION-TIME', 'PAYPAL-AUTH-ALGO', 'PAYPAL-CERT-URL']) {
      headers.push({ name, in: 'header', required: true, schema: { type: 'string' } });
    }
  }
  return headers;
}

/** Who may call: the security requirement of each kind of route (`components.securitySchemes`). */
function securityOf(route: RouteDefinition): JsonSchema[] {
  switch (route.access) {
    case 'staff':
    case 'customer':
      return [{ bearerAuth: [] }];
    case 'webhook':
      return [route.fn === 'webhook-paypal' ? { paypalSignature: [] } : { stripeSignature: [] }];
    case 'public':
      return [];
  }
}

/** Each error status is one entry of `components.responses`, shared by every operation that answers it. */
const ERROR_RESPONSE_PREFIX = 'Error';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `details` names each field and what is wrong with it',
  401: 'No valid bearer token',
  403: 'The token may not do this (another site, another role)',
  404: 'No such resource on this site',
  409: 'Refused by a rule of the current state (the message says why); or `cancel_at_processor`',
  413: 'The body exceeds 256 KiB',
  415: 'The body is not application/json',
  422: 'Understood but refused: an Idempotency-Key reused with another request, or the processor refused it',
  429: 'Throttled by the API (API Gateway answers `{"message": "Too Many Requests"}`)',
  500: 'Internal error (`correlationId` finds the log line); the request may be retried',
  502: 'The payment processor failed; nothing changed',
};

/** The errors every operation of its kind may answer, plus its own refusals. */
function refusalsOf(route: RouteDefinition, spec: OperationSpec): number[] {
  const statuses = new Set<number>([400, 429, 500]);
  const authenticated = route.access === 'staff' || route.access === 'customer';
  if (authenticated) {
    statuses.add(401);
    statuses.add(403);
  }
  // Not found is about a resource the path names; a site itself always exists (its settings have defaults).
  if (/\{(?!siteId\})\w+\}/.test(route.path)) statuses.add(404);
  // A body over 256 KiB, or one that is not JSON, is refused whatever the method (a GET or DELETE may carry one).
  statuses.add(413);
  statuses.add(415);
  for (const status of spec.refusals ?? []) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

function errorResponseComponent(status: number) {
  // API Gateway's own throttling and authorizer answers are not membergate's error shape.
  const schema =
    status === 429
      ? { $ref: `${COMPONENT_PREFIX}GatewayMessage` }
      : status === 401
        ? { anyOf: [{ $ref: `${COMPONENT_PREFIX}Error` }, { $ref: `${COMPONENT_PREFIX}GatewayMessage` }] }
        : { $ref: `${COMPONENT_PREFIX}Error` };
  return { description: ERROR_DESCRIPTIONS[status], content: { 'application/json': { schema } } };
}

function successResponses(spec: OperationSpec) {
  const result: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(spec.success) as [string, SuccessResponse][]) {
    result[status] = {
      description: response.description,
      ...(response.replayable
        ? {
            headers: {
              'Idempotent-Replayed': {
                description: '`true` when this answers a replayed Idempotency-Key',
                schema: { type: 'string', enum: ['true'] },
              },
            },
          }
        : {}),
      ...(response.schema ? { content: { 'application/json': { schema: responseSchema(response.schema) } } } : {}),
    };
  }
  return result;
}

function operation(route: RouteDefinition, spec: OperationSpec) {
  const parameters = [...pathParameters(route.path), ...queryParameters(spec.query), ...headerParameters(route, spec)];
  const responses: Record<string, JsonSchema> = successResponses(spec);
  for (const status of refusalsOf(route, spec)) {
    responses[String(status)] = { $ref: `#/components/responses/${ERROR_RESPONSE_PREFIX}${status}` };
  }
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: securityOf(route),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: spec.body.required,
            content: {
              'application/json': {
                schema: requestSchema(spec.body.schema),
                ...(spec.body.example === undefined ? {} : { example: spec.body.example }),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

const ACCESS_NOTES: Record<RouteAccess, string> = {
  staff: "staff routes take an admin, support or automation token of the path's site",
  customer: '`/me` routes take a customer token (the site and customer come from it)',
  webhook: 'processor webhooks are verified by their signature headers',
  public: 'public routes take nothing',
};

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;

let built: OpenApiDocument | undefined;
/** The document, built once per process (the generation walks every schema). */
export function openApiDocument(): OpenApiDocument {
  built ??= buildOpenApiDocument();
  return built;
}

/** The whole document; deterministic (same input, same bytes), so the committed openapi.json can be compared. */
export function buildOpenApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES as readonly RouteDefinition[]) {
    const spec = OPERATIONS[routeKey(route) as DeclaredRouteKey];
    if (!spec) throw new Error(`no operation for route ${routeKey(route)}`);
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route, spec);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'membergate',
      version: '0.1.0',
      description: [
        'Which customer may use which product, and until when; kept in step with subscriptions and payment plans.',
        `Authentication: ${Object.values(ACCESS_NOTES).join('; ')}.`,
        'Locally (`npm start`), `POST /local/tokens` mints a token: paste it as the bearer token.',
      ].join('\n\n'),
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    // Relative: the API that served the document (the local runtime on :3000, or the stack's API endpoint).
    servers: [{ url: '/', description: 'The API serving this document (`npm start`: http://localhost:3000)' }],
    tags: [...new Set(Object.values(OPERATIONS).map((spec) => spec.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: {
        ...responseComponents(),
        GatewayMessage: {
          type: 'object',
          description: "API Gateway's own answer (throttling, the JWT authorizer's refusal), not membergate's.",
          properties: { message: { type: 'string' } },
          required: ['message'],
        },
      },
      responses: Object.fromEntries(
        Object.keys(ERROR_DESCRIPTIONS).map((status) => [
          `${ERROR_RESPONSE_PREFIX}${status}`,
          errorResponseComponent(Number(status)),
        ]),
      ),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A Cognito ID token (on AWS) or a token from `POST /local/tokens` (locally), with claims `custom:role`, `custom:siteId`, `custom:customerId` and `email`.',
        },
        stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature' },
        paypalSignature: { type: 'apiKey', in: 'header', name: 'PAYPAL-TRANSMISSION-SIG' },
      },
    },
  };
}

/** The document as committed in openapi.json: two-space JSON and a final newline (Biome's formatting of it). */
export function openApiText(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
