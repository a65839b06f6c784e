import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../infra/local/runtime.ts';
import { grantOffer } from '../../shared/domain/grants.ts';
import type { Purchase } from '../../shared/domain/types.ts';
import { createDocumentClient } from '../../shared/store/client.ts';
import { createDynamoStores } from '../../shared/store/index.ts';
import { items } from '../../shared/store/items.ts';
import type { BulkDeps } from '../../shared/usecases/bulk-revocations.ts';
import { documentedFetch } from '../support/e2e-http.ts';

/**
 * Bulk revocation jobs end to end on the local runtime (`npm start`) over HTTP, as a support agent would check
 * them: a job over an offer's 2 000 purchases with progress in between, the same job for a retried POST, the
 * undo; and a runtime stopped while a page is half done, then started again on the same data, finishing the job
 * with exact counts. Each test has a table of its own (a fresh DATA_DIR), so no other runtime's queue is involved.
 */
// A 2 000-purchase job and its undo take a few minutes on DynamoDB Local on a busy two-core machine.
jest.setTimeout(600_000);

const runtimes: LocalRuntime[] = [];
afterAll(async () => {
  for (const runtime of runtimes) await runtime.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function start(tableName: string, bulkJobs?: LocalRuntimeOptions['bulkJobs']): Promise<LocalRuntime> {
  const runtime = await startLocalRuntime({
    port: 0,
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
    tableName,
    ...(bulkJobs ? { bulkJobs } : {}),
  });
  runtimes.push(runtime);
  return runtime;
}

function client(runtime: LocalRuntime) {
  return async (
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    headers?: Record<string, string>,
  ) => {
    const response = await documentedFetch(`${runtime.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: responses are inspected field by field
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as any };
  };
}

/** A site with one offer of two products and `count` purchases of it, written through the store's own write. */
async function seed(runtime: LocalRuntime, count: number) {
  const http = client(runtime);
  const siteId = `site-${randomUUID()}`;
  const email = 'owner@example.com';
  const admin = (await http('POST', '/local/tokens', null, { role: 'admin', siteId, email })).body.token as string;
  for (const productId of ['course', 'community']) {
    expect((await http('PUT', `/sites/${siteId}/products/${productId}`, admin, { name: productId })).status).toBe(200);
  }
  const offer = {
    name: 'Bundle',
    productIds: ['course', 'community'],
    price: { type: 'one_time', amount: 100, currency: 'usd' },
  };
  expect((await http('PUT', `/sites/${siteId}/offers/bundle`, admin, offer)).status).toBe(200);
  const stored = (await runtime.deps.catalog.getOffer(siteId, 'bundle'))!;
  const customers = 50;
  for (let c = 0; c < customers; c++) {
    await runtime.deps.catalog.upsertCustomer({
      siteId,
      customerId: `cus-${c}`,
      email: `c${c}@example.com`,
      name: null,
      updatedAt: new Date().toISOString(),
    });
  }
  // Written with BatchWrite (the purchase and the customer's copy, as a grant writes them, without the grant's
  // history entry): seeding stays quick, and the only events are the job's.
  const rows = Array.from(
    { length: count },
    (_, i) =>
      grantOffer({
        purchaseId: `pur-${String(i).padStart(5, '0')}`,
        customer: { siteId, customerId: `cus-${i % customers}` },
        offer: stored,
        processor: 'none',
        processorSubscriptionId: null,
        currentPeriodEnd: null,
        actor: { type: 'admin', email },
        now: new Date(),
      }).purchase,
  );
  const puts = rows.flatMap((purchase) => [items.purchase(purchase), items.customerCopy(purchase)]);
  for (let i = 0; i < puts.length; i += 25) {
    let requests = puts.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const result = await runtime.documentClient.send(
        new BatchWriteCommand({ RequestItems: { [runtime.tableName]: requests } }),
      );
      requests = (result.UnprocessedItems?.[runtime.tableName] ?? []) as typeof requests;
    }
  }
  const purchaseIds = rows.map((purchase) => purchase.purchaseId);
  return { siteId, admin, purchaseIds };
}

/** Reads every purchase (16 at a time). */
async function readAll<T>(ids: string[], read: (id: string) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < ids.length; i += 16) results.push(...(await Promise.all(ids.slice(i, i + 16).map(read))));
  return results;
}

async function revocationsOf(runtime: LocalRuntime, siteId: string, purchaseId: string, jobId: string) {
  const history = await runtime.deps.purchases.listHistory(siteId, purchaseId);
  return history.filter((entry) => entry.type === 'access.revoked' && entry.details.jobId === jobId);
}

async function waitForJob(runtime: LocalRuntime, siteId: string, jobId: string, token: string, ms = 400_000) {
  const http = client(runtime);
  const seen: { status: string; total: number; done: number; skipped: number }[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    const { status, body } = await http('GET', `/sites/${siteId}/bulk-revocations/${jobId}`, token);
    expect(status).toBe(200);
    seen.push({ status: body.status, total: body.total, done: body.done, skipped: body.skipped });
    if (body.status === 'completed' || body.status === 'failed') return { job: body, seen };
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish: ${JSON.stringify(body)}`);
    await sleep(250);
  }
}

describe('bulk revocation jobs over HTTP (local runtime)', () => {
  it('revokes an offer of 2 000 purchases once each with progress, replays a retried POST, and undoes exactly', async () => {
    const runtime = await start(`bulk-e2e-${randomUUID()}`);
    const http = client(runtime);
    const { siteId, admin, purchaseIds } = await seed(runtime, 2_000);
    const support = (await http('POST', '/local/tokens', null, { role: 'support', siteId })).body.token as string;
    // One purchase already revoked: the job skips it (nothing to revoke).
    await http('POST', `/sites/${siteId}/purchases/${purchaseIds[7]}/access/revoke`, support, {});

    const key = { 'idempotency-key': `bulk-${randomUUID()}` };
    const started = await http('POST', `/sites/${siteId}/bulk-revocations`, admin, { offerId: 'bundle' }, key);
    expect(started).toEqual({ status: 202, body: { jobId: expect.any(String) } });
    const { jobId } = started.body;
    const retried = await http('POST', `/sites/${siteId}/bulk-revocations`, admin, { offerId: 'bundle' }, key);
    expect(retried).toEqual({ status: 202, body: { jobId } });
    const reused = await http(
      'POST',
      `/sites/${siteId}/bulk-revocations`,
      admin,
      { offerId: 'bundle', productIds: ['course'] },
      key,
    );
    expect(reused.status).toBe(422);
    expect(reused.body.error.details[0].field).toBe('Idempotency-Key');

    const { job, seen } = await waitForJob(runtime, siteId, jobId, support);
    expect(job).toMatchObject({
      jobId,
      siteId,
      status: 'completed',
      selection: { type: 'offer', offerId: 'bundle' },
      productIds: null,
      total: 2_000,
      done: 1_999,
      skipped: 1,
      failed: 0,
      failures: [],
      requestedBy: { type: 'admin', email: 'owner@example.com' },
      finishedAt: expect.any(String),
    });
    // Progress moved while it ran: the job was seen running with part of the purchases counted.
    expect(seen.some((s) => s.status === 'running' && s.done > 0 && s.done + s.skipped < 2_000)).toBe(true);

    const revocations = await readAll(purchaseIds, (id) => revocationsOf(runtime, siteId, id, jobId));
    expect(revocations.filter((entries) => entries.length !== 1).length).toBe(1); // the one revoked before
    expect(revocations[7]).toEqual([]);
    const sample = (await http('GET', `/sites/${siteId}/purchases/${purchaseIds[1234]}`, support)).body;
    expect(sample.products.map((g: { label: string }) => g.label)).toEqual([
      'Revoked by owner@example.com',
      'Revoked by owner@example.com',
    ]);
    expect(sample.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked by owner@example.com' });

    const listed = await http('GET', `/sites/${siteId}/bulk-revocations?limit=5`, support);
    expect(listed.body.items.map((item: { jobId: string }) => item.jobId)).toEqual([jobId]);
    expect(
      (await http('GET', `/sites/${siteId}/bulk-revocations?cursor=forged`, support)).body.error.details[0].field,
    ).toBe('cursor');

    const undo = await http('POST', `/sites/${siteId}/bulk-revocations/${jobId}/undo`, support);
    expect(undo.status).toBe(202);
    const undone = await waitForJob(runtime, siteId, undo.body.jobId, support);
    expect(undone.job).toMatchObject({ kind: 'undo', undoOf: jobId, status: 'completed', total: 1_999, done: 1_999 });
    const after = await readAll(purchaseIds, (id) => runtime.deps.purchases.getPurchase(siteId, id));
    const stillRevoked = after.filter((p) => (p as Purchase).products.some((g) => g.access === 'revoked'));
    // Exactly the purchase revoked before the job keeps its revocation.
    expect(stillRevoked.map((p) => p!.purchaseId)).toEqual([purchaseIds[7]]);
  });

  it('rejects bad input with 400 naming the field and creates no job', async () => {
    const runtime = runtimes[0] ?? (await start(`bulk-e2e-${randomUUID()}`));
    const http = client(runtime);
    const { siteId, admin } = await seed(runtime, 0);
    const automation = (await http('POST', '/local/tokens', null, { role: 'automation', siteId })).body.token;
    const post = (body: unknown, token = admin) => http('POST', `/sites/${siteId}/bulk-revocations`, token, body);
    const field = async (body: unknown) => {
      const reply = await post(body);
      expect(reply.status).toBe(400);
      return reply.body.error.details.map((d: { field: string }) => d.field);
    };
    expect(await field({ offerId: 'bundle', customerIds: ['cus-1'] })).toEqual(['offerId', 'customerIds']);
    expect(await field({})).toEqual(['offerId']);
    expect(await field({ customerIds: Array.from({ length: 10_001 }, (_, i) => `c${i}`) })).toEqual(['customerIds']);
    expect(await field({ offerId: 'nope' })).toEqual(['offerId']);
    expect(await field({ offerId: 'bundle', productIds: ['course', 'ghost'] })).toEqual(['productIds[1]']);
    expect((await post({ offerId: 'bundle' }, automation)).status).toBe(403);
    expect((await http('GET', `/sites/${siteId}/bulk-revocations`, admin)).body).toEqual({
      items: [],
      nextCursor: null,
    });
  });

  it('a runtime stopped while a page is half done finishes the job after a restart: exact counts, nothing revoked twice', async () => {
    const tableName = `bulk-crash-${randomUUID()}`;
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => {
      crashed = resolve;
    });
    // The first runtime dies after 150 revocations: from then on every write of its worker fails, as nothing
    // runs in a dead process. Page 1 (of 3) is then half done: revoked purchases whose page is not counted.
    const dying = (deps: BulkDeps): BulkDeps => {
      let saves = 0;
      let dead = false;
      const save = deps.purchases.savePurchase.bind(deps.purchases);
      return {
        ...deps,
        purchases: Object.assign(Object.create(deps.purchases), {
          savePurchase: async (...args: Parameters<typeof save>) => {
            if (!dead && ++saves > 150) {
              dead = true;
              crashed();
            }
            if (dead) throw new Error('the process died');
            return save(...args);
          },
        }),
      };
    };
    const first = await start(tableName, { visibilityTimeoutMs: 1_000, workerDeps: dying });
    const { siteId, admin, purchaseIds } = await seed(first, 300);
    const started = await client(first)('POST', `/sites/${siteId}/bulk-revocations`, admin, { offerId: 'bundle' });
    expect(started.status).toBe(202);
    const { jobId } = started.body;
    await crash;
    await first.stop();
    // Half done while nothing runs: some purchases revoked by the job, not all.
    const db = createDocumentClient({ endpoint: process.env.DYNAMODB_ENDPOINT });
    const stores = createDynamoStores(db, tableName);
    const revokedBefore = (await readAll(purchaseIds, (id) => stores.purchases.getPurchase(siteId, id))).filter((p) =>
      p?.products.every((g) => g.access === 'revoked'),
    ).length;
    db.destroy();
    expect(revokedBefore).toBeGreaterThan(0);
    expect(revokedBefore).toBeLessThan(300);

    const second = await start(tableName, { visibilityTimeoutMs: 1_000 });
    // Tokens are signed with a key each runtime makes at start-up: the first runtime's no longer verify.
    const token = (
      await client(second)('POST', '/local/tokens', null, { role: 'admin', siteId, email: 'owner@example.com' })
    ).body.token as string;
    const before = (await client(second)('GET', `/sites/${siteId}/bulk-revocations/${jobId}`, token)).body;
    expect(before.status).toBe('running');
    expect(before.done).toBeLessThan(300);
    const { job } = await waitForJob(second, siteId, jobId, token);
    expect(job).toMatchObject({ status: 'completed', total: 300, done: 300, skipped: 0, failed: 0 });
    const revocations = await readAll(purchaseIds, (id) => revocationsOf(second, siteId, id, jobId));
    expect(revocations.every((entries) => entries.length === 1)).toBe(true);
  });
});
