import type { Instant } from '../../shared/domain/types.ts';
import type { DeliveryAttempt, DeliveryJob, WebhookEndpoint } from '../../shared/domain/webhook-endpoints.ts';
import type { Page } from '../../shared/ports/purchases.ts';
import type { EndpointPatch, WebhookStore } from '../../shared/ports/webhook-endpoints.ts';
import { compare, copy, page } from './memory-paging.ts';

/**
 * The in-memory twin of DynamoWebhookStore (shared/store/webhook-endpoints.ts), held to the same contract
 * (test/contract/webhook-store.contract.ts). Like the other twins: every write checks its condition and
 * applies its change with no `await` in between, and values go in and out as structured clones.
 */
export class MemoryWebhookStore implements WebhookStore {
  private readonly endpoints = new Map<string, WebhookEndpoint & { disabledBy?: string }>();
  private readonly jobs = new Map<string, DeliveryJob>();
  private readonly attempts = new Map<string, { partition: string; sortKey: string; row: DeliveryAttempt }>();

  async getEndpoint(siteId: string, endpointId: string): Promise<WebhookEndpoint | null> {
    return endpointOf(this.endpoints.get(key(siteId, endpointId)));
  }

  async listEndpoints(siteId: string): Promise<WebhookEndpoint[]> {
    return this.siteEndpoints(siteId).map((endpoint) => endpointOf(endpoint)!);
  }

  async listEndpointsPage(siteId: string, limit: number, cursor: string | null): Promise<Page<WebhookEndpoint>> {
    const rows = this.siteEndpoints(siteId).map((endpoint) => ({
      sortKey: endpoint.endpointId,
      item: endpointOf(endpoint)!,
    }));
    return page(rows, ['endpoints', siteId], limit, cursor, 'ascending');
  }

  async countEndpoints(siteId: string): Promise<number> {
    return this.siteEndpoints(siteId).length;
  }

  async createEndpoint(endpoint: WebhookEndpoint, maxPerSite: number): Promise<'created' | 'exists' | 'full'> {
    const id = key(endpoint.siteId, endpoint.endpointId);
    if (this.endpoints.has(id)) return 'exists';
    if (this.siteEndpoints(endpoint.siteId).length >= maxPerSite) return 'full';
    this.endpoints.set(id, copy(endpoint));
    return 'created';
  }

  async updateEndpoint(
    siteId: string,
    endpointId: string,
    patch: EndpointPatch,
    disabledReason: string,
  ): Promise<WebhookEndpoint | null> {
    const current = this.endpoints.get(key(siteId, endpointId));
    if (!current) return null;
    const next = { ...current, url: patch.url, updatedAt: patch.at };
    if (patch.eventTypes !== undefined) next.eventTypes = copy(patch.eventTypes);
    if (patch.enabled === true) {
      Object.assign(next, { enabled: true, disabledReason: null, disabledAt: null });
      delete next.disabledBy;
    }
    if (patch.enabled === false && current.enabled) {
      Object.assign(next, { enabled: false, disabledReason, disabledAt: patch.at });
    }
    this.endpoints.set(key(siteId, endpointId), next);
    return endpointOf(next);
  }

  async deleteEndpoint(siteId: string, endpointId: string): Promise<boolean> {
    return this.endpoints.delete(key(siteId, endpointId));
  }

  async rotateSecret(
    siteId: string,
    endpointId: string,
    secret: string,
    previousExpiresAt: Instant,
    at: Instant,
  ): Promise<WebhookEndpoint | null> {
    const current = this.endpoints.get(key(siteId, endpointId));
    if (!current) return null;
    const next = {
      ...current,
      previousSecret: current.secret,
      secret,
      previousSecretExpiresAt: previousExpiresAt,
      secretRotatedAt: at,
      updatedAt: at,
    };
    this.endpoints.set(key(siteId, endpointId), next);
    return endpointOf(next);
  }

