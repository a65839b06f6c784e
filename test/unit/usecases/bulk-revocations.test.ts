import { beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { JobMessage } from '../../../shared/domain/bulk-jobs.ts';
import {
  ConflictError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  InvalidInputError,
} from '../../../shared/domain/errors.ts';
import type { Actor } from '../../../shared/domain/types.ts';
import {
  type BulkDeps,
  getBulkJob,
  listBulkJobs,
  runJobPage,
  startBulkRevocation,
  undoBulkRevocation,
} from '../../../shared/usecases/bulk-revocations.ts';
import { changeAccess, getPurchase, grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import { MemoryBulkJobStore, MemoryJobQueue } from '../../support/memory-bulk-jobs.ts';
import {
  ADMIN,
  AUTOMATION,
  CUSTOMER,
  type MemoryDeps,
  memoryDeps,
  SITE,
  SUPPORT,
  seedSite,
} from '../../support/memory-deps.ts';

let m: MemoryDeps;
let queue: MemoryJobQueue;
let deps: BulkDeps;

async function setup() {
  m = memoryDeps();
  await seedSite(m);
  queue = new MemoryJobQueue();
  deps = { ...m.deps, jobs: new MemoryBulkJobStore(m.stores), jobQueue: queue };
}
beforeEach(setup);

const now = () => m.clock.now();

async function grantMany(count: number, offerId = 'lifetime', customerId = CUSTOMER): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const view = await grantOfferToCustomer(m.deps, SITE, { customerId, offerId, processor: 'none' }, ADMIN, now());
    ids.push(view.purchaseId);
  }
  return ids;
}

/** Delivers queued pages until none is left; a page whose delivery throws is delivered again (at least once). */
async function drain(using: (attempt: number) => BulkDeps = () => deps, maxDeliveries = 1_000) {
  let deliveries = 0;
  while (queue.messages.length > 0) {
    if (++deliveries > maxDeliveries) throw new Error('the job does not converge');
    const message = queue.messages.shift()!;
    try {
      await runJobPage(using(deliveries), message, now());
    } catch {
      queue.messages.push(message);
    }
  }
}

async function revocationsBy(purchaseId: string, jobId: string) {
  const history = await m.deps.purchases.listHistory(SITE, purchaseId);
  return history.filter((entry) => entry.type === 'access.revoked' && entry.details.jobId === jobId);
}

describe('starting a bulk revocation', () => {
  it('queues the first page and answers 202 with the job id; the job is queued until a page runs', async () => {
    await grantMany(3);
    const result = await startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, null, ADMIN, now());
    expect(result).toEqual({ statusCode: 202, body: { jobId: expect.any(String) }, replayed: false });
    expect(queue.messages).toEqual([{ siteId: SITE, jobId: result.body.jobId, page: 0 }]);
    await expect(getBulkJob(deps, SITE, result.body.jobId)).resolves.toMatchObject({
      status: 'queued',
      selection: { type: 'offer', offerId: 'lifetime' },
      total: 0,
      requestedBy: ADMIN,
      finishedAt: null,
    });
  });

  it('refuses an unknown offer (400 naming offerId) and products not in the offer, creating nothing', async () => {
    await expect(startBulkRevocation(deps, SITE, { offerId: 'nope' }, null, ADMIN, now())).rejects.toMatchObject({
      details: [{ field: 'offerId' }],
    });
    await expect(
      startBulkRevocation(deps, SITE, { offerId: 'lifetime', productIds: ['course', 'ghost'] }, null, ADMIN, now()),
    ).rejects.toMatchObject({ constructor: InvalidInputError, details: [{ field: 'productIds[1]' }] });
    await expect(
      startBulkRevocation(deps, SITE, { customerIds: [CUSTOMER], productIds: ['ghost'] }, null, ADMIN, now()),
    ).rejects.toMatchObject({ details: [{ field: 'productIds[0]' }] });
    expect(queue.messages).toEqual([]);
    await expect(listBulkJobs(deps, SITE, 10, null)).resolves.toEqual({ items: [], nextCursor: null });
  });

  it('is refused to an automation token', async () => {
    await expect(startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, null, AUTOMATION, now())).rejects.toThrow(
      ForbiddenError,
    );
  });

  it('answers the same job to a retry with the same Idempotency-Key, and 422 to the key with another body', async () => {
    const first = await startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, 'key-1', ADMIN, now());
    const again = await startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, 'key-1', ADMIN, now());
    expect(again).toEqual({ ...first, replayed: true });
    await expect(startBulkRevocation(deps, SITE, { offerId: 'monthly' }, 'key-1', ADMIN, now())).rejects.toThrow(
      IdempotencyKeyReusedError,
    );
    expect((await listBulkJobs(deps, SITE, 10, null)).items).toHaveLength(1);
  });

  it('lists jobs newest first, page by page, and refuses a forged cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, null, ADMIN, now())).body.jobId);
    const first = await listBulkJobs(deps, SITE, 2, null);
    expect(first.items.map((job) => job.jobId)).toEqual([ids[2], ids[1]]);
    const second = await listBulkJobs(deps, SITE, 2, first.nextCursor);
    expect(second).toEqual({ items: [expect.objectContaining({ jobId: ids[0] })], nextCursor: null });
    await expect(listBulkJobs(deps, SITE, 2, 'forged')).rejects.toMatchObject({ details: [{ field: 'cursor' }] });
  });
});

