import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import Stripe from 'stripe';
import { createReconciliationsHandler } from '../../functions/reconciliations/app.ts';
import { lambdaContext } from '../../infra/local/gateway.ts';
import { type PayPalSandbox, startPayPalSandbox } from '../../infra/local/paypal-sandbox.ts';
import { type StripeSandbox, startStripeSandbox } from '../../infra/local/stripe-sandbox.ts';
import { createProcessorThrottle } from '../../shared/adapters/processor-throttle.ts';
import { processorRegistry } from '../../shared/adapters/processors.ts';
import type { ApiEvent, ApiResult } from '../../shared/http/api.ts';
import { createDocumentClient } from '../../shared/store/client.ts';
import { createDynamoReconciliationStore } from '../../shared/store/index.ts';
import { grantOfferToCustomer } from '../../shared/usecases/purchases.ts';
import {
  getReconciliation,
  type ReconciliationDeps,
  runReconciliationPage,
  startReconciliation,
} from '../../shared/usecases/reconciliations.ts';
import { admin, apiHarness, HARNESS_ACCOUNTS, seedSite, TestClock, testStores, uniqueId } from '../support/harness.ts';
import { MemoryJobQueue } from '../support/memory-bulk-jobs.ts';
import { ADMIN, CUSTOMER, memoryDeps, seedSite as seedCatalog } from '../support/memory-deps.ts';
import { aSubscriptionState } from '../unit/fixtures.ts';

/**
 * Drift reconciliation against DynamoDB Local and the local Stripe and PayPal sandboxes, through the real
 * adapters (`fetchSubscription` on the site's account): a change made only at the processor is reported; with
 * repair it is applied once, however often its page is delivered, and the history says which job did it.
 */

jest.setTimeout(60_000);

// The sandboxes check times against the real clock (Stripe refuses a cancel_at in the past), so the harness's
// fixed clock starts at the run's own hour: dates ahead of it stay ahead whenever the suite runs.
const NOW = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
let stripeSandbox: StripeSandbox;
let paypalSandbox: PayPalSandbox;
const db = createDocumentClient({ endpoint: process.env.DYNAMODB_ENDPOINT });
beforeAll(async () => {
  [stripeSandbox, paypalSandbox] = await Promise.all([startStripeSandbox(), startPayPalSandbox()]);
});
afterAll(async () => {
  await Promise.all([stripeSandbox?.stop(), paypalSandbox?.stop()]);
  db.destroy();
});

