import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { createPublisherHandler } from '../../functions/publisher/app.ts';
import { LocalCheckpointStore } from '../../infra/local/checkpoint-store.ts';
import { ensureTable } from '../../infra/local/dynamodb.ts';
import { LocalStreamPoller, type StreamPollerOptions } from '../../infra/local/stream-poller.ts';
import { EventBridgeBus } from '../../shared/adapters/eventbridge-bus.ts';
import type { DomainEvent } from '../../shared/domain/events.ts';
import type { BusEvent, EventBus } from '../../shared/ports/event-bus.ts';
import { createDocumentClient } from '../../shared/store/client.ts';
import { createDynamoStores } from '../../shared/store/index.ts';
import { RecordingBus } from '../support/events.ts';
import { apiHarness, seedSite } from '../support/harness.ts';

// Issue 9 item 2: the outbox publisher on DynamoDB Local's real stream (transactions' records included), fed
// by the local poller the runtime uses. Each test has a table of its own, so its stream holds only its writes.
// What is checked is what DESIGN.md §5 promises: every event arrives (counted by id), a failure loses nothing,
// and a redelivery repeats an event only with its id (and content) unchanged.

const cleanups: (() => Promise<void>)[] = [];
// Failures are provoked on purpose here; the publisher's and the poller's error lines would only be noise.
beforeEach(() => {
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  jest.restoreAllMocks();
});

/** A table of the test's own (same schema as the stack's, stream included), the API on it, and its checkpoints. */
async function outboxTable() {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('integration tests need the jest globalSetup (DYNAMODB_ENDPOINT)');
  const tableName = `outbox-${randomUUID().slice(0, 12)}`;
  await ensureTable(endpoint, tableName);
  const db = createDocumentClient({ endpoint });
  const stores = createDynamoStores(db, tableName);
  cleanups.push(async () => {
    await db.send(new DeleteTableCommand({ TableName: tableName }));
    db.destroy();
  });
  const api = apiHarness({ stores });
  return { endpoint, tableName, db, stores, api, checkpoints: new LocalCheckpointStore(db, tableName) };
}

type Env = Awaited<ReturnType<typeof outboxTable>>;

/** A running poller on the env's stream, publishing to `bus`; stopped after the test. */
async function startPoller(env: Env, bus: EventBus, options: Partial<StreamPollerOptions> = {}) {
  const poller = new LocalStreamPoller({
    endpoint: env.endpoint,
    tableName: env.tableName,
    checkpoints: env.checkpoints,
    handler: createPublisherHandler(bus),
    pollIntervalMs: 50,
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    ...options,
  });
  await poller.start();
  cleanups.push(() => poller.stop());
  return poller;
}

const changesMade = new WeakMap<object, number>();

/** `count` more changes of the site's purchase, one event each: revoke, resume, revoke… */
async function changes(env: Env, site: Awaited<ReturnType<typeof seedSite>>, count: number) {
  for (let i = 0; i < count; i++) {
    const made = changesMade.get(site) ?? 0;
    changesMade.set(site, made + 1);
    const action = made % 2 === 0 ? 'revoke' : 'resume';
    const result = await env.api.call('POST', `/sites/${site.siteId}/purchases/${site.purchaseId}/access/${action}`, {
      claims: site.claims,
      body: { productIds: ['course'] },
    });
    expect(result.status).toBe(200);
  }
}

/** Every event of the table's purchases, as stored in their transactions (the outbox), by id. */
async function storedEvents(
  env: Env,
  sites: Awaited<ReturnType<typeof seedSite>>[],
): Promise<Map<string, DomainEvent>> {
  const events = new Map<string, DomainEvent>();
  for (const { siteId, purchaseId } of sites) {
    let cursor: string | null = null;
    do {
      const page = await env.stores.purchases.listEvents(siteId, { purchaseId }, 100, cursor);
      for (const event of page.items) events.set(event.id, event);
      cursor = page.nextCursor;
    } while (cursor);
  }
  return events;
}

/** Every stored event was received, and every copy received is exactly the stored event. */
function expectEveryEventOnce(received: readonly BusEvent[], stored: Map<string, DomainEvent>) {
  expect(new Set(received.map((event) => event.id))).toEqual(new Set(stored.keys()));
  for (const event of received) expect(event).toEqual(stored.get(event.id));
}

