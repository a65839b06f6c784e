import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll } from '@jest/globals';
import { createAccessHandler } from '../../functions/access/app.ts';
import { createBillingHandler } from '../../functions/billing/app.ts';
import { createCatalogHandler } from '../../functions/catalog/app.ts';
import { createMeHandler } from '../../functions/me/app.ts';
import { createPurchasesHandler } from '../../functions/purchases/app.ts';
import { createWebhookEndpointsHandler } from '../../functions/webhook-endpoints/app.ts';
import { compileRoutes, lambdaContext, matchRoute } from '../../infra/local/gateway.ts';
import { payPalCancelRedirectUrl } from '../../shared/adapters/paypal.ts';
import { processorRegistry } from '../../shared/adapters/processors.ts';
import type { ApiEvent, ApiResult } from '../../shared/http/api.ts';
import { CLAIMS } from '../../shared/http/principal.ts';
import type { ProcessorRegistry } from '../../shared/ports/processor.ts';
import { type TimerEvent, type TimerScheduler, timerName } from '../../shared/ports/scheduler.ts';
import type { Stores } from '../../shared/ports/stores.ts';
import { createDocumentClient } from '../../shared/store/client.ts';
import { createDynamoStores, createDynamoWebhookStore } from '../../shared/store/index.ts';
import type { DynamoWebhookStore } from '../../shared/store/webhook-endpoints.ts';
import type { Dependencies } from '../../shared/usecases/deps.ts';
import type { WebhookEndpointDeps } from '../../shared/usecases/webhook-endpoints.ts';
import { newId } from '../../shared/wiring.ts';
import { FakeDns } from './fake-dns.ts';

/** A scheduler that only remembers what it was told: integration tests fire timers by hand. */
export class RecordingScheduler implements TimerScheduler {
  readonly timers = new Map<string, TimerEvent>();
  readonly calls: string[] = [];
  async upsert(timer: TimerEvent) {
    this.timers.set(timerName(timer), timer);
    this.calls.push(`upsert ${timer.purpose} ${timer.dueAt}`);
  }
  async remove(timer: Omit<TimerEvent, 'dueAt'>) {
    this.timers.delete(timerName(timer));
    this.calls.push(`remove ${timer.purpose}`);
  }
  forPurchase(purchaseId: string) {
    return [...this.timers.values()].filter((timer) => timer.purchaseId === purchaseId);
  }
}

