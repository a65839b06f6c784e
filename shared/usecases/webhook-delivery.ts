import { Webhook } from 'standardwebhooks';
import type { Clock } from '../domain/time.ts';
import {
  type AttemptOutcome,
  afterAttempt,
  canceledAttempt,
  type DeliveryAttempt,
  type DeliveryJob,
  disabledEventId,
  endpointView,
  exhaustedReason,
  signingSecrets,
  type WebhookEndpoint,
  wantsEvent,
} from '../domain/webhook-endpoints.ts';
import type { DeliveryMessage, DeliveryQueue } from '../ports/delivery-queue.ts';
import type { BusEvent, EventBus, SiteEvent } from '../ports/event-bus.ts';
import type { WebhookSender } from '../ports/outbound-http.ts';
import type { WebhookStore } from '../ports/webhook-endpoints.ts';
import { checkWebhookUrl, UnsafeWebhookUrlError, type UrlGuard } from './webhook-url.ts';

/** What the fan-out and delivery use cases receive (shared/wiring.ts on AWS, infra/local/runtime.ts locally). */
export interface DeliveryDeps extends UrlGuard {
  webhooks: WebhookStore;
  clock: Clock;
  queue: DeliveryQueue;
  sender: WebhookSender;
  /** Where `webhook_endpoint.disabled` is published. */
  bus: EventBus;
  /** Jitter's dice: `Math.random` in production. */
  random: () => number;
  /** `DELIVERY_TIMEOUT_MS` in production. */
  timeoutMs: number;
}

/** What the fan-out needs: it creates and queues jobs, and never calls an endpoint or the bus. */
export type FanOutDeps = Pick<DeliveryDeps, 'webhooks' | 'clock' | 'queue'>;

/** A worker holds a job this much longer than the request may take (signing, DNS, the writes around it). */
const LEASE_MARGIN_MS = 50_000;
/** A message up to this early is run now: queues round delays to seconds. */
const EARLY_TOLERANCE_MS = 1_000;

/**
 * Fan-out of one published event. Input: the event (a purchase event or a site event). Output: how many
 * jobs it created. Main course: one job per endpoint of the event's site that wants its type, each created
 * by a conditional write on (event id, endpoint) with its first pending attempt, then queued on its own.
 * Rules (DESIGN.md §5): delivery is at least once and a redelivered event creates no second job; one slow
 * endpoint never delays another, because every job is its own queue message with its own timeout.
 */
export async function fanOut(deps: FanOutDeps, event: BusEvent): Promise<number> {
  const endpoints = (await deps.webhooks.listEndpoints(event.siteId)).filter((endpoint) =>
    wantsEvent(endpoint, event.type),
  );
  const created = await Promise.all(endpoints.map((endpoint) => createJob(deps, endpoint, event)));
  return created.filter(Boolean).length;
}

async function createJob(deps: FanOutDeps, endpoint: WebhookEndpoint, event: BusEvent): Promise<boolean> {
  const at = deps.clock().toISOString();
  const job: DeliveryJob = {
    siteId: endpoint.siteId,
    endpointId: endpoint.endpointId,
    eventId: event.id,
    eventType: event.type,
    payload: JSON.stringify(event),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: at,
    queuedAttempt: 0,
    leaseUntil: null,
    lastError: null,
    gaveUp: false,
    announced: false,
    createdAt: at,
    updatedAt: at,
  };
  const created = await deps.webhooks.createJob(job, pendingRow(job, 1, at));
  if (created) {
    await enqueue(deps, job, 1, 0);
    return true;
  }
  // A redelivered event: its job exists. Queue its first attempt only if the first fan-out died before it did.
  const existing = await deps.webhooks.getJob(job.siteId, job.endpointId, job.eventId);
  if (existing && existing.status === 'pending' && existing.attempts === 0 && existing.queuedAttempt === 0) {
    await enqueue(deps, existing, 1, 0);
  }
  return false;
}

export type DeliveryResult =
  | 'succeeded'
  | 'retry_scheduled'
  | 'gave_up'
  | 'canceled'
  | 'not_due'
  | 'duplicate'
  | 'lease_lost'
  | 'no_job';

