import type { Instant } from '../domain/types.ts';
import type { DeliveryAttempt, DeliveryJob, WebhookEndpoint } from '../domain/webhook-endpoints.ts';
import type { Page } from './purchases.ts';

/** The fields a PUT on an existing endpoint may change; absent ones keep their value. */
export interface EndpointPatch {
  url: string;
  eventTypes?: string[] | null | undefined;
  enabled?: boolean | undefined;
  at: Instant;
}

/**
 * Port for integrator webhook endpoints and their delivery jobs (DynamoDB: shared/store/webhook-endpoints.ts;
 * in memory: test/support/memory-webhook-store.ts; one contract suite holds both). Every state change is one
 * conditional write, so concurrent workers and redelivered messages cannot make an attempt twice or lose one.
 */
export interface WebhookStore {
  getEndpoint(siteId: string, endpointId: string): Promise<WebhookEndpoint | null>;
  /** Every endpoint of the site (at most `MAX_ENDPOINTS_PER_SITE`), for the fan-out. */
  listEndpoints(siteId: string): Promise<WebhookEndpoint[]>;
  listEndpointsPage(siteId: string, limit: number, cursor: string | null): Promise<Page<WebhookEndpoint>>;
  /** How many endpoints the site has. */
  countEndpoints(siteId: string): Promise<number>;
  /**
   * Creates it only if no endpoint has this id (`exists`) and the site has fewer than `maxPerSite` (`full`),
   * both decided by the write itself: concurrent creates never exceed the cap.
   */
  createEndpoint(endpoint: WebhookEndpoint, maxPerSite: number): Promise<'created' | 'exists' | 'full'>;
  /**
   * Changes only the given fields of an existing endpoint (null when there is none). Enabling clears
   * `disabledReason` and `disabledAt`; disabling sets them to `disabledReason` and `at`.
   */
  updateEndpoint(
    siteId: string,
    endpointId: string,
    patch: EndpointPatch,
    disabledReason: string,
  ): Promise<WebhookEndpoint | null>;
  deleteEndpoint(siteId: string, endpointId: string): Promise<boolean>;
  /** Replaces the secret; the old one keeps signing until `previousExpiresAt`. Null when there is no endpoint. */
  rotateSecret(
    siteId: string,
    endpointId: string,
    secret: string,
    previousExpiresAt: Instant,
    at: Instant,
  ): Promise<WebhookEndpoint | null>;
  /**
   * Disables an enabled endpoint, recording `reason` and `causeEventId` (the job that gave up). Returns the
   * endpoint and whether this call disabled it; calling again for the same cause answers `disabled: true`
   * again, so a retried announcement is made. Null when there is no endpoint.
   */
  disableEndpoint(
    siteId: string,
    endpointId: string,
    reason: string,
    causeEventId: string,
    at: Instant,
  ): Promise<{ endpoint: WebhookEndpoint; disabled: boolean } | null>;

  /**
   * Creates the job and its first (pending) attempt row in one transaction, only if no job exists for this
   * (event id, endpoint): false for a redelivered event.
   */
  createJob(job: DeliveryJob, first: DeliveryAttempt): Promise<boolean>;
  getJob(siteId: string, endpointId: string, eventId: string): Promise<DeliveryJob | null>;
  /** Records that a message for `attempt` was queued, if none was yet: false when one was. */
  markQueued(siteId: string, endpointId: string, eventId: string, attempt: number): Promise<boolean>;
  /**
   * Takes the job for `attempt` until `leaseUntil`: only while it is pending, `attempt - 1` attempts are done
   * and no other worker holds an unexpired lease. False when any of that is not so.
   */
  claimJob(
    siteId: string,
    endpointId: string,
    eventId: string,
    attempt: number,
    leaseUntil: Instant,
    now: Instant,
  ): Promise<boolean>;
  /**
   * Records an attempt in one transaction: the job as it is after it (conditioned on the lease `leaseUntil`
   * still being the claimer's), the attempt's row with its outcome, and the next attempt's pending row if
   * there is one. False when the lease was lost (another worker's result stands).
   */
  recordAttempt(
    job: DeliveryJob,
    leaseUntil: Instant,
    done: DeliveryAttempt,
    next: DeliveryAttempt | null,
  ): Promise<boolean>;
  /** Marks a given-up job's disabling as announced on the bus. */
  markAnnounced(siteId: string, endpointId: string, eventId: string): Promise<void>;
  /** The endpoint's delivery log, newest first. */
  listAttempts(
    siteId: string,
    endpointId: string,
    limit: number,
    cursor: string | null,
  ): Promise<Page<DeliveryAttempt>>;
}