describe('the outbox publisher on DynamoDB Local', () => {
  it('publishes every change once, in sequence order per purchase, from a transaction’s stream records', async () => {
    const env = await outboxTable();
    const bus = new RecordingBus();
    const poller = await startPoller(env, bus);
    const sites = [await seedSite(env.api), await seedSite(env.api)];

    await changes(env, sites[0]!, 6);
    await changes(env, sites[1]!, 3);
    await poller.caughtUp();

    const stored = await storedEvents(env, sites);
    expect(stored.size).toBe(2 + 6 + 3);
    expectEveryEventOnce(bus.received, stored);
    expect([...bus.counts().values()].every((count) => count === 1)).toBe(true);
    const firstPurchase = bus.received.filter(
      (event) => 'purchaseId' in event && event.purchaseId === sites[0]!.purchaseId,
    );
    expect(firstPurchase.map((event) => (event as DomainEvent).sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('publishes an event whose details are an empty map (DynamoDB Local streams it without a type)', async () => {
    const env = await outboxTable();
    const bus = new RecordingBus();
    const poller = await startPoller(env, bus);
    const site = await seedSite(env.api);
    const before = await env.stores.purchases.getPurchase(site.siteId, site.purchaseId);
    if (!before) throw new Error('seeded purchase missing');
    const at = env.api.clock.now().toISOString();
    await env.stores.purchases.savePurchase(
      {
        purchase: { ...before, version: before.version + 1 },
        history: [
          {
            at,
            type: 'billing.updated',
            actor: { type: 'processor', processor: 'stripe', eventId: null },
            details: {},
          },
        ],
      },
      before.version,
    );
    await poller.caughtUp();

    const stored = await storedEvents(env, [site]);
    expect(stored.size).toBe(2);
    expectEveryEventOnce(bus.received, stored);
    const updated = bus.received.find((event) => event.type === 'billing.updated') as DomainEvent | undefined;
    expect(updated?.data.details).toEqual({});
    expect(poller.deadLetters).toEqual([]);
  });

  it('loses nothing when the bus fails its first calls: redelivered until every event arrives, duplicates keep their id', async () => {
    const env = await outboxTable();
    const bus = new RecordingBus();
    const failingCalls = 4;
    bus.failWith = (_, call) => (call <= failingCalls ? 'throw' : new Map());
    const poller = await startPoller(env, bus);
    const site = await seedSite(env.api);

    await changes(env, site, 8);
    await poller.caughtUp();

    expect(bus.calls).toBeGreaterThan(failingCalls);
    expectEveryEventOnce(bus.received, await storedEvents(env, [site]));
    expect(poller.deadLetters).toEqual([]);
  });

  it('when the bus refuses some events of a batch, resumes at the first refused one: nothing before it is sent again', async () => {
    const env = await outboxTable();
    const site = await seedSite(env.api);
    await changes(env, site, 9); // written before the poller starts: one batch of 10 events
    const stored = [...(await storedEvents(env, [site])).values()].sort((a, b) => a.sequence - b.sequence);
    const refusedOnce = new Set([stored[3]!.id, stored[6]!.id]);
    const bus = new RecordingBus();
    bus.failWith = (events, call) =>
      call === 1
        ? new Map(events.filter((e) => refusedOnce.has(e.id)).map((e) => [e.id, 'InternalFailure']))
        : new Map();

    const poller = await startPoller(env, bus);
    await poller.caughtUp();

    const counts = bus.counts();
    // Before the first refusal: acknowledged, published once. From it on: redelivered (those not refused twice).
    expect(stored.slice(0, 3).map((event) => counts.get(event.id))).toEqual([1, 1, 1]);
    expect(stored.slice(3).every((event) => (counts.get(event.id) ?? 0) >= 1)).toBe(true);
    expect(bus.calls).toBe(2);
    expectEveryEventOnce(bus.received, new Map(stored.map((event) => [event.id, event])));
  });

  it('with the EventBridge adapter, a 200 with FailedEntryCount > 0 resends only the failed entries', async () => {
    const env = await outboxTable();
    const site = await seedSite(env.api);
    await changes(env, site, 14); // 15 events: two PutEvents requests (10 + 5)
    const eventBridge = mockClient(EventBridgeClient);
    cleanups.push(async () => {
      eventBridge.restore();
    });
    const accepted: string[] = [];
    const attemptsById = new Map<string, number>();
    const failedOnce = new Set<string>();
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      const results: PutEventsResultEntry[] = input.Entries.map((entry, index) => {
        const id = JSON.parse(entry.Detail!).id as string;
        attemptsById.set(id, (attemptsById.get(id) ?? 0) + 1);
        // Every third entry of a request fails the first time it is seen.
        if (index % 3 === 1 && !failedOnce.has(id)) {
          failedOnce.add(id);
          return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' };
        }
        accepted.push(id);
        return { EventId: `eb-${id}` };
      });
      return { FailedEntryCount: results.filter((result) => result.ErrorCode).length, Entries: results };
    });
    const bus = new EventBridgeBus(new EventBridgeClient({ region: 'eu-west-1' }), { busName: 'membergate-test' });

    const poller = await startPoller(env, bus);
    await poller.caughtUp();

    const stored = await storedEvents(env, [site]);
    expect(new Set(accepted)).toEqual(new Set(stored.keys()));
    expect(accepted).toHaveLength(stored.size);
    expect(failedOnce.size).toBeGreaterThan(0);
    for (const [id, attempts] of attemptsById) expect(attempts).toBe(failedOnce.has(id) ? 2 : 1);
    expect(poller.status().redeliveries).toBe(0);
  });

  it('resumes after a restart from its checkpoint: events written while stopped, or published but not checkpointed, all arrive', async () => {
    const env = await outboxTable();
    const site = await seedSite(env.api);
    // First run: a checkpoint store that "crashes" (drops writes) once told to, as a process dying between
    // the publish and the checkpoint would.
    let crashed = false;
    const dropping = Object.assign(Object.create(env.checkpoints) as LocalCheckpointStore, {
      put: async (consumer: string, shardId: string, sequenceNumber: string) => {
        if (!crashed) await env.checkpoints.put(consumer, shardId, sequenceNumber);
      },
    });
    const firstBus = new RecordingBus();
    const first = await startPoller(env, firstBus, { checkpoints: dropping });
    await changes(env, site, 3); // burst 1: published and checkpointed
    await first.caughtUp();
    const burst1 = new Set(firstBus.received.map((event) => event.id));
    crashed = true;
    await changes(env, site, 4); // burst 2: published, checkpoint lost
    await first.caughtUp();
    await first.stop();
    await changes(env, site, 5); // burst 3: written while no poller runs

    const secondBus = new RecordingBus();
    const second = await startPoller(env, secondBus);
    await second.caughtUp();

    const stored = await storedEvents(env, [site]);
    expect(stored.size).toBe(1 + 3 + 4 + 5);
    expectEveryEventOnce([...firstBus.received, ...secondBus.received], stored);
    // The checkpoint held: the second run starts after burst 1 and republishes burst 2 (same ids).
    expect(secondBus.received.filter((event) => burst1.has(event.id))).toEqual([]);
    expect(secondBus.received).toHaveLength(4 + 5);
    const checkpoint = second.status().shards[0]!.checkpoint;
    expect(checkpoint).not.toBeNull();
  });

  it('stop() waits for the batch in flight: its events are published and checkpointed before it returns', async () => {
    const env = await outboxTable();
    await seedSite(env.api);
    const bus = new RecordingBus();
    let entered: () => void = () => undefined;
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const slow: EventBus = {
      publish: async (events) => {
        entered();
        await new Promise((resolve) => setTimeout(resolve, 500));
        return bus.publish(events);
      },
    };
    const poller = await startPoller(env, slow);

    await inHandler;
    await poller.stop();

    expect(bus.received.map((event) => event.type)).toEqual(['purchase.granted']);
    const [shard] = poller.status().shards;
    expect(await env.checkpoints.get('publisher', shard!.shardId)).toBe(shard!.checkpoint);
    expect(shard!.checkpoint).not.toBeNull();
  });

  it('dead-letters a batch that keeps failing after its attempts, and moves on to later events', async () => {
    const env = await outboxTable();
    const site = await seedSite(env.api);
    const bus = new RecordingBus();
    bus.failWith = (events) => new Map(events.filter((e) => e.type === 'purchase.granted').map((e) => [e.id, 'nope']));
    const poller = await startPoller(env, bus, { retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 } });
    await poller.caughtUp();
    await changes(env, site, 2);
    await poller.caughtUp();

    expect(poller.deadLetters).toHaveLength(1);
    expect(poller.deadLetters[0]!.sequenceNumbers).toHaveLength(1);
    expect(bus.received.map((event) => event.type)).toEqual(['access.revoked', 'access.resumed']);
  });
});
