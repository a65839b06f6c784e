import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { InvalidInputError } from '../../shared/domain/errors.ts';
import {
  type DeliveryAttempt,
  type DeliveryJob,
  MAX_ENDPOINTS_PER_SITE as MAX,
  type WebhookEndpoint,
} from '../../shared/domain/webhook-endpoints.ts';
import type { WebhookStore } from '../../shared/ports/webhook-endpoints.ts';

/**
 * The contract of the WebhookStore port, kept by the DynamoDB store (test/integration/webhook-store-contract.test.ts)
 * and its in-memory twin (test/unit/webhook-store-contract.test.ts). Not a `*.test.ts`: jest runs it only
 * through those two. Every test makes its own site: the DynamoDB table is shared by every test file.
 */
export function describeWebhookStoreContract(name: string, makeStore: () => WebhookStore): void {
  describe(`webhook store contract: ${name}`, () => {
    let store: WebhookStore;
    beforeAll(() => {
      store = makeStore();
    });

    const uid = (prefix: string) => `${prefix}-${randomUUID()}`;
    const T0 = '2026-03-01T10:00:00.000Z';
    const T1 = '2026-03-01T10:00:30.000Z';
    const T2 = '2026-03-01T10:02:30.000Z';

    const anEndpoint = (overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
      siteId: uid('site'),
      endpointId: 'main',
      url: 'https://hooks.example.com/a',
      eventTypes: null,
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTE=',
      previousSecret: null,
      previousSecretExpiresAt: null,
      secretRotatedAt: null,
      createdAt: T0,
      updatedAt: T0,
      ...overrides,
    });

    const aJob = (overrides: Partial<DeliveryJob> = {}): DeliveryJob => ({
      siteId: uid('site'),
      endpointId: 'main',
      eventId: uid('evt'),
      eventType: 'access.revoked',
      payload: '{"id":"evt"}',
      status: 'pending',
      attempts: 0,
      nextAttemptAt: T0,
      queuedAttempt: 0,
      leaseUntil: null,
      lastError: null,
      gaveUp: false,
      announced: false,
      createdAt: T0,
      updatedAt: T0,
      ...overrides,
    });

    const row = (job: DeliveryJob, attempt: number, overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt => ({
      siteId: job.siteId,
      endpointId: job.endpointId,
      eventId: job.eventId,
      eventType: job.eventType,
      attempt,
      status: 'pending',
      scheduledFor: T0,
      attemptedAt: null,
      responseCode: null,
      durationMs: null,
      error: null,
      nextAttemptAt: null,
      ...overrides,
    });

    describe('endpoints', () => {
      it('creates an endpoint once; a second create by the same id changes nothing', async () => {
        const endpoint = anEndpoint();

        expect(await store.createEndpoint(endpoint, MAX)).toBe('created');
        expect(await store.createEndpoint({ ...endpoint, url: 'https://other.example.com/' }, MAX)).toBe('exists');
        expect(await store.getEndpoint(endpoint.siteId, 'main')).toEqual(endpoint);
      });

      it('holds the per-site cap under concurrent creates; a delete frees a place; another site has its own', async () => {
        const siteId = uid('site');
        for (let i = 0; i < MAX - 2; i++) {
          expect(await store.createEndpoint(anEndpoint({ siteId, endpointId: `e${i}` }), MAX)).toBe('created');
        }

        const racing = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.createEndpoint(anEndpoint({ siteId, endpointId: `race${i}` }), MAX),
          ),
        );

        expect(racing.filter((outcome) => outcome === 'created')).toHaveLength(2);
        expect(racing.filter((outcome) => outcome === 'full')).toHaveLength(4);
        expect(await store.countEndpoints(siteId)).toBe(MAX);
        expect(await store.createEndpoint(anEndpoint({ siteId, endpointId: 'e0' }), MAX)).toBe('exists');
        expect(await store.deleteEndpoint(siteId, 'e0')).toBe(true);
        expect(await store.deleteEndpoint(siteId, 'e0')).toBe(false);
        expect(await store.createEndpoint(anEndpoint({ siteId, endpointId: 'late' }), MAX)).toBe('created');
        expect(await store.createEndpoint(anEndpoint({ siteId, endpointId: 'one-more' }), MAX)).toBe('full');
        expect(await store.createEndpoint(anEndpoint({ endpointId: 'other-site' }), MAX)).toBe('created');
        expect(await store.countEndpoints(siteId)).toBe(MAX);
      });

      it("lists and counts the site's endpoints only, in id order, page by page", async () => {
        const siteId = uid('site');
        for (const endpointId of ['c', 'a', 'b']) await store.createEndpoint(anEndpoint({ siteId, endpointId }), MAX);
        await store.createEndpoint(anEndpoint({ endpointId: 'elsewhere' }), MAX);

        const first = await store.listEndpointsPage(siteId, 2, null);
        const second = await store.listEndpointsPage(siteId, 2, first.nextCursor);

        expect((await store.listEndpoints(siteId)).map((e) => e.endpointId)).toEqual(['a', 'b', 'c']);
        expect(await store.countEndpoints(siteId)).toBe(3);
        expect([...first.items, ...second.items].map((e) => e.endpointId)).toEqual(['a', 'b', 'c']);
        expect(second.nextCursor).toBeNull();
      });

      it("refuses a cursor of another site's list", async () => {
        const siteA = uid('site');
        for (const endpointId of ['a', 'b']) await store.createEndpoint(anEndpoint({ siteId: siteA, endpointId }), MAX);
        const { nextCursor } = await store.listEndpointsPage(siteA, 1, null);

        await expect(store.listEndpointsPage(uid('site'), 1, nextCursor)).rejects.toThrow(InvalidInputError);
      });

      it('an update changes the given fields; left-out eventTypes stay, null selects every type', async () => {
        const endpoint = anEndpoint({ eventTypes: ['access.revoked'] });
        await store.createEndpoint(endpoint, MAX);

        const kept = await store.updateEndpoint(
          endpoint.siteId,
          'main',
          { url: 'https://b.example.com/', at: T1 },
          'x',
        );
        const cleared = await store.updateEndpoint(
          endpoint.siteId,
          'main',
          { url: 'https://b.example.com/', eventTypes: null, at: T2 },
          'x',
        );

        expect(kept).toEqual({ ...endpoint, url: 'https://b.example.com/', updatedAt: T1 });
        expect(cleared).toEqual({ ...endpoint, url: 'https://b.example.com/', eventTypes: null, updatedAt: T2 });
        expect(
          await store.updateEndpoint(uid('site'), 'main', { url: 'https://b.example.com/', at: T1 }, 'x'),
        ).toBeNull();
      });

      it('disabling records the reason and time once; enabling clears them', async () => {
        const endpoint = anEndpoint();
        await store.createEndpoint(endpoint, MAX);
        const patch = { url: endpoint.url, at: T1 };

        const disabled = await store.updateEndpoint(endpoint.siteId, 'main', { ...patch, enabled: false }, 'first');
        const again = await store.updateEndpoint(
          endpoint.siteId,
          'main',
          { ...patch, enabled: false, at: T2 },
          'second',
        );
        const enabled = await store.updateEndpoint(endpoint.siteId, 'main', { ...patch, enabled: true, at: T2 }, 'x');

        expect(disabled).toMatchObject({ enabled: false, disabledReason: 'first', disabledAt: T1 });
        expect(again).toMatchObject({ enabled: false, disabledReason: 'first', disabledAt: T1, updatedAt: T2 });
        expect(enabled).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
      });

      it('deletes an endpoint once', async () => {
        const endpoint = anEndpoint();
        await store.createEndpoint(endpoint, MAX);

        expect(await store.deleteEndpoint(endpoint.siteId, 'main')).toBe(true);
        expect(await store.deleteEndpoint(endpoint.siteId, 'main')).toBe(false);
        expect(await store.getEndpoint(endpoint.siteId, 'main')).toBeNull();
      });

      it('a rotation keeps the old secret as the previous one, until the given time', async () => {
        const endpoint = anEndpoint();
        await store.createEndpoint(endpoint, MAX);

        const rotated = await store.rotateSecret(endpoint.siteId, 'main', 'whsec_bmV3', T2, T1);

        expect(rotated).toEqual({
          ...endpoint,
          secret: 'whsec_bmV3',
          previousSecret: endpoint.secret,
          previousSecretExpiresAt: T2,
          secretRotatedAt: T1,
          updatedAt: T1,
        });
        expect(await store.rotateSecret(uid('site'), 'main', 'whsec_bmV3', T2, T1)).toBeNull();
      });

      it('a failing job disables an enabled endpoint; its retry says so again; another cause finds it disabled', async () => {
        const endpoint = anEndpoint();
        await store.createEndpoint(endpoint, MAX);

        const first = await store.disableEndpoint(endpoint.siteId, 'main', 'failing', 'evt_1', T1);
        const retried = await store.disableEndpoint(endpoint.siteId, 'main', 'failing', 'evt_1', T1);
        const other = await store.disableEndpoint(endpoint.siteId, 'main', 'other', 'evt_2', T2);

        expect(first).toEqual({
          endpoint: { ...endpoint, enabled: false, disabledReason: 'failing', disabledAt: T1, updatedAt: T1 },
          disabled: true,
        });
        expect(retried?.disabled).toBe(true);
        expect(other).toEqual({ endpoint: first!.endpoint, disabled: false });
        expect(await store.disableEndpoint(uid('site'), 'main', 'x', 'evt_1', T1)).toBeNull();
      });

      it('an endpoint an admin disabled is not disabled again by a failing job', async () => {
        const endpoint = anEndpoint();
        await store.createEndpoint(endpoint, MAX);
        await store.updateEndpoint(endpoint.siteId, 'main', { url: endpoint.url, enabled: false, at: T1 }, 'admin');

        const result = await store.disableEndpoint(endpoint.siteId, 'main', 'failing', 'evt_1', T2);

        expect(result).toMatchObject({ disabled: false, endpoint: { disabledReason: 'admin' } });
      });
    });

    describe('delivery jobs', () => {
      it('creates one job per (event, endpoint), with its first pending row', async () => {
        const job = aJob();

        expect(await store.createJob(job, row(job, 1))).toBe(true);
        expect(await store.createJob({ ...job, payload: '{}' }, row(job, 1))).toBe(false);
        expect(await store.createJob({ ...job, endpointId: 'other' }, row({ ...job, endpointId: 'other' }, 1))).toBe(
          true,
        );
        expect(await store.getJob(job.siteId, 'main', job.eventId)).toEqual(job);
        expect((await store.listAttempts(job.siteId, 'main', 10, null)).items).toEqual([row(job, 1)]);
      });

      it('marks an attempt queued only once', async () => {
        const job = aJob();
        await store.createJob(job, row(job, 1));

        expect(await store.markQueued(job.siteId, 'main', job.eventId, 1)).toBe(true);
        expect(await store.markQueued(job.siteId, 'main', job.eventId, 1)).toBe(false);
        expect((await store.getJob(job.siteId, 'main', job.eventId))?.queuedAttempt).toBe(1);
      });

      it('one worker claims an attempt: not the wrong attempt, not while leased, again once the lease passed', async () => {
        const job = aJob();
        await store.createJob(job, row(job, 1));
        const claim = (attempt: number, lease: string, now: string) =>
          store.claimJob(job.siteId, 'main', job.eventId, attempt, lease, now);

        expect(await claim(2, T1, T0)).toBe(false);
        expect(await claim(1, T1, T0)).toBe(true);
        expect(await claim(1, T2, T0)).toBe(false);
        expect(await claim(1, T2, T1)).toBe(true);
      });

      it('records an attempt only for the lease holder, with the next pending row; the log reads newest first', async () => {
        const job = aJob();
        await store.createJob(job, row(job, 1));
        await store.claimJob(job.siteId, 'main', job.eventId, 1, T1, T0);
        const after: DeliveryJob = { ...job, attempts: 1, nextAttemptAt: T2, lastError: 'HTTP 500', updatedAt: T0 };
        const done = row(job, 1, {
          status: 'failed',
          attemptedAt: T0,
          responseCode: 500,
          durationMs: 12,
          nextAttemptAt: T2,
        });
        const next = row(job, 2, { scheduledFor: T2 });

        expect(await store.recordAttempt(after, T2, done, next)).toBe(false);
        expect(await store.recordAttempt(after, T1, done, next)).toBe(true);
        expect(await store.recordAttempt(after, T1, done, next)).toBe(false);
        expect(await store.getJob(job.siteId, 'main', job.eventId)).toEqual(after);
        expect((await store.listAttempts(job.siteId, 'main', 10, null)).items).toEqual([next, done]);
      });

      it('pages the delivery log', async () => {
        const job = aJob();
        await store.createJob(job, row(job, 1));
        await store.claimJob(job.siteId, 'main', job.eventId, 1, T1, T0);
        await store.recordAttempt(
          { ...job, attempts: 1, nextAttemptAt: T2 },
          T1,
          row(job, 1, { status: 'failed' }),
          row(job, 2, { scheduledFor: T2 }),
        );

        const first = await store.listAttempts(job.siteId, 'main', 1, null);
        const second = await store.listAttempts(job.siteId, 'main', 1, first.nextCursor);

        expect([...first.items, ...second.items].map((r) => r.attempt)).toEqual([2, 1]);
      });

      it('marks a job announced', async () => {
        const job = aJob({ status: 'failed', gaveUp: true });
        await store.createJob(job, row(job, 1));

        await store.markAnnounced(job.siteId, 'main', job.eventId);

        expect((await store.getJob(job.siteId, 'main', job.eventId))?.announced).toBe(true);
      });
    });
  });
}