/**
 * One attempt of one delivery job. Input: the queue message (site, endpoint, event id, attempt number).
 * Output: what happened. Main course: claim the job for this attempt (a conditional write: one worker per
 * attempt; a duplicate or stale message does nothing), judge the endpoint's URL again and connect only to
 * the address just checked, POST the envelope signed with Standard Webhooks headers within the timeout,
 * then record the attempt and the next one in one transaction and queue it with its delay. Rules
 * (DESIGN.md §5): a 2xx within 10 s succeeds; failures follow the retry schedule for more than 24 h, then
 * the endpoint is disabled with the reason and `webhook_endpoint.disabled` is published.
 */
export async function deliver(deps: DeliveryDeps, message: DeliveryMessage): Promise<DeliveryResult> {
  const now = deps.clock();
  const job = await deps.webhooks.getJob(message.siteId, message.endpointId, message.eventId);
  if (!job) return 'no_job';
  if (job.attempts >= message.attempt || job.status !== 'pending') {
    await recover(deps, job, message);
    return 'duplicate';
  }
  if (job.attempts < message.attempt - 1) return 'duplicate';
  const dueInMs = job.nextAttemptAt === null ? 0 : Date.parse(job.nextAttemptAt) - now.getTime();
  if (dueInMs > EARLY_TOLERANCE_MS) {
    await deps.queue.send(message, Math.ceil(dueInMs / 1000));
    return 'not_due';
  }

  const leaseUntil = new Date(now.getTime() + deps.timeoutMs + LEASE_MARGIN_MS).toISOString();
  const claimed = await deps.webhooks.claimJob(
    job.siteId,
    job.endpointId,
    job.eventId,
    message.attempt,
    leaseUntil,
    now.toISOString(),
  );
  if (!claimed) return 'duplicate';

  const endpoint = await deps.webhooks.getEndpoint(job.siteId, job.endpointId);
  const attemptedAt = deps.clock();
  // Nothing more goes to a deleted or disabled endpoint: its waiting jobs end here, unsent.
  const canceled = !endpoint?.enabled;
  const outcome: AttemptOutcome = endpoint?.enabled
    ? await attempt(deps, endpoint, job, attemptedAt)
    : { responseCode: null, durationMs: 0, error: `endpoint ${endpoint ? 'disabled' : 'deleted'}; not sent` };
  const finished = deps.clock();
  const next = canceled
    ? { job: canceledAttempt(job, message.attempt, outcome, finished), exhausted: false }
    : afterAttempt(job, message.attempt, outcome, finished, deps.random);
  const done: DeliveryAttempt = {
    ...pendingRow(job, message.attempt, job.nextAttemptAt ?? job.createdAt),
    status: next.job.status === 'succeeded' ? 'succeeded' : 'failed',
    attemptedAt: attemptedAt.toISOString(),
    responseCode: outcome.responseCode,
    durationMs: outcome.durationMs,
    error: outcome.error,
    nextAttemptAt: next.job.nextAttemptAt,
  };
  const following = next.job.nextAttemptAt ? pendingRow(job, message.attempt + 1, next.job.nextAttemptAt) : null;
  if (!(await deps.webhooks.recordAttempt(next.job, leaseUntil, done, following))) return 'lease_lost';

  if (next.job.status === 'succeeded') return 'succeeded';
  if (canceled) return 'canceled';
  if (next.exhausted) {
    await announceDisabled(deps, next.job);
    return 'gave_up';
  }
  await enqueue(deps, next.job, message.attempt + 1, secondsUntil(next.job.nextAttemptAt!, deps.clock()));
  return 'retry_scheduled';
}