function setup() {
  const processors = processorRegistry({
    stripe: { secretKey: 'sk_test_platform', apiBase: stripeSandbox.url },
    native: null,
    stripeWebhookSecret: null,
    paypal: {
      clientId: paypalSandbox.clientId,
      clientSecret: paypalSandbox.clientSecret,
      apiBase: paypalSandbox.url,
      environment: 'sandbox',
    },
    paypalWebhookId: null,
    paypalWebhookCert: null,
  });
  const api = apiHarness({ clock: new TestClock(NOW), processors });
  const queue = new MemoryJobQueue();
  const deps: ReconciliationDeps = {
    ...api.deps,
    reconciliations: createDynamoReconciliationStore(db, process.env.TABLE_NAME!),
    reconciliationQueue: queue,
    throttle: createProcessorThrottle(() => 25),
  };
  const handler = createReconciliationsHandler(deps);
  const call = async (method: string, path: string, siteId: string, body?: unknown, key?: string) => {
    const [rawPath, search = ''] = path.split('?');
    const routeKey = `${method} ${rawPath!.replace(/^\/sites\/[^/]+/, '/sites/{siteId}').replace(/reconciliations\/[^/]+$/, 'reconciliations/{jobId}')}`;
    const jobId = /reconciliations\/([^/]+)$/.exec(rawPath!)?.[1];
    const event = {
      version: '2.0',
      routeKey,
      rawPath,
      rawQueryString: search,
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      queryStringParameters: Object.fromEntries(new URLSearchParams(search)),
      pathParameters: { siteId, ...(jobId ? { jobId } : {}) },
      requestContext: {
        http: { method, path: rawPath },
        routeKey,
        authorizer: { jwt: { claims: admin(siteId), scopes: [] } },
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      isBase64Encoded: false,
    } as unknown as ApiEvent;
    const result = (await handler(event, lambdaContext('reconciliations'))) as ApiResult;
    return { status: result.statusCode ?? 200, body: result.body ? JSON.parse(result.body) : undefined };
  };
  return { api, deps, queue, call };
}

/** A site connected to the harness accounts, with a Stripe purchase whose period matches the sandbox's. */
async function stripePurchase(h: ReturnType<typeof setup>) {
  const site = await seedSite(h.api, { accounts: true });
  const subscriptionId = `sub_${site.siteId.replaceAll('-', '')}`;
  const client = new Stripe('sk_test_platform', {
    host: '127.0.0.1',
    port: new URL(stripeSandbox.url).port,
    protocol: 'http',
  });
  const atStripe = await client.subscriptions.retrieve(
    subscriptionId,
    {},
    { stripeAccount: HARNESS_ACCOUNTS.stripeAccountId },
  );
  const periodEnd = new Date(atStripe.items.data[0]!.current_period_end * 1000).toISOString();
  const purchase = await site.ok('POST', `/sites/${site.siteId}/purchases`, {
    customerId: 'cus-1',
    offerId: 'bundle',
    processor: 'stripe',
    processorSubscriptionId: subscriptionId,
    currentPeriodEnd: periodEnd,
  });
  return { ...site, client, subscriptionId, stripePurchaseId: purchase.purchaseId as string };
}

describe('reconciliation against DynamoDB Local and the sandboxes', () => {
  it('reports a cancellation scheduled only in Stripe, for that purchase; a redelivered repair page repairs once', async () => {
    const h = setup();
    const { siteId, client, subscriptionId, stripePurchaseId } = await stripePurchase(h);
    const cancelAt = Math.floor(NOW.getTime() / 1000) + 10 * 86_400;
    // In Stripe's dashboard, as it were: no webhook reaches membergate.
    await client.subscriptions.update(
      subscriptionId,
      { cancel_at: cancelAt },
      { stripeAccount: HARNESS_ACCOUNTS.stripeAccountId },
    );

    const report = await h.call('POST', `/sites/${siteId}/reconciliations`, siteId, {});
    expect(report.status).toBe(202);
    while (h.queue.messages.length > 0) await runReconciliationPage(h.deps, h.queue.messages.shift()!, NOW);
    const found = await h.call('GET', `/sites/${siteId}/reconciliations/${report.body.jobId}`, siteId);
    expect(found.body).toMatchObject({ status: 'completed', processor: null, checked: 1, drifted: 1, repaired: 0 });
    expect(found.body.items).toEqual([
      {
        purchaseId: stripePurchaseId,
        processorSubscriptionId: subscriptionId,
        field: 'cancelAt',
        ledger: null,
        processor: new Date(cancelAt * 1000).toISOString(),
      },
    ]);
    // The read acted on the site's connected account.
    const reads = stripeSandbox.requests.filter((r) => r.method === 'GET' && r.path.endsWith(subscriptionId));
    expect(reads.at(-1)?.headers['stripe-account']).toBe(HARNESS_ACCOUNTS.stripeAccountId);

    const repair = await h.call('POST', `/sites/${siteId}/reconciliations`, siteId, { repair: true }, 'repair-1');
    const replay = await h.call('POST', `/sites/${siteId}/reconciliations`, siteId, { repair: true }, 'repair-1');
    expect(replay.body.jobId).toBe(repair.body.jobId);
    // Each page is delivered twice (at least once delivery), the second time as if the first had crashed late.
    const pages = h.queue.messages.splice(0);
    for (const message of pages) {
      await runReconciliationPage(h.deps, message, NOW);
      await runReconciliationPage(h.deps, message, NOW);
    }
    const repaired = await h.call('GET', `/sites/${siteId}/reconciliations/${repair.body.jobId}`, siteId);
    expect(repaired.body).toMatchObject({ status: 'completed', checked: 1, drifted: 1, repaired: 1 });
    const purchase = await h.api.deps.purchases.getPurchase(siteId, stripePurchaseId);
    expect(purchase).toMatchObject({
      status: 'pending_cancellation',
      cancellation: { effectiveAt: new Date(cancelAt * 1000).toISOString() },
    });
    const history = await h.api.deps.purchases.listHistory(siteId, stripePurchaseId);
    const requested = history.filter((entry) => entry.type === 'cancellation.requested');
    expect(requested).toHaveLength(1);
    expect(requested[0]).toMatchObject({
      actor: { type: 'processor', processor: 'stripe' },
      details: { jobId: repair.body.jobId, eventType: 'membergate.reconciliation' },
    });

    const list = await h.call('GET', `/sites/${siteId}/reconciliations?limit=1`, siteId);
    expect(list.body.items.map((job: { jobId: string }) => job.jobId)).toEqual([repair.body.jobId]);
    expect(list.body.nextCursor).toEqual(expect.any(String));
  });

  it('reads PayPal for the site’s merchant: a subscription suspended only at PayPal is reported and repaired', async () => {
    const h = setup();
    const site = await seedSite(h.api, { accounts: true });
    const subscriptionId = `I-${site.siteId.slice(-10).toUpperCase()}`;
    paypalSandbox.addSubscription({
      id: subscriptionId,
      merchant: HARNESS_ACCOUNTS.paypalMerchantId,
      status: 'SUSPENDED',
    });
    const purchase = await site.ok('POST', `/sites/${site.siteId}/purchases`, {
      customerId: 'cus-1',
      offerId: 'bundle',
      processor: 'paypal',
      processorSubscriptionId: subscriptionId,
      currentPeriodEnd: new Date(NOW.getTime() + 30 * 86_400_000).toISOString(),
    });
    const started = await h.call('POST', `/sites/${site.siteId}/reconciliations`, site.siteId, {
      processor: 'paypal',
      repair: true,
    });
    while (h.queue.messages.length > 0) await runReconciliationPage(h.deps, h.queue.messages.shift()!, NOW);
    const report = await h.call('GET', `/sites/${site.siteId}/reconciliations/${started.body.jobId}`, site.siteId);
    expect(report.body).toMatchObject({ checked: 1, drifted: 1, repaired: 1 });
    expect(report.body.items).toEqual([
      expect.objectContaining({
        purchaseId: purchase.purchaseId,
        field: 'status',
        ledger: 'active',
        processor: 'paused',
      }),
    ]);
    expect((await h.api.deps.purchases.getPurchase(site.siteId, purchase.purchaseId))?.status).toBe('paused');
    const reads = paypalSandbox.requests.filter((r) => r.method === 'GET' && r.path.endsWith(subscriptionId));
    expect(reads.at(-1)?.headers['paypal-auth-assertion']).toEqual(expect.any(String));
  });

  it('answers 409 naming the setting for a processor the site has not connected', async () => {
    const h = setup();
    const site = await seedSite(h.api);
    const refused = await h.call('POST', `/sites/${site.siteId}/reconciliations`, site.siteId, { processor: 'stripe' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toEqual([expect.objectContaining({ field: 'stripeAccountId' })]);
  });
});

describe('the walk by offer on DynamoDB Local', () => {
  it('reads each linked purchase once when one changes status between pages, archived offers included', async () => {
    // The DynamoDB stores with recording processors: what is under test is the walk over the real indexes.
    const m = memoryDeps();
    const stores = testStores();
    const siteId = uniqueId('site');
    await seedCatalog({ stores }, siteId);
    const queue = new MemoryJobQueue();
    const reconciliations = createDynamoReconciliationStore(db, process.env.TABLE_NAME!);
    const deps: ReconciliationDeps = {
      ...m.deps,
      ...stores,
      reconciliations,
      reconciliationQueue: queue,
      throttle: { read: (_processor, action) => action() },
    };
    const periodEnd = '2026-03-15T00:00:00.000Z';
    const grant = async (offerId: string, at: string, status: 'active' | 'past_due') => {
      m.clock.set(at);
      const subscriptionId = uniqueId('sub');
      const { purchaseId } = await grantOfferToCustomer(
        deps,
        siteId,
        {
          customerId: CUSTOMER,
          offerId,
          processor: 'stripe',
          processorSubscriptionId: subscriptionId,
          currentPeriodEnd: periodEnd,
        },
        ADMIN,
        m.clock.now(),
      );
      m.processors.stripe.subscriptions.set(
        subscriptionId,
        aSubscriptionState({ status, currentPeriodEnd: periodEnd }),
      );
      return purchaseId;
    };
    const setStatus = async (purchaseId: string, status: 'active' | 'past_due') => {
      const current = (await stores.purchases.getPurchase(siteId, purchaseId))!;
      await stores.purchases.savePurchase(
        { purchase: { ...current, status, version: current.version + 1 }, history: [] },
        current.version,
      );
    };
    // The oldest purchase, past_due on the plan offer (archived since), sorts after every active one by status.
    const moving = await grant('plan', '2026-02-01T00:00:00.000Z', 'past_due');
    await setStatus(moving, 'past_due');
    await stores.catalog.archiveOffer(siteId, 'plan', '2026-02-01T00:00:00.000Z');
    const monthly: string[] = [];
    for (let i = 0; i < 104; i++) monthly.push(await grant('monthly', '2026-02-02T00:00:00.000Z', 'active'));

    const { body } = await startReconciliation(deps, siteId, {}, null, ADMIN, m.clock.now());
    await runReconciliationPage(deps, queue.messages.shift()!, m.clock.now());
    await setStatus(moving, 'active');
    while (queue.messages.length > 0) await runReconciliationPage(deps, queue.messages.shift()!, m.clock.now());

    const report = await getReconciliation(deps, siteId, body.jobId, 100, null);
    expect(report).toMatchObject({ status: 'completed', checked: 105, drifted: 1, skipped: 0, failed: 0 });
    expect(report.items).toEqual([
      expect.objectContaining({ purchaseId: moving, ledger: 'active', processor: 'past_due' }),
    ]);
    const reads = m.processors.stripe.called('fetchSubscription').map((call) => call.purchaseId);
    expect(reads.sort()).toEqual([moving, ...monthly].sort());
  });
});
