import { performance } from 'node:perf_hooks';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type LocalBulkJobs, startLocalBulkJobs } from '../infra/local/bulk-jobs.ts';
import { ensureTable } from '../infra/local/dynamodb.ts';
import { PAGE_SIZE } from '../shared/domain/bulk-jobs.ts';
import { grantOffer, revokeAccess } from '../shared/domain/grants.ts';
import type { Offer, Purchase } from '../shared/domain/types.ts';
import { createDocumentClient } from '../shared/store/client.ts';
import { createDynamoStores } from '../shared/store/index.ts';
import { items } from '../shared/store/items.ts';
import { PURCHASE_CONCURRENCY, startBulkRevocation } from '../shared/usecases/bulk-revocations.ts';
import type { Dependencies } from '../shared/usecases/deps.ts';
import { newId } from '../shared/wiring.ts';
import { type Budget, fmt } from './report.ts';
import { requireEnvironment, type Section } from './section.ts';

const TABLE = 'membergate-bench-bulk';
const PURCHASES = 5_000;
const SITE = 'bench-bulk';
const ADMIN = { type: 'admin', email: 'owner@example.com' } as const;
/** DESIGN §4: a bulk job revokes at ≥ 0.8× the rate of the raw transactional writes it makes (raw/job ≤ 1.25). */
const RATE_BUDGET = 1 / 0.8;
/** The local queue runs two pages at once (infra/local/bulk-jobs.ts), each PURCHASE_CONCURRENCY purchases at once. */
const IN_FLIGHT = 2 * PURCHASE_CONCURRENCY;

/**
 * DESIGN §4, rule 13: a bulk revocation of 5 000 purchases through the local job queue and the worker handler
 * (what `npm start` runs; on its own table), in purchases/s, against the raw transactional writes it makes: the
 * same TransactWriteItems per purchase (purchase conditioned on its version, customer copy, history entry with
 * its event, the job's marker), sent with the same number in flight, on a second offer of 5 000 purchases.
 * The job's extra work (reading each page from the by-offer index, fixing it, counting it, queueing the next)
 * is what the ratio measures.
 */
