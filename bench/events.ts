import { performance } from 'node:perf_hooks';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createPublisherHandler } from '../functions/publisher/app.ts';
import { LocalEventBus } from '../infra/local/event-bus.ts';
import { type LocalRuntime, startLocalRuntime } from '../infra/local/runtime.ts';
import { LocalStreamPoller } from '../infra/local/stream-poller.ts';
import { sequenceChange } from '../shared/domain/events.ts';
import type { Purchase } from '../shared/domain/types.ts';
import type { BusEvent } from '../shared/ports/event-bus.ts';
import { historyPuts, items } from '../shared/store/items.ts';
import { keys } from '../shared/store/keys.ts';
import { strip } from '../shared/store/table.ts';
import type { BenchEnvironment } from './environment.ts';
import { type Budget, fmt } from './report.ts';
import { requireEnvironment, type Section } from './section.ts';
import { medianOfSorted, percentileOfSorted } from './stats.ts';

const TABLE = 'membergate-bench-events';
/** Purchases the changes rotate over (one customer each). */
const PURCHASES = 16;
/** Phase 1: changes made one at a time, each waited for on the bus. */
const LATENCY_CHANGES = 80;
/** Phase 2: changes made by CONCURRENCY clients at once, as fast as the API answers. */
const BURST_CHANGES = 320;
const CONCURRENCY = 8;
/** Phase 3: raw transactions per variant (with and without the history item), interleaved. */
const RAW_ROUNDS = 200;
const RAW_WARM_UP = 20;
const WAIT_LIMIT_MS = 30_000;

const LATENCY_BUDGET_MS = 2_000;
const OUTBOX_COST_BUDGET = 1.3;

/**
 * DESIGN §4 and §5 on the local runtime (what `npm start` runs): the outbox publisher polling DynamoDB Local's
 * stream every ~200 ms and publishing to the local bus. On a table of its own, driven over HTTP:
 * 1. write → published latency: revokes and resumes one at a time; from the request's start (and from its
 *    response, the commit) to the event reaching a bus subscriber.
 * 2. throughput: a burst of changes from concurrent clients (their rate of writes that produce an event),
 *    then a second publisher (its own checkpoint, positioned before the burst) drains that backlog alone:
 *    its rate over the write rate must be ≥ 1 for the publisher to keep up.
 * 3. the outbox's cost on a revoke: the raw TransactWriteItems a revoke sends (purchase conditioned on its
 *    version, customer copy, history item carrying the event) against the same transaction without the
 *    history item, interleaved, medians compared.
 */
export const events: Section = {
  id: 'events',
  title: `g. Events (outbox): write → published latency (${LATENCY_CHANGES} changes), publisher throughput (${BURST_CHANGES} changes by ${CONCURRENCY} clients), outbox cost on a revoke (${RAW_ROUNDS}× each)`,
  needsDynamo: true,
  async run(maybeEnv) {
    const env = requireEnvironment(maybeEnv, this.id);
    let runtime: LocalRuntime | null = null;
    try {
      runtime = await startLocalRuntime({ port: 0, dynamodbEndpoint: env.endpoint, tableName: TABLE });
      return await measure(env, runtime);
    } finally {
      await runtime?.stop();
    }
  },
};

