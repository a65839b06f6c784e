import { ConflictError, SiteResourceNotFoundError } from '../domain/errors.ts';
import type { Clock } from '../domain/time.ts';
import type { Actor } from '../domain/types.ts';
import {
  type DeliveryAttempt,
  endpointView,
  MAX_ENDPOINTS_PER_SITE,
  newSigningSecret,
  PREVIOUS_SECRET_GRACE_MS,
  type WebhookEndpoint,
  type WebhookEndpointView,
} from '../domain/webhook-endpoints.ts';
import type { Page } from '../ports/purchases.ts';
import type { WebhookStore } from '../ports/webhook-endpoints.ts';
import { checkWebhookUrl, type UrlGuard } from './webhook-url.ts';

/** What the endpoint use cases receive (wired in shared/wiring.ts and infra/local/runtime.ts). */
export interface WebhookEndpointDeps extends UrlGuard {
  webhooks: WebhookStore;
  clock: Clock;
  /** Secrets come from here: `crypto.randomBytes` in production. */
  randomBytes: (size: number) => Uint8Array;
}

export interface EndpointInput {
  url: string;
  eventTypes?: string[] | null | undefined;
  enabled?: boolean | undefined;
}

/** An endpoint as the API shows it; `secret` only in the answer that created or rotated it. */
export type EndpointReply = WebhookEndpointView & { secret?: string };

/** Another endpoint by this id could appear between the read and the create; re-reading once settles it. */
const MAX_PUT_ROUNDS = 3;

function describeActor(actor: Actor): string {
  switch (actor.type) {
    case 'admin':
      return actor.email;
    case 'support':
      return 'our support team';
    case 'automation':
      return 'automation';
    default:
      return actor.type;
  }
}

function notFound(endpointId: string): never {
  throw new SiteResourceNotFoundError(`webhook endpoint ${endpointId} not found`);
}

/**
 * Register or change an endpoint. Input: site, endpoint id, `{url, eventTypes?, enabled?}`, the admin.
 * Output: `{created, endpoint}`; a created endpoint carries its signing secret, the only time it is shown.
 * Main course: the SSRF guard judges the URL (400 naming `url`), then a conditional create, or an update of
 * the given fields only (left-out fields keep their value; `eventTypes: null` selects every type).
 * Rules: DESIGN.md §5 (https, no private addresses); at most `MAX_ENDPOINTS_PER_SITE` per site (409).
 */
export async function putEndpoint(
  deps: WebhookEndpointDeps,
  siteId: string,
  endpointId: string,
  input: EndpointInput,
  actor: Actor,
): Promise<{ created: boolean; endpoint: EndpointReply }> {
  const target = await checkWebhookUrl(input.url, deps);
  const url = target.url.href;
  for (let round = 0; round < MAX_PUT_ROUNDS; round++) {
    const at = deps.clock().toISOString();
    const existing = await deps.webhooks.getEndpoint(siteId, endpointId);
    if (existing) {
      const updated = await deps.webhooks.updateEndpoint(
        siteId,
        endpointId,
        { url, eventTypes: input.eventTypes, enabled: input.enabled, at },
        `disabled by ${describeActor(actor)}`,
      );
      if (updated) return { created: false, endpoint: endpointView(updated) };
      continue; // deleted meanwhile: create it
    }
    const enabled = input.enabled ?? true;
    const endpoint: WebhookEndpoint = {
      siteId,
      endpointId,
      url,
      eventTypes: input.eventTypes ?? null,
      enabled,
      disabledReason: enabled ? null : `disabled by ${describeActor(actor)}`,
      disabledAt: enabled ? null : at,
      secret: newSigningSecret(deps.randomBytes),
      previousSecret: null,
      previousSecretExpiresAt: null,
      secretRotatedAt: null,
      createdAt: at,
      updatedAt: at,
    };
    const created = await deps.webhooks.createEndpoint(endpoint, MAX_ENDPOINTS_PER_SITE);
    if (created === 'full') {
      throw new ConflictError(`a site may have at most ${MAX_ENDPOINTS_PER_SITE} webhook endpoints; delete one first`);
    }
    if (created === 'created') {
      return { created: true, endpoint: { ...endpointView(endpoint), secret: endpoint.secret } };
    }
    // `exists`: created by a concurrent request meanwhile: update it on the next round.
  }
  throw new ConflictError(`webhook endpoint ${endpointId} is being changed by another request; retry`);
}

export async function getEndpoint(
  deps: WebhookEndpointDeps,
  siteId: string,
  endpointId: string,
): Promise<EndpointReply> {
  const endpoint = await deps.webhooks.getEndpoint(siteId, endpointId);
  return endpoint ? endpointView(endpoint) : notFound(endpointId);
}

export async function listEndpoints(
  deps: WebhookEndpointDeps,
  siteId: string,
  limit: number,
  cursor: string | null,
): Promise<Page<EndpointReply>> {
  const page = await deps.webhooks.listEndpointsPage(siteId, limit, cursor);
  return { items: page.items.map(endpointView), nextCursor: page.nextCursor };
}

/** Removes the endpoint: nothing more is delivered to it; its delivery log expires with the table's TTL. */
export async function deleteEndpoint(deps: WebhookEndpointDeps, siteId: string, endpointId: string): Promise<void> {
  if (!(await deps.webhooks.deleteEndpoint(siteId, endpointId))) notFound(endpointId);
}

/**
 * Rotate the signing secret. Output: the endpoint with the new secret, shown this once. The old secret keeps
 * signing beside the new one for `PREVIOUS_SECRET_GRACE_MS` (Standard Webhooks allows several signatures in
 * `webhook-signature`), so a receiver can switch without rejecting a delivery.
 */
export async function rotateSecret(
  deps: WebhookEndpointDeps,
  siteId: string,
  endpointId: string,
): Promise<EndpointReply> {
  const now = deps.clock();
  const secret = newSigningSecret(deps.randomBytes);
  const previousExpiresAt = new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS).toISOString();
  const endpoint = await deps.webhooks.rotateSecret(siteId, endpointId, secret, previousExpiresAt, now.toISOString());
  return endpoint ? { ...endpointView(endpoint), secret } : notFound(endpointId);
}

export type DeliveryLogEntry = Omit<DeliveryAttempt, 'siteId' | 'endpointId'>;

/** The endpoint's delivery log, newest first: every attempt made and the next one waiting. */
export async function listDeliveries(
  deps: WebhookEndpointDeps,
  siteId: string,
  endpointId: string,
  limit: number,
  cursor: string | null,
): Promise<Page<DeliveryLogEntry>> {
  if (!(await deps.webhooks.getEndpoint(siteId, endpointId))) notFound(endpointId);
  const page = await deps.webhooks.listAttempts(siteId, endpointId, limit, cursor);
  return {
    items: page.items.map((row) => ({
      eventId: row.eventId,
      eventType: row.eventType,
      attempt: row.attempt,
      status: row.status,
      scheduledFor: row.scheduledFor,
      attemptedAt: row.attemptedAt,
      responseCode: row.responseCode,
      durationMs: row.durationMs,
      error: row.error,
      nextAttemptAt: row.nextAttemptAt,
    })),
    nextCursor: page.nextCursor,
  };
}