  async disableEndpoint(
    siteId: string,
    endpointId: string,
    reason: string,
    causeEventId: string,
    at: Instant,
  ): Promise<{ endpoint: WebhookEndpoint; disabled: boolean } | null> {
    const current = this.endpoints.get(key(siteId, endpointId));
    if (!current) return null;
    if (!current.enabled && current.disabledBy !== causeEventId)
      return { endpoint: endpointOf(current)!, disabled: false };
    const next = {
      ...current,
      enabled: false,
      disabledReason: reason,
      disabledAt: at,
      disabledBy: causeEventId,
      updatedAt: at,
    };
    this.endpoints.set(key(siteId, endpointId), next);
    return { endpoint: endpointOf(next)!, disabled: true };
  }

  async createJob(job: DeliveryJob, first: DeliveryAttempt): Promise<boolean> {
    const id = key(job.siteId, job.endpointId, job.eventId);
    if (this.jobs.has(id)) return false;
    this.jobs.set(id, copy(job));
    this.putAttempt(first);
    return true;
  }

  async getJob(siteId: string, endpointId: string, eventId: string): Promise<DeliveryJob | null> {
    const job = this.jobs.get(key(siteId, endpointId, eventId));
    return job ? copy(job) : null;
  }

  async markQueued(siteId: string, endpointId: string, eventId: string, attempt: number): Promise<boolean> {
    const job = this.jobs.get(key(siteId, endpointId, eventId));
    if (!job || job.queuedAttempt >= attempt) return false;
    job.queuedAttempt = attempt;
    return true;
  }

  async claimJob(
    siteId: string,
    endpointId: string,
    eventId: string,
    attempt: number,
    leaseUntil: Instant,
    now: Instant,
  ): Promise<boolean> {
    const job = this.jobs.get(key(siteId, endpointId, eventId));
    if (job?.status !== 'pending' || job.attempts !== attempt - 1) return false;
    if (job.leaseUntil !== null && job.leaseUntil > now) return false;
    job.leaseUntil = leaseUntil;
    return true;
  }

  async recordAttempt(
    job: DeliveryJob,
    leaseUntil: Instant,
    done: DeliveryAttempt,
    next: DeliveryAttempt | null,
  ): Promise<boolean> {
    const id = key(job.siteId, job.endpointId, job.eventId);
    const current = this.jobs.get(id);
    if (!current || current.leaseUntil !== leaseUntil || current.attempts !== done.attempt - 1) return false;
    this.jobs.set(id, copy(job));
    this.putAttempt(done);
    if (next) this.putAttempt(next);
    return true;
  }

  async markAnnounced(siteId: string, endpointId: string, eventId: string): Promise<void> {
    const job = this.jobs.get(key(siteId, endpointId, eventId));
    if (!job) throw new Error(`no delivery job for ${eventId}`);
    job.announced = true;
  }

  async listAttempts(
    siteId: string,
    endpointId: string,
    limit: number,
    cursor: string | null,
  ): Promise<Page<DeliveryAttempt>> {
    const partition = key(siteId, endpointId);
    const rows = [...this.attempts.values()]
      .filter((row) => row.partition === partition)
      .map((row) => ({ sortKey: row.sortKey, item: row.row }));
    return page(rows, ['attempts', siteId, endpointId], limit, cursor, 'descending');
  }

  private siteEndpoints(siteId: string) {
    return [...this.endpoints.values()]
      .filter((endpoint) => endpoint.siteId === siteId)
      .sort((a, b) => compare(a.endpointId, b.endpointId));
  }

  /** Keyed like the table's delivery log: due time, event, attempt number. */
  private putAttempt(row: DeliveryAttempt): void {
    const sortKey = `${row.scheduledFor}#${row.eventId}#${String(row.attempt).padStart(3, '0')}`;
    const partition = key(row.siteId, row.endpointId);
    this.attempts.set(JSON.stringify([partition, sortKey]), { partition, sortKey, row: copy(row) });
  }
}

const key = (...parts: string[]) => JSON.stringify(parts);

function endpointOf(stored: (WebhookEndpoint & { disabledBy?: string }) | undefined): WebhookEndpoint | null {
  if (!stored) return null;
  const { disabledBy: _disabledBy, ...endpoint } = copy(stored);
  return endpoint;
}
