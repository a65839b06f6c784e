import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { type BulkJob, initialPages, type JobMarker, type JobPage, newJob } from '../../shared/domain/bulk-jobs.ts';
import { JobMarkerExistsError } from '../../shared/domain/errors.ts';
import { grantOffer, revokeAccess } from '../../shared/domain/grants.ts';
import type { BulkJobStore } from '../../shared/ports/bulk-jobs.ts';
import type { Stores } from '../../shared/ports/stores.ts';

/**
 * The contract of BulkJobStore (and of `SaveOptions.jobMarker` on the purchase store), kept by the DynamoDB
 * adapter (test/integration/bulk-jobs-contract.test.ts) and the in-memory twin (test/unit/bulk-jobs-contract.test.ts).
 * Not a `*.test.ts`: jest runs it only through those two. Every test makes its own site and job ids.
 */
export function describeBulkJobStoreContract(
  name: string,
  make: () => { stores: Stores; jobs: BulkJobStore } | Promise<{ stores: Stores; jobs: BulkJobStore }>,
): void {
  describe(`bulk job store contract: ${name}`, () => {
    let stores: Stores;
    let jobs: BulkJobStore;
    beforeAll(async () => {
      ({ stores, jobs } = await make());
    });

    const uid = (prefix: string) => `${prefix}-${randomUUID()}`;
    const AT = '2026-03-01T10:00:00.000Z';
    const ADMIN = { type: 'admin', email: 'owner@example.com' } as const;

    function aJob(siteId = uid('site'), jobId = `blk_${Date.now()}_${randomUUID()}`): BulkJob {
      return newJob({
        jobId,
        siteId,
        kind: 'revoke',
        undoOf: null,
        selection: { type: 'offer', offerId: 'offer-1' },
        productIds: null,
        pageCount: null,
        requestedBy: ADMIN,
        at: AT,
      });
    }
    const pagesOf = (job: BulkJob) =>
      initialPages(job.siteId, job.jobId, { type: 'offer', offerId: 'offer-1', productIds: null });
    const marker = (job: BulkJob, purchaseId: string, outcome: JobMarker['outcome']): JobMarker => ({
      siteId: job.siteId,
      jobId: job.jobId,
      purchaseId,
      outcome,
      productIds: [],
      reason: null,
      at: AT,
    });

    it('creates a job with its first page; an Idempotency-Key used again writes nothing and names the first job', async () => {
      const first = aJob();
      await expect(jobs.createJob(first, pagesOf(first), { key: 'k', fingerprint: 'f1' })).resolves.toBeNull();
      const second = aJob(first.siteId);
      await expect(jobs.createJob(second, pagesOf(second), { key: 'k', fingerprint: 'f2' })).resolves.toEqual({
        jobId: first.jobId,
        fingerprint: 'f1',
      });
      await expect(jobs.getJob(first.siteId, second.jobId)).resolves.toBeNull();
      await expect(jobs.getJob(first.siteId, first.jobId)).resolves.toEqual(first);
      await expect(jobs.findIdempotentJob(first.siteId, 'k')).resolves.toEqual({
        jobId: first.jobId,
        fingerprint: 'f1',
      });
      await expect(jobs.getPage(first.siteId, first.jobId, 0)).resolves.toMatchObject({
        purchaseIds: null,
        counted: false,
      });
    });

    it('lists a site’s jobs newest first, paginated, and refuses a forged cursor', async () => {
      const siteId = uid('site');
      const ids = [1, 2, 3].map((n) => `blk_${String(n).padStart(3, '0')}`);
      for (const jobId of ids) await jobs.createJob(aJob(siteId, jobId), [], null);
      const first = await jobs.listJobs(siteId, 2, null);
      expect(first.items.map((job) => job.jobId)).toEqual([ids[2], ids[1]]);
      const second = await jobs.listJobs(siteId, 2, first.nextCursor);
      expect(second.items.map((job) => job.jobId)).toEqual([ids[0]]);
      expect(second.nextCursor).toBeNull();
      await expect(jobs.listJobs(siteId, 2, 'forged')).rejects.toMatchObject({ details: [{ field: 'cursor' }] });
    });

    it('fixes a page once: a second resolver gets the first one’s purchases; the last page sets the page count', async () => {
      const job = aJob();
      await jobs.createJob(job, pagesOf(job), null);
      const page = (await jobs.getPage(job.siteId, job.jobId, 0))!;
      const next: JobPage = { ...page, page: 1, source: { type: 'offer', offerId: 'offer-1', cursor: 'c' } };
      await expect(jobs.resolvePage({ ...page, purchaseIds: ['a', 'b'], last: false }, next)).resolves.toMatchObject({
        purchaseIds: ['a', 'b'],
      });
      await expect(jobs.resolvePage({ ...page, purchaseIds: ['x'], last: true }, null)).resolves.toMatchObject({
        purchaseIds: ['a', 'b'],
        last: false,
      });
      await expect(jobs.getPage(job.siteId, job.jobId, 1)).resolves.toMatchObject({ purchaseIds: null });
      await jobs.resolvePage({ ...next, purchaseIds: [], last: true }, null);
      await expect(jobs.getJob(job.siteId, job.jobId)).resolves.toMatchObject({ pageCount: 2 });
    });

    it('counts a page once, and completes the job only when every page is counted', async () => {
      const job = aJob();
      await jobs.createJob(job, pagesOf(job), null);
      const page = (await jobs.getPage(job.siteId, job.jobId, 0))!;
      await jobs.resolvePage({ ...page, purchaseIds: ['a', 'b'], last: true }, null);
      await jobs.markRunning(job.siteId, job.jobId, AT);
      const tally = { total: 2, done: 1, skipped: 0, failed: 1, failures: [{ purchaseId: 'b', reason: 'gone' }] };
      await expect(jobs.countPage(job.siteId, job.jobId, 0, tally)).resolves.toBe(true);
      await expect(jobs.countPage(job.siteId, job.jobId, 0, tally)).resolves.toBe(false);
      await expect(jobs.completeIfCounted(job.siteId, job.jobId, AT)).resolves.toMatchObject({
        status: 'completed',
        total: 2,
        done: 1,
        failed: 1,
        failures: [{ purchaseId: 'b', reason: 'gone' }],
        startedAt: AT,
        finishedAt: AT,
      });
    });

    it('does not complete a job whose last page is not yet known', async () => {
      const job = aJob();
      await jobs.createJob(job, pagesOf(job), null);
      const page = (await jobs.getPage(job.siteId, job.jobId, 0))!;
      const next: JobPage = { ...page, page: 1, source: { type: 'offer', offerId: 'offer-1', cursor: 'c' } };
      await jobs.resolvePage({ ...page, purchaseIds: [], last: false }, next);
      await jobs.countPage(job.siteId, job.jobId, 0, { total: 0, done: 0, skipped: 0, failed: 0, failures: [] });
      await expect(jobs.completeIfCounted(job.siteId, job.jobId, AT)).resolves.toMatchObject({ status: 'queued' });
    });

    it('writes a marker once; lists markers of one outcome', async () => {
      const job = aJob();
      await jobs.createJob(job, [], null);
      await expect(jobs.putMarker(marker(job, 'p1', 'skipped'))).resolves.toBeNull();
      await expect(jobs.putMarker(marker(job, 'p1', 'failed'))).resolves.toMatchObject({ outcome: 'skipped' });
      await jobs.putMarker(marker(job, 'p2', 'done'));
      await jobs.putMarker(marker(job, 'p3', 'done'));
      const done = await jobs.listMarkers(job.siteId, job.jobId, 'done', 10, null);
      expect(done.items.map((m) => m.purchaseId)).toEqual(['p2', 'p3']);
    });

    it('puts a job marker in the purchase change’s write, and refuses the change when the marker exists', async () => {
      const job = aJob();
      await jobs.createJob(job, [], null);
      const created = grantOffer({
        purchaseId: uid('pur'),
        customer: { siteId: job.siteId, customerId: uid('cus') },
        offer: {
          siteId: job.siteId,
          offerId: 'offer-1',
          name: 'o',
          productIds: ['course'],
          price: { type: 'free' },
          accessDays: null,
          archivedAt: null,
          updatedAt: AT,
        },
        processor: 'none',
        processorSubscriptionId: null,
        currentPeriodEnd: null,
        actor: ADMIN,
        now: new Date(AT),
      });
      await stores.purchases.createPurchase(created);
      const purchaseId = created.purchase.purchaseId;
      const change = revokeAccess(created.purchase, undefined, ADMIN, new Date(AT), { jobId: job.jobId })!;
      await stores.purchases.savePurchase(change, 1, { jobMarker: marker(job, purchaseId, 'done') });
      await expect(jobs.getMarker(job.siteId, job.jobId, purchaseId)).resolves.toMatchObject({ outcome: 'done' });
      const again = revokeAccess(created.purchase, undefined, ADMIN, new Date(AT), { jobId: job.jobId })!;
      const current = (await stores.purchases.getPurchase(job.siteId, purchaseId))!;
      await expect(
        stores.purchases.savePurchase(
          {
            ...again,
            purchase: { ...again.purchase, version: current.version + 1, eventSequence: current.eventSequence },
          },
          current.version,
          {
            jobMarker: marker(job, purchaseId, 'done'),
          },
        ),
      ).rejects.toThrow(JobMarkerExistsError);
      await expect(stores.purchases.getPurchase(job.siteId, purchaseId)).resolves.toMatchObject({
        version: current.version,
      });
    });
  });
}
