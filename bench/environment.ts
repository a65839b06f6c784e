import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAccessHandler } from '../functions/access/app.ts';
import { createCatalogHandler } from '../functions/catalog/app.ts';
import { createPurchasesHandler } from '../functions/purchases/app.ts';
import { type DynamoDbLocal, ensureTable, startDynamoDbLocal } from '../infra/local/dynamodb.ts';
import { processorRegistry } from '../shared/adapters/processors.ts';
import { systemClock } from '../shared/domain/time.ts';
import type { TimerScheduler } from '../shared/ports/scheduler.ts';
import { createDocumentClient } from '../shared/store/client.ts';
import { createDynamoStores } from '../shared/store/index.ts';
import type { Dependencies } from '../shared/usecases/deps.ts';
import { newId } from '../shared/wiring.ts';
import { CallCounter } from './calls.ts';
import { adminClaims, apiEvent, type Claims, invokeOk, type LambdaHandler } from './lambda.ts';

/**
 * Everything the DynamoDB-backed sections share: one DynamoDB Local (in memory), the table created from
 * the stack's definition, one document client whose sends are counted, and the three API handlers wired
 * to it exactly as the Lambda entry points wire theirs.
 */
export interface BenchEnvironment {
  endpoint: string;
  tableName: string;
  db: DynamoDBDocumentClient;
  calls: CallCounter;
  deps: Dependencies;
  handlers: { access: LambdaHandler; catalog: LambdaHandler; purchases: LambdaHandler };
  fixture: Fixture;
  stop(): Promise<void>;
}

/** A site whose customer holds three purchases (one of them a two-product subscription). */
export interface Fixture {
  siteId: string;
  customerId: string;
  claims: Claims;
  /** A product the customer has access to through the subscription. */
  productId: string;
  /** The subscription purchase (products `course` and `community`). */
  subscriptionPurchaseId: string;
  purchaseIds: string[];
}

export async function startBenchEnvironment(): Promise<BenchEnvironment> {
  const dynamo: DynamoDbLocal = await startDynamoDbLocal();
  let db: DynamoDBDocumentClient | null = null;
  try {
    const tableName = 'membergate-bench';
    await ensureTable(dynamo.endpoint, tableName);
    db = createDocumentClient({ endpoint: dynamo.endpoint });
    const calls = new CallCounter().attach(db);
    const deps: Dependencies = {
      ...createDynamoStores(db, tableName),
      clock: systemClock,
      newId,
      scheduler: countingScheduler(calls),
      processors: processorRegistry(null),
    };
    const handlers = {
      access: createAccessHandler(deps),
      catalog: createCatalogHandler(deps),
      purchases: createPurchasesHandler(deps),
    };
    const fixture = await seed(handlers);
    calls.take();
    const client = db;
    return {
      endpoint: dynamo.endpoint,
      tableName,
      db,
      calls,
      deps,
      handlers,
      fixture,
      stop: async () => {
        client.destroy();
        await dynamo.stop();
      },
    };
  } catch (error) {
    db?.destroy();
    await dynamo.stop();
    throw error;
  }
}

/**
 * Timers are EventBridge Scheduler calls on AWS, not DynamoDB ones: they are counted under their own names
 * (`Scheduler.upsert`, `Scheduler.remove`) and do nothing else. A section that measures timers wires the
 * local scheduler itself.
 */
function countingScheduler(calls: CallCounter): TimerScheduler {
  return {
    upsert: async () => calls.record('Scheduler.upsert'),
    remove: async () => calls.record('Scheduler.remove'),
  };
}

/** Seeds through the handlers, as a site owner's integration would. */
async function seed(handlers: BenchEnvironment['handlers']): Promise<Fixture> {
  const siteId = `bench-${randomUUID().slice(0, 8)}`;
  const customerId = 'cus-bench';
  const claims = adminClaims(siteId);
  const catalog = (routeKey: Parameters<typeof apiEvent>[0], params: Record<string, string>, body: unknown) =>
    invokeOk(handlers.catalog, apiEvent(routeKey, { siteId, ...params }, { claims, body }), 'catalog');

  for (const [productId, name] of [
    ['course', 'Course'],
    ['community', 'Community'],
    ['workshop', 'Workshop recording'],
    ['templates', 'Templates'],
  ]) {
    await catalog('PUT /sites/{siteId}/products/{productId}', { productId: productId! }, { name });
  }
  const offers = [
    {
      offerId: 'membership',
      name: 'Membership',
      productIds: ['course', 'community'],
      price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
    },
    {
      offerId: 'workshop',
      name: 'Workshop',
      productIds: ['workshop'],
      price: { type: 'one_time', amount: 9900, currency: 'usd' },
    },
    { offerId: 'freebies', name: 'Free templates', productIds: ['templates'], price: { type: 'free' } },
  ];
  for (const { offerId, ...body } of offers) {
    await catalog('PUT /sites/{siteId}/offers/{offerId}', { offerId }, body);
  }
  await catalog(
    'PUT /sites/{siteId}/customers/{customerId}',
    { customerId },
    { email: 'ada@example.com', name: 'Ada' },
  );

  const purchaseIds: string[] = [];
  for (const { offerId } of offers) {
    const body = {
      customerId,
      offerId,
      ...(offerId === 'membership' ? { currentPeriodEnd: new Date(Date.now() + 30 * 86_400_000).toISOString() } : {}),
    };
    const reply = await invokeOk(
      handlers.purchases,
      apiEvent('POST /sites/{siteId}/purchases', { siteId }, { claims, body }),
      'purchases',
      201,
    );
    purchaseIds.push((reply.body as { purchaseId: string }).purchaseId);
  }
  return { siteId, customerId, claims, productId: 'course', subscriptionPurchaseId: purchaseIds[0]!, purchaseIds };
}