describe('running a job', () => {
  it("revokes each purchase once with the requester's label and the job id, counting skips", async () => {
    const ids = await grantMany(230);
    await changeAccess(m.deps, SITE, ids[5]!, 'revoke', undefined, ADMIN, now());
    const { jobId } = (await startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, null, SUPPORT, now())).body;
    await drain();

    const job = await getBulkJob(deps, SITE, jobId);
    expect(job).toMatchObject({ status: 'completed', total: 230, done: 229, skipped: 1, failed: 0, failures: [] });
    const view = await getPurchase(m.deps, SITE, ids[100]!);
    expect(view.products.map((g) => g.label)).toEqual(['Revoked by our support team', 'Revoked by our support team']);
    await expect(revocationsBy(ids[100]!, jobId)).resolves.toHaveLength(1);
    await expect(revocationsBy(ids[5]!, jobId)).resolves.toHaveLength(0);
  });

  it('revokes only the chosen products of the listed customers', async () => {
    await m.stores.catalog.upsertCustomer({
      siteId: SITE,
      customerId: 'cus-2',
      email: 'b@example.com',
      name: null,
      updatedAt: now().toISOString(),
    });
    const [mine] = await grantMany(1);
    const [theirs] = await grantMany(1, 'lifetime', 'cus-2');
    const { jobId } = (
      await startBulkRevocation(deps, SITE, { customerIds: ['cus-2'], productIds: ['course'] }, null, ADMIN, now())
    ).body;
    await drain();
    expect(await getBulkJob(deps, SITE, jobId)).toMatchObject({ status: 'completed', total: 1, done: 1 });
    expect((await getPurchase(m.deps, SITE, theirs!)).products.map((g) => g.access)).toEqual(['revoked', 'active']);
    expect((await getPurchase(m.deps, SITE, mine!)).products.map((g) => g.access)).toEqual(['active', 'active']);
  });

  it('counts a purchase whose revoke fails for good as failed, with the reason', async () => {
    const ids = await grantMany(3);
    const broken = ids[1]!;
    const save = deps.purchases.savePurchase.bind(deps.purchases);
    const failing: BulkDeps = {
      ...deps,
      purchases: Object.assign(Object.create(deps.purchases), {
        savePurchase: async (...args: Parameters<typeof save>) => {
          if (args[0].purchase.purchaseId === broken) throw new ConflictError('purchase is locked');
          return save(...args);
        },
      }),
    };
    const { jobId } = (await startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, null, ADMIN, now())).body;
    await drain(() => failing);
    expect(await getBulkJob(deps, SITE, jobId)).toMatchObject({
      status: 'completed',
      total: 3,
      done: 2,
      failed: 1,
      failures: [{ purchaseId: broken, reason: 'purchase is locked' }],
    });
  });

  it('completes an offer without purchases at once, with nothing counted', async () => {
    const { jobId } = (await startBulkRevocation(deps, SITE, { offerId: 'plan' }, null, ADMIN, now())).body;
    await drain();
    expect(await getBulkJob(deps, SITE, jobId)).toMatchObject({ status: 'completed', total: 0 });
  });
});

