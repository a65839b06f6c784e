import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.ts';
import { httpClient } from '../support/e2e-http.ts';

/**
 * The outbox end to end on the local runtime (`npm start`) over HTTP: a change made through the API is
 * published from DynamoDB Local's stream to the local bus and shows in `GET /local/events`, and with on-disk
 * data the publisher's checkpoint survives a restart. The 2 s figure is DESIGN.md §4's budget; the bench
 * measures the real distribution, this test only holds the promise.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function client(base: () => string) {
  const { http, ok } = httpClient(base);

  /** A site with a product, an offer, a customer and a granted purchase; its admin token. */
  async function purchase(siteId: string) {
    const token = (await http('POST', '/local/tokens', { body: { role: 'admin', siteId, email: 'owner@example.com' } }))
      .body.token as string;
    const site = `/sites/${siteId}`;
    await ok('PUT', `${site}/products/course`, token, { name: 'Course' });
    await ok('PUT', `${site}/offers/course`, token, {
      name: 'Course',
      productIds: ['course'],
      price: { type: 'one_time', amount: 4900, currency: 'usd' },
    });
    await ok('PUT', `${site}/customers/cus-1`, token, { email: 'ada@example.com' });
    const granted = await ok('POST', `${site}/purchases`, token, { customerId: 'cus-1', offerId: 'course' }, 201);
    return { token, site, purchaseId: granted.purchaseId as string };
  }

  /** `GET /local/events?purchaseId=` until it holds `count` events or `withinMs` has passed. */
  async function eventsOf(purchaseId: string, count: number, withinMs: number) {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const reply = await http('GET', `/local/events?purchaseId=${purchaseId}`);
      expect(reply.status).toBe(200);
      if (reply.body.items.length >= count || Date.now() > deadline) return reply.body.items;
      await sleep(50);
    }
  }

  return { http, ok, purchase, eventsOf };
}

describe('GET /local/events', () => {
  let runtime: LocalRuntime;
  const api = client(() => runtime.url);

  beforeAll(async () => {
    // A table of its own on the shared DynamoDB Local: its stream carries only this file's writes.
    runtime = await startLocalRuntime({
      port: 0,
      dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
      tableName: `local-events-${randomUUID().slice(0, 8)}`,
    });
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  // How soon (DESIGN's 2 s) is measured by `npm run bench -- events`; here only that it shows, in order.
  it('shows a revoke after the grant: sequence 1, 2, the envelope of DESIGN.md §5', async () => {
    const { token, site, purchaseId } = await api.purchase(`site-events-${randomUUID()}`);

    await api.ok('POST', `${site}/purchases/${purchaseId}/access/revoke`, token, {});
    const events = await api.eventsOf(purchaseId, 2, 30_000);

    expect(events.map((event: { sequence: number; type: string }) => [event.sequence, event.type])).toEqual([
      [1, 'purchase.granted'],
      [2, 'access.revoked'],
    ]);
    const page = await api.ok('GET', `${site}/purchases/${purchaseId}`, token);
    expect(events[1]).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      purchaseId,
      customerId: 'cus-1',
      actor: { type: 'admin', email: 'owner@example.com' },
      data: { purchase: page, label: 'Revoked by owner@example.com' },
    });
  });

  it('filters by purchase and lists oldest first; other purchases stay out', async () => {
    const first = await api.purchase(`site-events-${randomUUID()}`);
    const second = await api.purchase(`site-events-${randomUUID()}`);
    await api.ok('POST', `${first.site}/purchases/${first.purchaseId}/access/revoke`, first.token, {});
    await api.ok('POST', `${first.site}/purchases/${first.purchaseId}/access/resume`, first.token, {});

    const events = await api.eventsOf(first.purchaseId, 3, 30_000);

    expect(events.map((event: { sequence: number }) => event.sequence)).toEqual([1, 2, 3]);
    expect(events.every((event: { purchaseId: string }) => event.purchaseId === first.purchaseId)).toBe(true);
    expect((await api.eventsOf(second.purchaseId, 1, 30_000)).map((event: { type: string }) => event.type)).toEqual([
      'purchase.granted',
    ]);
  });

  it('hands every publish to local subscribers (what integrator webhooks subscribe with)', async () => {
    const seen: string[] = [];
    const unsubscribe = runtime.events.subscribe(async (events) => {
      seen.push(...events.map((event) => event.type));
    });
    try {
      const { token, site, purchaseId } = await api.purchase(`site-events-${randomUUID()}`);
      await api.ok('POST', `${site}/purchases/${purchaseId}/access/revoke`, token, {});
      await api.eventsOf(purchaseId, 2, 30_000);
      await runtime.events.idle();

      expect(seen).toEqual(expect.arrayContaining(['purchase.granted', 'access.revoked']));
    } finally {
      unsubscribe();
    }
  });
});

describe('the publisher across a restart (on-disk data)', () => {
  let dataDir: string;
  let runtime: LocalRuntime | null = null;
  const api = client(() => runtime!.url);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'membergate-events-'));
  });

  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('resumes after its checkpoint: nothing published twice, the next change published as sequence 3', async () => {
    runtime = await startLocalRuntime({ port: 0, dataDir });
    const siteId = `site-events-${randomUUID()}`;
    const { site, purchaseId, token: firstToken } = await api.purchase(siteId);
    await api.ok('POST', `${site}/purchases/${purchaseId}/access/revoke`, firstToken, {});
    expect(await api.eventsOf(purchaseId, 2, 30_000)).toHaveLength(2);
    await runtime.stop();

    runtime = await startLocalRuntime({ port: 0, dataDir });
    const token = (
      await api.http('POST', '/local/tokens', { body: { role: 'admin', siteId, email: 'owner@example.com' } })
    ).body.token as string;
    await api.ok('POST', `${site}/purchases/${purchaseId}/access/resume`, token, {});
    const events = await api.eventsOf(purchaseId, 1, 30_000);
    await runtime.publisher.caughtUp();

    expect(
      (await api.eventsOf(purchaseId, 1, 0)).map((event: { sequence: number; type: string }) => [
        event.sequence,
        event.type,
      ]),
    ).toEqual([[3, 'access.resumed']]);
    expect(events).toHaveLength(1);
  });
});