/** Judges the URL again (DNS may have changed since registration) and POSTs to the address just checked. */
async function attempt(
  deps: DeliveryDeps,
  endpoint: WebhookEndpoint,
  job: DeliveryJob,
  at: Date,
): Promise<AttemptOutcome> {
  let target: Awaited<ReturnType<typeof checkWebhookUrl>>;
  try {
    target = await checkWebhookUrl(endpoint.url, deps);
  } catch (error) {
    if (error instanceof UnsafeWebhookUrlError) {
      return { responseCode: null, durationMs: 0, error: `${error.message}; not sent` };
    }
    throw error;
  }
  return deps.sender.post({
    url: target.url,
    address: target.address,
    family: target.family,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'membergate-webhooks/1',
      ...signatureHeaders(job.eventId, job.payload, signingSecrets(endpoint, at), at),
    },
    body: job.payload,
    timeoutMs: deps.timeoutMs,
  });
}

/**
 * Standard Webhooks headers: `webhook-id` (the event id: receivers deduplicate by it), `webhook-timestamp`
 * (seconds), `webhook-signature` (`v1,<base64 HMAC-SHA256>`, one per live secret, space-separated).
 */
export function signatureHeaders(
  eventId: string,
  payload: string,
  secrets: readonly string[],
  at: Date,
): Record<string, string> {
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(eventId, at, payload)).join(' '),
  };
}

/**
 * A message for a job already past this attempt, or finished: usually a duplicate. It may also be the
 * retry of a worker that died after recording its attempt and before queueing the next one, or before
 * announcing the endpoint's disabling; those steps are redone here, once (`queuedAttempt`, `announced`).
 */
async function recover(deps: DeliveryDeps, job: DeliveryJob, message: DeliveryMessage): Promise<void> {
  if (job.attempts !== message.attempt) return;
  if (job.status === 'pending' && job.nextAttemptAt && job.queuedAttempt < job.attempts + 1) {
    await enqueue(deps, job, job.attempts + 1, secondsUntil(job.nextAttemptAt, deps.clock()));
  }
  if (job.status === 'failed' && job.gaveUp && !job.announced) await announceDisabled(deps, job);
}

/** Queues `attempt` of the job and records that it was (so a recovery does not queue it again). */
async function enqueue(deps: FanOutDeps, job: DeliveryJob, attempt: number, delaySeconds: number): Promise<void> {
  await deps.queue.send(
    { siteId: job.siteId, endpointId: job.endpointId, eventId: job.eventId, attempt },
    delaySeconds,
  );
  await deps.webhooks.markQueued(job.siteId, job.endpointId, job.eventId, attempt);
}

/**
 * Disables the endpoint with the reason, and publishes `webhook_endpoint.disabled` (same id on every retry:
 * consumers deduplicate). A publish the bus refuses throws, so the queue retries the message and `recover`
 * tries again; an endpoint someone else disabled first (an admin) is not announced.
 */
async function announceDisabled(deps: DeliveryDeps, job: DeliveryJob): Promise<void> {
  const at = deps.clock().toISOString();
  const result = await deps.webhooks.disableEndpoint(job.siteId, job.endpointId, exhaustedReason(job), job.eventId, at);
  if (result?.disabled) {
    const event: SiteEvent = {
      id: disabledEventId(job.siteId, job.endpointId, job.eventId),
      type: 'webhook_endpoint.disabled',
      siteId: job.siteId,
      occurredAt: result.endpoint.disabledAt ?? at,
      actor: { type: 'system', reason: 'webhook_deliveries_failed' },
      data: { endpoint: endpointView(result.endpoint), causeEventId: job.eventId },
    };
    const published = await deps.bus.publish([event]);
    if (published.failed.length > 0) {
      throw new Error(`webhook_endpoint.disabled could not be published: ${published.failed[0]!.reason}`);
    }
  }
  await deps.webhooks.markAnnounced(job.siteId, job.endpointId, job.eventId);
}

function pendingRow(job: DeliveryJob, attempt: number, scheduledFor: string): DeliveryAttempt {
  return {
    siteId: job.siteId,
    endpointId: job.endpointId,
    eventId: job.eventId,
    eventType: job.eventType,
    attempt,
    status: 'pending',
    scheduledFor,
    attemptedAt: null,
    responseCode: null,
    durationMs: null,
    error: null,
    nextAttemptAt: null,
  };
}

function secondsUntil(instant: string, now: Date): number {
  return Math.max(0, Math.ceil((Date.parse(instant) - now.getTime()) / 1000));
}