describe('undo', () => {
  it("resumes exactly the grants the job revoked, leaving alone one revoked again since and others' revocations", async () => {
    const ids = await grantMany(4);
    await changeAccess(m.deps, SITE, ids[0]!, 'revoke', undefined, SUPPORT, now()); // before the job: not its
    const { jobId } = (await startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, null, ADMIN, now())).body;
    await drain();
    // After the job: resumed then revoked again by someone else; that revocation is not the job's to undo.
    await changeAccess(m.deps, SITE, ids[1]!, 'resume', ['course'], ADMIN, now());
    await changeAccess(m.deps, SITE, ids[1]!, 'revoke', ['course'], SUPPORT, now());

    const undo = (await undoBulkRevocation(deps, SITE, jobId, null, ADMIN, now())).body.jobId;
    await drain();

    expect(await getBulkJob(deps, SITE, undo)).toMatchObject({
      kind: 'undo',
      undoOf: jobId,
      status: 'completed',
      total: 3,
      done: 3,
    });
    const access = async (id: string) => (await getPurchase(m.deps, SITE, id)).products.map((g) => g.access);
    await expect(access(ids[0]!)).resolves.toEqual(['revoked', 'revoked']);
    await expect(access(ids[1]!)).resolves.toEqual(['revoked', 'active']);
    await expect(access(ids[2]!)).resolves.toEqual(['active', 'active']);
    const resumed = (await m.deps.purchases.listHistory(SITE, ids[2]!)).filter((e) => e.type === 'access.resumed');
    expect(resumed).toEqual([
      expect.objectContaining({ details: { productIds: ['course', 'community'], jobId: undo, undoOf: jobId } }),
    ]);
  });

  it('is refused (409) for a job that has not completed, and for an undo', async () => {
    await grantMany(1);
    const { jobId } = (await startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, null, ADMIN, now())).body;
    await expect(undoBulkRevocation(deps, SITE, jobId, null, ADMIN, now())).rejects.toThrow(ConflictError);
    await drain();
    const undo = (await undoBulkRevocation(deps, SITE, jobId, null, ADMIN, now())).body.jobId;
    await drain();
    await expect(undoBulkRevocation(deps, SITE, undo, null, ADMIN, now())).rejects.toThrow(ConflictError);
  });
});

/**
 * Deps whose calls that write (or queue) fail from the `crashAt`-th on, before or after the call took effect:
 * a process that dies there. Every later call of that delivery fails too, as nothing runs in a dead process.
 */
function crashing(base: BulkDeps, crashAt: number, afterEffect: boolean): BulkDeps {
  let calls = 0;
  let dead = false;
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (dead) throw new Error('crashed');
      calls += 1;
      if (calls < crashAt) return fn(...args);
      dead = true;
      if (afterEffect) await fn(...args);
      throw new Error('crashed');
    };
  const jobs = base.jobs;
  const purchases = base.purchases;
  return {
    ...base,
    purchases: Object.assign(Object.create(purchases), { savePurchase: guard(purchases.savePurchase.bind(purchases)) }),
    jobs: Object.assign(Object.create(jobs), {
      resolvePage: guard(jobs.resolvePage.bind(jobs)),
      putMarker: guard(jobs.putMarker.bind(jobs)),
      countPage: guard(jobs.countPage.bind(jobs)),
      completeIfCounted: guard(jobs.completeIfCounted.bind(jobs)),
      markRunning: guard(jobs.markRunning.bind(jobs)),
    }),
    jobQueue: { send: guard((message: JobMessage) => base.jobQueue.send(message)) },
  };
}

describe('crash and redelivery (property)', () => {
  it('whatever the crash points, the job completes with exact counts and nothing revoked twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 230 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 400 }), fc.boolean()), { maxLength: 4 }),
        fc.integer({ min: 0, max: 5 }),
        async (count, crashes, preRevoked) => {
          await setup();
          const ids = await grantMany(count);
          for (const id of ids.slice(0, preRevoked))
            await changeAccess(m.deps, SITE, id, 'revoke', undefined, ADMIN, now());
          const requester: Actor = ADMIN;
          const { jobId } = (await startBulkRevocation(deps, SITE, { offerId: 'lifetime' }, null, requester, now()))
            .body;
          // Delivery n crashes at its chosen point; later deliveries run clean.
          await drain((n) => (crashes[n - 1] ? crashing(deps, crashes[n - 1]![0], crashes[n - 1]![1]) : deps));
          // Work a crashed delivery left in flight settles before anyone looks (a dead process writes nothing more).
          await new Promise((resolve) => setTimeout(resolve, 0));

          const job = await getBulkJob(deps, SITE, jobId);
          const skipped = Math.min(preRevoked, count);
          expect(job).toMatchObject({ status: 'completed', total: count, done: count - skipped, skipped, failed: 0 });
          for (const id of ids) {
            await expect(revocationsBy(id, jobId)).resolves.toHaveLength(ids.indexOf(id) < skipped ? 0 : 1);
          }
        },
      ),
      { numRuns: 20 },
    );
    // Each run grants up to 230 purchases in memory: seconds, not milliseconds, on a busy machine.
  }, 60_000);
});
