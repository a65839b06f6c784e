import { createHash } from 'node:crypto';
import { HISTORY_TYPES, type Instant } from './types.ts';

/**
 * Integrator webhooks (DESIGN.md §5): the rules, as pure functions. A site registers endpoints; every
 * published event of the site whose type the endpoint selected becomes one delivery job per (event,
 * endpoint), POSTed and signed the Standard Webhooks way, retried on the schedule below, and the endpoint
 * is disabled once a job has failed for at least a day.
 */

/** Events about a site rather than a purchase, published on the same bus (shared/ports/event-bus.ts `SiteEvent`). */
export const SITE_EVENT_TYPES = ['webhook_endpoint.disabled'] as const;
export type SiteEventType = (typeof SITE_EVENT_TYPES)[number];

/** Every type an endpoint can select: the purchase events (the history types) and the site events. */
export const WEBHOOK_EVENT_TYPES = [...HISTORY_TYPES, ...SITE_EVENT_TYPES] as const;

/** Bounds the fan-out: each event costs one job per endpoint of its site. */
export const MAX_ENDPOINTS_PER_SITE = 20;

/** A 2xx within this is a success; anything slower is a failed attempt (and never holds up another job). */
export const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * The wait after failed attempt n (1-based) before attempt n+1: 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h,
 * then 6 h (the cap). Twelve attempts in all; the waits add up to 31.7 h, and jitter only lengthens them, so
 * a job is retried for more than the 24 h DESIGN.md asks before it gives up.
 */
export const RETRY_DELAYS_SECONDS = [
  30, 120, 600, 1_800, 3_600, 7_200, 14_400, 21_600, 21_600, 21_600, 21_600,
] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;
/**
 * Jitter adds up to this share of the wait: endpoints that failed together (a site's outage) do not all come
 * back at the same second. Only added, never taken away, so the 24 h floor holds whatever the dice say.
 */
export const RETRY_JITTER = 0.2;

/** A rotated-out secret keeps signing (beside the new one) this long, so receivers can switch without a gap. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 3_600_000;

/** How long jobs and attempt records stay readable (table TTL). */
export const DELIVERY_RETENTION_DAYS = 30;

export interface WebhookEndpoint {
  siteId: string;
  endpointId: string;
  url: string;
  /** null: every event type. */
  eventTypes: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Instant | null;
  /** Standard Webhooks secret, `whsec_` + base64 of 32 random bytes; shown once, never in a view. */
  secret: string;
  /** The secret before the last rotation, still signing until `previousSecretExpiresAt`. */
  previousSecret: string | null;
  previousSecretExpiresAt: Instant | null;
  secretRotatedAt: Instant | null;
  createdAt: Instant;
  updatedAt: Instant;
}

/** What the API shows of an endpoint: never a secret. */
export interface WebhookEndpointView {
  siteId: string;
  endpointId: string;
  url: string;
  eventTypes: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Instant | null;
  secretRotatedAt: Instant | null;
  createdAt: Instant;
  updatedAt: Instant;
}

export function endpointView(endpoint: WebhookEndpoint): WebhookEndpointView {
  return {
    siteId: endpoint.siteId,
    endpointId: endpoint.endpointId,
    url: endpoint.url,
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    disabledAt: endpoint.disabledAt,
    secretRotatedAt: endpoint.secretRotatedAt,
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
  };
}

/** Standard Webhooks' secret format: `whsec_` and the base64 of the key (24 to 64 bytes; we use 32). */
export function newSigningSecret(randomBytes: (size: number) => Uint8Array): string {
  return `whsec_${Buffer.from(randomBytes(32)).toString('base64')}`;
}

/** Whether an endpoint takes an event of this type: it is enabled and selected the type (or every type). */
export function wantsEvent(endpoint: Pick<WebhookEndpoint, 'enabled' | 'eventTypes'>, type: string): boolean {
  return endpoint.enabled && (endpoint.eventTypes === null || endpoint.eventTypes.includes(type));
}

/** The secrets a delivery at `now` is signed with: the current one, and the previous one during its grace. */
export function signingSecrets(endpoint: WebhookEndpoint, now: Date): string[] {
  const previousLive =
    endpoint.previousSecret !== null &&
    endpoint.previousSecretExpiresAt !== null &&
    Date.parse(endpoint.previousSecretExpiresAt) > now.getTime();
  return previousLive ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret];
}