async function measure(env: BenchEnvironment, runtime: LocalRuntime) {
  const errors: string[] = [];
  const client = httpClient(runtime.url);
  const siteId = `bench-events-${Date.now().toString(36)}`;
  const { token } = (await client.ok('POST', '/local/tokens', undefined, {
    role: 'admin',
    siteId,
    email: 'events-owner@example.com',
  })) as { token: string };
  const site = `/sites/${siteId}`;
  await client.ok('PUT', `${site}/products/course`, token, { name: 'Course' });
  await client.ok('PUT', `${site}/offers/course`, token, {
    name: 'Course',
    productIds: ['course'],
    price: { type: 'one_time', amount: 4900, currency: 'usd' },
  });
  const purchases: { purchaseId: string; sequence: number }[] = [];
  for (let i = 0; i < PURCHASES; i++) {
    await client.ok('PUT', `${site}/customers/cus-${i}`, token, { email: `e${i}@example.com` });
    const granted = (await client.ok('POST', `${site}/purchases`, token, {
      customerId: `cus-${i}`,
      offerId: 'course',
    })) as {
      purchaseId: string;
    };
    purchases.push({ purchaseId: granted.purchaseId, sequence: 1 });
  }

  // Arrival time of every event on the runtime's bus, by purchase and sequence.
  const arrivals = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const arrived = (key: string) =>
    arrivals.has(key)
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          waiters.set(key, resolve);
        });
  const unsubscribe = runtime.events.subscribe(async (published: BusEvent[]) => {
    const at = performance.now();
    for (const event of published) {
      if (!('purchaseId' in event)) continue;
      const key = `${event.purchaseId}#${event.sequence}`;
      if (!arrivals.has(key)) arrivals.set(key, at);
      waiters.get(key)?.();
      waiters.delete(key);
    }
  });
  const change = async (purchase: { purchaseId: string; sequence: number }) => {
    const action = purchase.sequence % 2 === 1 ? 'revoke' : 'resume';
    await client.ok('POST', `${site}/purchases/${purchase.purchaseId}/access/${action}`, token, {});
    purchase.sequence++;
    return `${purchase.purchaseId}#${purchase.sequence}`;
  };
  const withinLimit = (promise: Promise<void>) =>
    Promise.race([promise, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), WAIT_LIMIT_MS))]);

  try {
    // Phase 1: latency, one change at a time.
    await runtime.publisher.caughtUp();
    const fromRequestMs: number[] = [];
    for (let i = 0; i < LATENCY_CHANGES; i++) {
      const purchase = purchases[i % PURCHASES]!;
      const started = performance.now();
      const key = await change(purchase);
      if ((await withinLimit(arrived(key))) === 'timeout') {
        errors.push(`event ${key} not published within ${WAIT_LIMIT_MS / 1000} s`);
        continue;
      }
      fromRequestMs.push(arrivals.get(key)! - started);
    }

    // Phase 2: a burst, and the publisher that drains it alone afterwards.
    const drainBus = new LocalEventBus(BURST_CHANGES * 4);
    const drainPoller = () =>
      new LocalStreamPoller({
        endpoint: env.endpoint,
        tableName: TABLE,
        handler: createPublisherHandler(drainBus),
        consumer: 'bench-drain',
      });
    const positioning = drainPoller();
    await positioning.start();
    await positioning.caughtUp();
    await positioning.stop();

    const burstKeys: string[] = [];
    const burstStarted = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        const mine = purchases.filter((_, index) => index % CONCURRENCY === worker);
        for (let i = 0; i < BURST_CHANGES / CONCURRENCY; i++) burstKeys.push(await change(mine[i % mine.length]!));
      }),
    );
    const burstWritten = performance.now();
    const writeRate = burstKeys.length / ((burstWritten - burstStarted) / 1000);
    const live = await withinLimit(Promise.all(burstKeys.map(arrived)).then(() => undefined));
    if (live === 'timeout') errors.push('the runtime publisher did not publish the whole burst in time');
    const liveLagMs = Math.max(...burstKeys.map((key) => arrivals.get(key) ?? Number.NaN)) - burstWritten;
    const liveLatencies = burstKeys
      .map((key) => arrivals.get(key))
      .filter((at): at is number => at !== undefined)
      .sort((a, b) => a - b);

    const wanted = new Set(burstKeys);
    const drained = new Set<string>();
    let allDrained: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allDrained = resolve;
    });
    drainBus.subscribe(async (published) => {
      for (const event of published) {
        if (!('purchaseId' in event)) continue;
        const key = `${event.purchaseId}#${event.sequence}`;
        if (wanted.has(key)) drained.add(key);
      }
      if (drained.size === wanted.size) allDrained();
    });
    const drainer = drainPoller();
    const drainStarted = performance.now();
    await drainer.start();
    const drainResult = await withinLimit(done);
    const drainMs = performance.now() - drainStarted;
    await drainer.stop();
    if (drainResult === 'timeout') errors.push(`the draining publisher published ${drained.size}/${wanted.size}`);
    const publishRate = drained.size / (drainMs / 1000);

    // Phase 3: the outbox's cost on a revoke, raw.
    const raw = await outboxCost(env, siteId, purchases[0]!.purchaseId);

    const sortedRequest = [...fromRequestMs].sort((a, b) => a - b);
    const latencyRow = (name: string, sorted: number[]) =>
      sorted.length === 0
        ? [name, '0', '-', '-', '-']
        : [
            name,
            String(sorted.length),
            fmt.ms(medianOfSorted(sorted)),
            fmt.ms(percentileOfSorted(sorted, 99)),
            fmt.ms(sorted[sorted.length - 1]!),
          ];
    const budgets: Budget[] = [];
    if (sortedRequest.length > 0) {
      budgets.push({
        name: 'events: write → published, p99 (from the request)',
        measured: percentileOfSorted(sortedRequest, 99),
        limit: LATENCY_BUDGET_MS,
        format: fmt.ms,
      });
    }
    budgets.push({
      name: 'events: write rate / publisher rate (≤ 1: keeps up)',
      measured: writeRate / publishRate,
      limit: 1,
      format: fmt.ratio,
    });
    budgets.push({
      name: 'outbox: revoke transaction with / without its history item (median)',
      measured: raw.ratio,
      limit: OUTBOX_COST_BUDGET,
      format: fmt.ratio,
    });
    return {
      tables: [
        {
          title: 'write → published (local runtime, poller every 200 ms, one change at a time)',
          headers: ['from the request start to a bus subscriber', 'n', 'median', 'p99', 'max'],
          rows: [latencyRow('revoke / resume over HTTP', sortedRequest)],
        },
        {
          title: 'throughput',
          headers: ['', 'events', 'time', 'events/s'],
          rows: [
            [
              `writes: ${CONCURRENCY} clients, revoke/resume`,
              String(burstKeys.length),
              fmt.ms(burstWritten - burstStarted),
              writeRate.toFixed(1),
            ],
            ['publisher draining that backlog alone', String(drained.size), fmt.ms(drainMs), publishRate.toFixed(1)],
            [
              'live publisher: its last event, after the last write answered',
              String(liveLatencies.length),
              fmt.ms(liveLagMs),
              '-',
            ],
          ],
        },
        {
          title: 'outbox cost on a revoke (raw TransactWriteItems, interleaved)',
          headers: ['transaction', 'n', 'median', 'p99'],
          rows: [
            ['purchase + customer copy + history item (event)', String(raw.with.length), ...msCells(raw.with)],
            ['purchase + customer copy', String(raw.without.length), ...msCells(raw.without)],
          ],
        },
      ],
      budgets,
      notes: [
        'latency is measured at a bus subscriber (what integrator webhooks use), from the start of the HTTP ' +
          'request, so it includes the write itself, the wait for the next poll (≤ 200 ms), GetRecords, ' +
          'decoding, the publish and the checkpoint write of the batch before',
        'the drain rate is one poller (GetRecords of 100 records ≈ 33 events: every change also writes the ' +
          'purchase and its customer copy) on the same DynamoDB Local the writes used, with the runtime idle',
        `the history item holds the whole envelope (the purchase after the change, ~${raw.eventBytes} bytes of JSON); ` +
          'the stream is on in both variants (it is a table setting), so its cost is not part of the ratio',
      ],
      errors,
    };
  } finally {
    unsubscribe();
  }
}