/** A unique id per test, so tests can share one table without seeing each other's data. */
export const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 12)}`;

/** A clock tests move by hand. */
export class TestClock {
  constructor(private current: Date = new Date('2026-11-21T10:00:00.000Z')) {}
  readonly now = () => new Date(this.current);
  set(instant: string | Date) {
    this.current = new Date(instant);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

let shared: Stores | null = null;
let sharedWebhooks: DynamoWebhookStore | null = null;
let sharedClient: ReturnType<typeof createDocumentClient> | null = null;

// Registered when a test file imports the harness, so the connection pool closes and jest can exit.
afterAll(() => {
  sharedClient?.destroy();
  sharedClient = null;
  shared = null;
  sharedWebhooks = null;
});

function testTable(): { client: ReturnType<typeof createDocumentClient>; table: string } {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  const table = process.env.TABLE_NAME;
  if (!endpoint || !table)
    throw new Error('integration tests need the jest globalSetup (DYNAMODB_ENDPOINT, TABLE_NAME)');
  sharedClient ??= createDocumentClient({ endpoint });
  return { client: sharedClient, table };
}

/** One set of stores (and one HTTP connection pool) per test file, closed after the file so jest can exit. */
export function testStores(): Stores {
  if (shared) return shared;
  const { client, table } = testTable();
  shared = createDynamoStores(client, table);
  return shared;
}

/** The webhook store on the shared table and connection pool. */
export function testWebhookStore(): DynamoWebhookStore {
  if (sharedWebhooks) return sharedWebhooks;
  const { client, table } = testTable();
  sharedWebhooks = createDynamoWebhookStore(client, table);
  return sharedWebhooks;
}

export type Claims = Record<string, string>;
export const admin = (siteId: string, email = 'owner@example.com'): Claims => ({
  [CLAIMS.role]: 'admin',
  [CLAIMS.siteId]: siteId,
  [CLAIMS.email]: email,
  sub: 'admin-1',
});
export const support = (siteId: string): Claims => ({
  [CLAIMS.role]: 'support',
  [CLAIMS.siteId]: siteId,
  [CLAIMS.email]: 'agent@platform.example',
  sub: 'support-1',
});
export const automation = (siteId: string): Claims => ({
  [CLAIMS.role]: 'automation',
  [CLAIMS.siteId]: siteId,
  sub: 'automation-42',
});
export const customer = (siteId: string, customerId: string): Claims => ({
  [CLAIMS.role]: 'customer',
  [CLAIMS.siteId]: siteId,
  [CLAIMS.customerId]: customerId,
  sub: customerId,
});

export interface CallResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
  body: any;
}

const compiled = compileRoutes();

/**
 * Invokes the real handlers with the event API Gateway would build, in-process: integration tests cover
 * handler + use case + store against DynamoDB Local without an HTTP hop.
 */
export function apiHarness(
  options: {
    clock?: TestClock;
    processors?: ProcessorRegistry;
    stores?: Stores;
    dns?: FakeDns;
    allowLocalHttp?: boolean;
  } = {},
) {
  const clock = options.clock ?? new TestClock();
  const scheduler = new RecordingScheduler();
  const deps: Dependencies = {
    ...(options.stores ?? testStores()),
    clock: clock.now,
    newId,
    scheduler,
    processors: options.processors ?? processorRegistry(null),
  };
  const dns = options.dns ?? new FakeDns();
  const webhookDeps: WebhookEndpointDeps = {
    webhooks: testWebhookStore(),
    clock: clock.now,
    resolveHost: dns.resolve,
    allowLocalHttp: options.allowLocalHttp ?? true,
    randomBytes,
  };
  const handlers = {
    catalog: createCatalogHandler(deps),
    purchases: createPurchasesHandler(deps),
    access: createAccessHandler(deps),
    billing: createBillingHandler(deps),
    me: createMeHandler(deps, { payPalRedirect: (id: string) => payPalCancelRedirectUrl(id, 'sandbox') }),
    'webhook-endpoints': createWebhookEndpointsHandler(webhookDeps),
  };

  async function call(
    method: string,
    path: string,
    init: { claims?: Claims | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<CallResult> {
    const match = matchRoute(compiled, method, path.split('?')[0]!);
    if (!match) throw new Error(`no route for ${method} ${path}`);
    const query = new URLSearchParams(path.split('?')[1] ?? '');
    const rawBody = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    const event = {
      version: '2.0',
      routeKey: match.key,
      rawPath: path,
      rawQueryString: query.toString(),
      headers: { 'content-type': 'application/json', ...init.headers },
      queryStringParameters: Object.fromEntries(query),
      pathParameters: match.params,
      requestContext: {
        http: { method, path },
        routeKey: match.key,
        authorizer: init.claims ? { jwt: { claims: init.claims, scopes: [] } } : undefined,
      },
      body: rawBody,
      isBase64Encoded: false,
    } as unknown as ApiEvent;
    const handler = handlers[match.route.fn as keyof typeof handlers];
    const result = (await handler(event, lambdaContext(match.route.fn))) as ApiResult;
    return { status: result.statusCode ?? 200, body: result.body ? JSON.parse(result.body) : undefined };
  }

  return { call, clock, deps, scheduler, dns, webhookDeps };
}

/** A site with two products, a two-product subscription offer and a customer. */
/** The processor accounts `seedSite(api, { accounts: true })` connects (rule 17). */
export const HARNESS_ACCOUNTS = { stripeAccountId: 'acct_harness', paypalMerchantId: 'HARNESSMERCHANT' } as const;

/**
 * A site with two products, a monthly bundle, a customer and a grant of the bundle. `accounts`: the site
 * connects its Stripe account and PayPal merchant (needed to bill `stripe`/`paypal` purchases, rule 17);
 * without it the site only takes the platform account's own webhooks.
 */
export async function seedSite(
  api: ReturnType<typeof apiHarness>,
  options: { accessDays?: number; currentPeriodEnd?: string; accounts?: boolean } = {},
) {
  const siteId = uniqueId('site');
  const claims = admin(siteId);
  const ok = async (method: string, path: string, body: unknown) => {
    const result = await api.call(method, path, { claims, body });
    if (result.status >= 300) throw new Error(`${method} ${path} → ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  };
  if (options.accounts) await ok('PUT', `/sites/${siteId}/settings`, HARNESS_ACCOUNTS);
  await ok('PUT', `/sites/${siteId}/products/course`, { name: 'Course' });
  await ok('PUT', `/sites/${siteId}/products/community`, { name: 'Community' });
  await ok('PUT', `/sites/${siteId}/offers/bundle`, {
    name: 'Bundle',
    productIds: ['course', 'community'],
    price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
    ...(options.accessDays ? { accessDays: options.accessDays } : {}),
  });
  await ok('PUT', `/sites/${siteId}/customers/cus-1`, { email: 'ada@example.com', name: 'Ada' });
  const purchase = await ok('POST', `/sites/${siteId}/purchases`, {
    customerId: 'cus-1',
    offerId: 'bundle',
    currentPeriodEnd: options.currentPeriodEnd ?? new Date(api.clock.now().getTime() + 30 * 86_400_000).toISOString(),
  });
  return { siteId, claims, purchaseId: purchase.purchaseId as string, purchase, ok };
}