/** The wait in seconds after failed attempt `attempt` (1-based), jitter included; null when none is left. */
export function retryDelaySeconds(attempt: number, random: () => number): number | null {
  const base = RETRY_DELAYS_SECONDS[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 + RETRY_JITTER * Math.min(Math.max(random(), 0), 1)));
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/**
 * One delivery job: one event for one endpoint. Created once per (event id, endpoint) by a conditional write,
 * so a redelivered event never makes a second one. `attempts` counts finished attempts; the job is `pending`
 * until one succeeds or the schedule is spent.
 */
export interface DeliveryJob {
  siteId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  /** The exact bytes POSTed (the envelope as JSON): every attempt signs the same payload. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due; null once the job is finished. */
  nextAttemptAt: Instant | null;
  /** The highest attempt a queue message was sent for: lets a crashed worker's successor re-send exactly once. */
  queuedAttempt: number;
  /** Set while a worker holds the job (an attempt in flight); another worker keeps off until it passes. */
  leaseUntil: Instant | null;
  /** Why the last attempt failed; null before any attempt and after a success. */
  lastError: string | null;
  /** Every attempt of the schedule failed: the job ended by disabling its endpoint. */
  gaveUp: boolean;
  /** The endpoint's disabling (after `gaveUp`) was published on the bus. */
  announced: boolean;
  createdAt: Instant;
  updatedAt: Instant;
}

/** One row of an endpoint's delivery log: an attempt made, or the next one waiting. */
export interface DeliveryAttempt {
  siteId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  status: DeliveryStatus;
  /** When the attempt is (or was) due. */
  scheduledFor: Instant;
  attemptedAt: Instant | null;
  responseCode: number | null;
  durationMs: number | null;
  error: string | null;
  /** After a failed attempt, when the next one is due; null after a success or the last attempt. */
  nextAttemptAt: Instant | null;
}

/** What one attempt came to, as the sender saw it. */
export interface AttemptOutcome {
  responseCode: number | null;
  durationMs: number;
  error: string | null;
}

export function succeeded(outcome: AttemptOutcome): boolean {
  return (
    outcome.error === null && outcome.responseCode !== null && outcome.responseCode >= 200 && outcome.responseCode < 300
  );
}

/** The job after attempt `attempt` ended with `outcome` at `now`. */
export function afterAttempt(
  job: DeliveryJob,
  attempt: number,
  outcome: AttemptOutcome,
  now: Date,
  random: () => number,
): { job: DeliveryJob; exhausted: boolean } {
  const at = now.toISOString();
  const base = { ...job, attempts: attempt, leaseUntil: null, updatedAt: at };
  if (succeeded(outcome)) {
    return { job: { ...base, status: 'succeeded', nextAttemptAt: null, lastError: null }, exhausted: false };
  }
  const failed = { ...base, lastError: describeFailure(outcome) };
  const delay = retryDelaySeconds(attempt, random);
  if (delay === null)
    return { job: { ...failed, status: 'failed', nextAttemptAt: null, gaveUp: true }, exhausted: true };
  return {
    job: { ...failed, status: 'pending', nextAttemptAt: new Date(now.getTime() + delay * 1000).toISOString() },
    exhausted: false,
  };
}

/** The job after attempt `attempt` was not made (its endpoint is deleted or disabled): it ends, failed. */
export function canceledAttempt(job: DeliveryJob, attempt: number, outcome: AttemptOutcome, now: Date): DeliveryJob {
  return {
    ...job,
    attempts: attempt,
    status: 'failed',
    nextAttemptAt: null,
    leaseUntil: null,
    lastError: describeFailure(outcome),
    updatedAt: now.toISOString(),
  };
}

/** How a failed attempt reads in the log and in `disabledReason`. */
export function describeFailure(outcome: AttemptOutcome): string {
  if (outcome.error !== null) return outcome.error;
  return `HTTP ${outcome.responseCode ?? 'no response'}`;
}

/** Why an endpoint was disabled after a job spent its schedule. */
export function exhaustedReason(job: DeliveryJob): string {
  return (
    `event ${job.eventId} (${job.eventType}) could not be delivered in ${job.attempts} attempts since ` +
    `${job.createdAt}; last: ${job.lastError ?? 'unknown error'}`
  );
}

/** The id of the `webhook_endpoint.disabled` event a job's exhaustion causes: the same on every retry. */
export function disabledEventId(siteId: string, endpointId: string, causeEventId: string): string {
  const digest = createHash('sha256')
    .update(`${siteId}/webhook_endpoint.disabled/${endpointId}/${causeEventId}`)
    .digest('hex')
    .slice(0, 32);
  return `evt_${digest}`;
}