export const bulk: Section = {
  id: 'bulk',
  title: `h. Bulk revocation: ${PURCHASES} purchases by a job vs the raw transactions it writes (${IN_FLIGHT} in flight)`,
  needsDynamo: true,
  async run(maybeEnv) {
    const env = requireEnvironment(maybeEnv, this.id);
    await ensureTable(env.endpoint, TABLE);
    const db = createDocumentClient({ endpoint: env.endpoint });
    let jobs: LocalBulkJobs | null = null;
    try {
      const deps: Dependencies = { ...env.deps, ...createDynamoStores(db, TABLE), newId };
      const seeded = performance.now();
      const jobOffer = await seedOffer(deps, db, 'job-offer');
      const rawOffer = await seedOffer(deps, db, 'raw-offer');
      const seedSeconds = (performance.now() - seeded) / 1000;

      // Raw: the same transactions, built by the same rule and store, without the job around them.
      const raw = await listAll(deps, rawOffer.offerId);
      const rawStart = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < raw.length) {
          const purchase = raw[next++]!;
          const change = revokeAccess(purchase, undefined, ADMIN, new Date(), { jobId: 'raw' })!;
          await deps.purchases.savePurchase(change, purchase.version, {
            jobMarker: {
              siteId: SITE,
              jobId: 'raw',
              purchaseId: purchase.purchaseId,
              outcome: 'done',
              productIds: change.purchase.products.map((g) => g.productId),
              reason: null,
              at: change.purchase.updatedAt,
            },
          });
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      const rawSeconds = (performance.now() - rawStart) / 1000;

      // The job, through the local queue and the worker handler.
      jobs = startLocalBulkJobs({ db, tableName: TABLE, clock: () => new Date(), deps });
      jobs.start();
      const jobStart = performance.now();
      const { jobId } = (
        await startBulkRevocation(jobs.deps, SITE, { offerId: jobOffer.offerId }, null, ADMIN, new Date())
      ).body;
      let job = await jobs.deps.jobs.getJob(SITE, jobId);
      while (job && job.status !== 'completed' && job.status !== 'failed') {
        await new Promise((resolve) => setTimeout(resolve, 50));
        job = await jobs.deps.jobs.getJob(SITE, jobId);
      }
      const jobSeconds = (performance.now() - jobStart) / 1000;
      const errors: string[] = [];
      if (job?.status !== 'completed' || job.done !== PURCHASES) {
        errors.push(`the job did not revoke every purchase: ${JSON.stringify(job && { ...job, failures: undefined })}`);
      }
      const rawRate = PURCHASES / rawSeconds;
      const jobRate = PURCHASES / jobSeconds;
      const budgets: Budget[] = [
        {
          name: 'raw transaction rate / bulk job rate (job ≥ 0.8× raw)',
          measured: rawRate / jobRate,
          limit: RATE_BUDGET,
          format: fmt.ratio,
        },
      ];
      return {
        tables: [
          {
            headers: ['what', 'purchases', 'seconds', 'purchases/s'],
            rows: [
              ['raw TransactWriteItems', String(PURCHASES), rawSeconds.toFixed(2), rawRate.toFixed(0)],
              ['bulk job (queue + worker)', String(PURCHASES), jobSeconds.toFixed(2), jobRate.toFixed(0)],
            ],
          },
        ],
        budgets,
        notes: [
          `seeded 2 × ${PURCHASES} purchases in ${seedSeconds.toFixed(1)} s; pages of ${PAGE_SIZE}; ${IN_FLIGHT} transactions in flight for both`,
          'the job time runs from the POST use case to the job read back as completed (polled every 50 ms)',
        ],
        errors,
      };
    } finally {
      await jobs?.stop();
      db.destroy();
    }
  },
};

async function seedOffer(deps: Dependencies, db: DynamoDBDocumentClient, offerId: string): Promise<Offer> {
  const at = new Date().toISOString();
  await deps.catalog.upsertCustomer({
    siteId: SITE,
    customerId: 'cus',
    email: 'c@example.com',
    name: null,
    updatedAt: at,
  });
  const offer = await deps.catalog.upsertOffer({
    siteId: SITE,
    offerId,
    name: offerId,
    productIds: ['course', 'community'],
    price: { type: 'one_time', amount: 100, currency: 'usd' },
    accessDays: null,
    updatedAt: at,
  });
  // Written with BatchWrite (the purchase and the customer's copy, as a grant writes them, without its history
  // entry): seeding 10 000 purchases one transaction each would take longer than the measurement.
  const puts = Array.from(
    { length: PURCHASES },
    (_, i) =>
      grantOffer({
        purchaseId: newId('pur'),
        // Many customers: each purchase's customer copy lands in a partition of its own, as in production.
        customer: { siteId: SITE, customerId: `cus-${i % 500}` },
        offer,
        processor: 'none',
        processorSubscriptionId: null,
        currentPeriodEnd: null,
        actor: ADMIN,
        now: new Date(),
      }).purchase,
  ).flatMap((purchase) => [items.purchase(purchase), items.customerCopy(purchase)]);
  for (let i = 0; i < puts.length; i += 25) {
    let requests = puts.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const result = await db.send(new BatchWriteCommand({ RequestItems: { [TABLE]: requests } }));
      requests = (result.UnprocessedItems?.[TABLE] ?? []) as typeof requests;
    }
  }
  return offer;
}

async function listAll(deps: Dependencies, offerId: string): Promise<Purchase[]> {
  const all: Purchase[] = [];
  let cursor: string | null = null;
  do {
    const page = await deps.purchases.listPurchasesByOffer(SITE, offerId, PAGE_SIZE, cursor);
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}