function msCells(samples: number[]): string[] {
  const sorted = [...samples].sort((a, b) => a - b);
  return [fmt.ms(medianOfSorted(sorted)), fmt.ms(percentileOfSorted(sorted, 99))];
}

/**
 * The transaction a revoke commits, built from the store's own item builders on a live purchase of the bench
 * site, with and without its history item, alternating on the same purchase (each bumps the version).
 */
async function outboxCost(env: BenchEnvironment, siteId: string, purchaseId: string) {
  const TableName = TABLE;
  const read = async (): Promise<Purchase> => {
    const { Item } = await env.db.send(
      new GetCommand({ TableName, Key: keys.purchase(siteId, purchaseId), ConsistentRead: true }),
    );
    const purchase = strip<Purchase>(Item);
    if (!purchase) throw new Error(`outbox cost: purchase ${purchaseId} not found`);
    return purchase;
  };
  let current = await read();
  let eventBytes = 0;
  const transact = async (withHistory: boolean): Promise<number> => {
    const expected = current.version;
    const next: Purchase = { ...current, version: expected + 1, updatedAt: new Date().toISOString() };
    const sequenced = sequenceChange({
      purchase: next,
      history: [
        {
          at: next.updatedAt,
          type: 'access.revoked',
          actor: { type: 'admin', email: 'events-owner@example.com' },
          label: 'Revoked by events-owner@example.com',
          details: { productIds: ['course'] },
        },
      ],
    });
    // Without the history item the sequence must not advance: the purchase would claim an event that is not there.
    const purchase = withHistory ? sequenced.purchase : next;
    const history = historyPuts(TableName, sequenced.purchase, sequenced.entries);
    eventBytes = JSON.stringify((history[0]!.Put!.Item as { event: unknown }).event).length;
    const started = performance.now();
    await env.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName,
              Item: items.purchase(purchase),
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': expected },
            },
          },
          { Put: { TableName, Item: items.customerCopy(purchase) } },
          ...(withHistory ? history : []),
        ],
      }),
    );
    const elapsed = performance.now() - started;
    current = purchase;
    return elapsed;
  };
  const withHistory: number[] = [];
  const without: number[] = [];
  for (let round = 0; round < RAW_WARM_UP + RAW_ROUNDS; round++) {
    // Alternate which goes first, so neither always follows the other.
    const order = round % 2 === 0 ? [true, false] : [false, true];
    for (const variant of order) {
      const ms = await transact(variant);
      if (round >= RAW_WARM_UP) (variant ? withHistory : without).push(ms);
    }
  }
  const median = (values: number[]) => medianOfSorted([...values].sort((a, b) => a - b));
  return { with: withHistory, without, ratio: median(withHistory) / median(without), eventBytes };
}

function httpClient(base: string) {
  return {
    async ok(method: string, path: string, token: string | undefined, body?: unknown) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    },
  };
}
