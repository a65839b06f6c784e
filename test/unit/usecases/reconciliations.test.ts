import { beforeEach, describe, expect, it } from '@jest/globals';
import type { JobMessage } from '../../../shared/domain/bulk-jobs.ts';
import { ConflictError, ForbiddenError, IdempotencyKeyReusedError } from '../../../shared/domain/errors.ts';
import { ProcessorError } from '../../../shared/ports/processor.ts';
import { getHistory, grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import {
  getReconciliation,
  listReconciliations,
  OFFERS_PER_READ,
  type ReconciliationDeps,
  runReconciliationPage,
  startReconciliation,
} from '../../../shared/usecases/reconciliations.ts';
import { MemoryJobQueue } from '../../support/memory-bulk-jobs.ts';
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
import { MemoryReconciliationStore } from '../../support/memory-reconciliations.ts';
import { aSubscriptionState } from '../fixtures.ts';

const PERIOD_END = '2026-03-15T00:00:00.000Z';
const CANCEL_AT = '2026-03-10T00:00:00.000Z';

let m: MemoryDeps;
let queue: MemoryJobQueue;
let store: MemoryReconciliationStore;
let deps: ReconciliationDeps;

beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
  queue = new MemoryJobQueue();
  store = new MemoryReconciliationStore();
  deps = {
    ...m.deps,
    reconciliations: store,
    reconciliationQueue: queue,
    throttle: { read: (_processor, action) => action() },
  };
});

const now = () => m.clock.now();

const state = aSubscriptionState;

async function linked(subscriptionId: string, processor: 'stripe' | 'paypal' = 'stripe', theirs = state()) {
  const view = await grantOfferToCustomer(
    m.deps,
    SITE,
    {
      customerId: CUSTOMER,
      offerId: 'monthly',
      processor,
      processorSubscriptionId: subscriptionId,
      currentPeriodEnd: PERIOD_END,
    },
    ADMIN,
    now(),
  );
  m.processors[processor].subscriptions.set(subscriptionId, theirs);
  return view.purchaseId;
}

/** Delivers queued pages until none is left (a message may be delivered again by `redeliver`). */
async function drain(redeliver = false) {
  const seen: JobMessage[] = [];
  while (queue.messages.length > 0) {
    const message = queue.messages.shift()!;
    seen.push(message);
    await runReconciliationPage(deps, message, now());
    if (redeliver) await runReconciliationPage(deps, message, now());
  }
  return seen;
}

async function reconcile(input: { processor?: 'stripe' | 'paypal'; repair?: boolean } = {}) {
  const { body } = await startReconciliation(deps, SITE, input, null, ADMIN, now());
  await drain();
  return getReconciliation(deps, SITE, body.jobId, 100, null);
}

describe('startReconciliation', () => {
  it('answers 202 with a job id and queues its first page; the job is queued with nothing counted', async () => {
    const result = await startReconciliation(deps, SITE, { repair: true }, null, SUPPORT, now());
    expect(result).toMatchObject({ statusCode: 202, replayed: false });
    expect(queue.messages).toEqual([{ siteId: SITE, jobId: result.body.jobId, page: 0 }]);
    const report = await getReconciliation(deps, SITE, result.body.jobId, 10, null);
    expect(report).toMatchObject({ status: 'queued', processor: null, repair: true, checked: 0, items: [] });
  });

  it('refuses automation (403), and a processor whose account the site has not connected (409 naming it)', async () => {
    await expect(startReconciliation(deps, SITE, {}, null, AUTOMATION, now())).rejects.toBeInstanceOf(ForbiddenError);
    await m.stores.catalog.updateSettings(SITE, { stripeAccountId: null });
    const refused = startReconciliation(deps, SITE, { processor: 'stripe' }, null, ADMIN, now());
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toMatchObject({ details: [{ field: 'stripeAccountId' }] });
    expect(queue.messages).toEqual([]);
  });

  it('answers the same job for a retried request with the same Idempotency-Key, 422 for another request', async () => {
    const first = await startReconciliation(deps, SITE, { repair: true }, 'k-1', ADMIN, now());
    const again = await startReconciliation(deps, SITE, { repair: true }, 'k-1', ADMIN, now());
    expect(again).toMatchObject({ replayed: true, body: { jobId: first.body.jobId } });
    await expect(startReconciliation(deps, SITE, { repair: false }, 'k-1', ADMIN, now())).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
    expect((await listReconciliations(deps, SITE, 10, null)).items).toHaveLength(1);
  });
});

describe('runReconciliationPage', () => {
  it('reports each field that disagrees, for that purchase only, and changes nothing without repair', async () => {
    const drifted = await linked('sub_drift', 'stripe', state({ cancelAt: CANCEL_AT }));
    await linked('sub_ok');
    await grantOfferToCustomer(
      m.deps,
      SITE,
      { customerId: CUSTOMER, offerId: 'monthly', processor: 'none' },
      ADMIN,
      now(),
    );
    const report = await reconcile();
    expect(report).toMatchObject({ status: 'completed', checked: 2, drifted: 1, repaired: 0, skipped: 0, failed: 0 });
    expect(report.items).toEqual([
      {
        purchaseId: drifted,
        processorSubscriptionId: 'sub_drift',
        field: 'cancelAt',
        ledger: null,
        processor: CANCEL_AT,
      },
    ]);
    expect((await m.stores.purchases.getPurchase(SITE, drifted))?.status).toBe('active');
  });

  it('with repair, applies the processor state through the webhook rules: history by the processor, with the job id', async () => {
    const purchaseId = await linked('sub_1', 'stripe', state({ cancelAt: CANCEL_AT }));
    const report = await reconcile({ repair: true });
    expect(report).toMatchObject({ checked: 1, drifted: 1, repaired: 1 });
    const purchase = await m.stores.purchases.getPurchase(SITE, purchaseId);
    expect(purchase).toMatchObject({ status: 'pending_cancellation', cancellation: { effectiveAt: CANCEL_AT } });
    const last = (await getHistory(m.deps, SITE, purchaseId)).items.at(-1);
    expect(last).toMatchObject({
      type: 'cancellation.requested',
      actor: { type: 'processor', processor: 'stripe' },
      details: { jobId: report.jobId, eventType: 'membergate.reconciliation' },
    });
    // The timer of the cancellation the processor scheduled is armed, as a webhook would.
    expect(m.scheduler.timers.size).toBeGreaterThan(0);
    // A second reconciliation finds nothing left.
    expect(await reconcile()).toMatchObject({ checked: 1, drifted: 0, items: [] });
  });

  it('a page delivered twice counts once and repairs once', async () => {
    const purchaseId = await linked('sub_1', 'stripe', state({ status: 'paused' }));
    await linked('sub_2');
    const { body } = await startReconciliation(deps, SITE, { repair: true }, null, ADMIN, now());
    await drain(true);
    const report = await getReconciliation(deps, SITE, body.jobId, 100, null);
    expect(report).toMatchObject({ status: 'completed', checked: 2, drifted: 1, repaired: 1 });
    const pauses = (await getHistory(m.deps, SITE, purchaseId)).items.filter((e) => e.type === 'billing.paused');
    expect(pauses).toHaveLength(1);
  });

  it('a crash after the repair and before the page was counted: the redelivery neither repairs again nor loses the count', async () => {
    const purchaseId = await linked('sub_1', 'stripe', state({ status: 'paused' }));
    const { body } = await startReconciliation(deps, SITE, { repair: true }, null, ADMIN, now());
    const message = queue.messages.shift()!;
    const crashing: ReconciliationDeps = {
      ...deps,
      reconciliations: Object.assign(Object.create(store), {
        countPage: async () => {
          throw new Error('crash');
        },
      }),
    };
    await expect(runReconciliationPage(crashing, message, now())).rejects.toThrow('crash');
    await runReconciliationPage(deps, message, now());
    const report = await getReconciliation(deps, SITE, body.jobId, 100, null);
    expect(report).toMatchObject({ status: 'completed', checked: 1, drifted: 1, repaired: 1 });
    expect(report.items?.map((item) => item.field)).toEqual(['status']);
    const pauses = (await getHistory(m.deps, SITE, purchaseId)).items.filter((e) => e.type === 'billing.paused');
    expect(pauses).toHaveLength(1);
  });

  it('does not undo a change made after the processor was read', async () => {
    const purchaseId = await linked('sub_1', 'stripe', state({ status: 'paused' }));
    const stripe = m.processors.stripe;
    // While the processor is being read, an admin's change lands (it moves the purchase's version and time).
    stripe.during = async () => {
      m.clock.set(new Date(m.clock.now().getTime() + 1_000).toISOString());
      const current = (await m.stores.purchases.getPurchase(SITE, purchaseId))!;
      await m.stores.purchases.savePurchase(
        { purchase: { ...current, version: current.version + 1, updatedAt: m.clock.now().toISOString() }, history: [] },
        current.version,
      );
    };
    const report = await reconcile({ repair: true });
    expect(report).toMatchObject({ drifted: 1, repaired: 0 });
    expect((await m.stores.purchases.getPurchase(SITE, purchaseId))?.status).toBe('active');
  });

  it('lists a purchase the processor does not know as drifted status, and one it refuses as failed', async () => {
    const missing = await linked('sub_gone');
    m.processors.stripe.subscriptions.delete('sub_gone');
    const refused = await linked('sub_refused');
    m.processors.stripe.failNext('fetchSubscription', new ProcessorError('stripe', 'bad request', 400));
    const report = await reconcile({ repair: true });
    expect(report.drifted + report.failed).toBe(2);
    expect(report.items).toContainEqual(
      expect.objectContaining({ purchaseId: missing, field: 'status', processor: null }),
    );
    expect(report.repaired).toBe(0);
    expect([missing, refused]).toContain(report.problems[0]?.purchaseId);
  });

  it('skips, with the setting named, a purchase whose account cannot be told (no processorAccount, none connected)', async () => {
    const purchaseId = await linked('sub_1');
    const purchase = (await m.stores.purchases.getPurchase(SITE, purchaseId))!;
    await m.stores.purchases.savePurchase(
      { purchase: { ...purchase, processorAccount: null, version: purchase.version + 1 }, history: [] },
      purchase.version,
    );
    await m.stores.catalog.updateSettings(SITE, { stripeAccountId: null });
    const report = await reconcile();
    expect(report).toMatchObject({ checked: 0, skipped: 1 });
    expect(report.problems[0]?.reason).toContain('stripeAccountId');
  });

  it('only reads the processor asked for', async () => {
    await linked('sub_1', 'stripe', state({ status: 'paused' }));
    await linked('I-1', 'paypal', state({ status: 'paused' }));
    const report = await reconcile({ processor: 'paypal' });
    expect(report).toMatchObject({ processor: 'paypal', checked: 1, drifted: 1 });
    expect(m.processors.stripe.called('fetchSubscription')).toEqual([]);
  });

  it('walks a site with more purchases than a page, page by page, queuing the next before working one', async () => {
    for (let i = 0; i < 130; i++) await linked(`sub_${i}`);
    const { body } = await startReconciliation(deps, SITE, {}, null, ADMIN, now());
    const pages = await drain();
    expect(pages.map((p) => p.page)).toEqual([0, 1]);
    expect(await getReconciliation(deps, SITE, body.jobId, 10, null)).toMatchObject({
      status: 'completed',
      checked: 130,
    });
  });
});

describe('runReconciliationPage: the walk', () => {
  /** A purchase of `offerId` at `at`; linked to `subscriptionId` at Stripe (with `theirs`) unless that is null. */
  async function purchase(offerId: string, at: string, subscriptionId: string | null, theirs = state()) {
    m.clock.set(at);
    const view = await grantOfferToCustomer(
      m.deps,
      SITE,
      subscriptionId
        ? {
            customerId: CUSTOMER,
            offerId,
            processor: 'stripe',
            processorSubscriptionId: subscriptionId,
            currentPeriodEnd: PERIOD_END,
          }
        : { customerId: CUSTOMER, offerId, processor: 'none' },
      ADMIN,
      now(),
    );
    if (subscriptionId) m.processors.stripe.subscriptions.set(subscriptionId, theirs);
    return view.purchaseId;
  }

  /** Sets the ledger's status only, as a webhook or an admin would have moved it. */
  async function setStatus(purchaseId: string, status: 'active' | 'past_due' | 'canceled') {
    const current = (await m.stores.purchases.getPurchase(SITE, purchaseId))!;
    await m.stores.purchases.savePurchase(
      { purchase: { ...current, status, version: current.version + 1, updatedAt: now().toISOString() }, history: [] },
      current.version,
    );
  }

  it('walks more offers than one catalog read, across page boundaries, each purchase once', async () => {
    const offers = Array.from({ length: OFFERS_PER_READ + 5 }, (_, i) => `offer-${String(i).padStart(2, '0')}`);
    const ids: string[] = [];
    for (const offerId of offers) {
      const seeded = (await m.stores.catalog.getOffer(SITE, 'monthly'))!;
      await m.stores.catalog.upsertOffer({ ...seeded, offerId });
      for (let i = 0; i < 4; i++) ids.push(await purchase(offerId, '2026-02-01T00:00:00.000Z', `sub_${offerId}_${i}`));
    }
    const { body } = await startReconciliation(deps, SITE, {}, null, ADMIN, now());
    expect((await drain()).map((message) => message.page)).toEqual([0, 1]);
    expect(await getReconciliation(deps, SITE, body.jobId, 10, null)).toMatchObject({
      status: 'completed',
      checked: ids.length,
    });
    const reads = m.processors.stripe.called('fetchSubscription').map((call) => call.purchaseId);
    expect(reads.sort()).toEqual(ids.sort());
  });

  it('completes at once for a site with no offers', async () => {
    const { body } = await startReconciliation(deps, 'site-empty', {}, null, ADMIN, now());
    expect((await drain()).map((message) => message.page)).toEqual([0]);
    expect(await getReconciliation(deps, 'site-empty', body.jobId, 10, null)).toMatchObject({
      status: 'completed',
      checked: 0,
    });
  });

  it('reconciles every linked purchase that existed at the start exactly once, whatever status changes between pages', async () => {
    // The oldest purchases are on the payment plan offer, archived since (its purchases still bill): `moving` is
    // past_due, the index the old walk read sorts it after every active purchase.
    const planAt = '2026-02-01T00:00:00.000Z';
    const kept = await purchase('plan', planAt, 'sub_plan_active');
    const moving = await purchase('plan', planAt, 'sub_plan_moving', state({ status: 'past_due' }));
    const behind = await purchase('plan', planAt, 'sub_plan_past_due', state({ status: 'past_due' }));
    await purchase('plan', planAt, null);
    await setStatus(moving, 'past_due');
    await setStatus(behind, 'past_due');
    await m.stores.catalog.archiveOffer(SITE, 'plan', planAt);
    // Unlinked one-time and free purchases are read and skipped silently.
    await purchase('lifetime', '2026-02-02T00:00:00.000Z', null);
    await purchase('trial', '2026-02-02T00:00:00.000Z', null);
    // More active subscriptions than a page, and a canceled one.
    const monthly: string[] = [];
    for (let i = 0; i < 110; i++) monthly.push(await purchase('monthly', '2026-02-03T00:00:00.000Z', `sub_m${i}`));
    const canceled = await purchase(
      'monthly',
      '2026-02-03T00:00:00.000Z',
      'sub_canceled',
      state({ status: 'canceled' }),
    );
    await setStatus(canceled, 'canceled');
    const linkedIds = [kept, moving, behind, ...monthly, canceled];

    const { body } = await startReconciliation(deps, SITE, {}, null, ADMIN, now());
    await runReconciliationPage(deps, queue.messages.shift()!, now());
    // Between pages the not yet reached past_due plan purchase becomes active in the ledger; Stripe still says
    // past_due. In the subscriptions index it would now sort before everything the walk has passed.
    expect(store.markers.size).toBeGreaterThan(0);
    expect([...store.markers.values()].map((marker) => marker.purchaseId)).not.toContain(moving);
    await setStatus(moving, 'active');
    const pages = [0, ...(await drain()).map((message) => message.page)];

    const report = await getReconciliation(deps, SITE, body.jobId, 100, null);
    expect(pages).toEqual([0, 1]);
    expect(report).toMatchObject({ status: 'completed', checked: linkedIds.length, drifted: 1, skipped: 0, failed: 0 });
    expect(report.checked + report.skipped + report.failed).toBe(linkedIds.length);
    expect(report.items).toEqual([
      {
        purchaseId: moving,
        processorSubscriptionId: 'sub_plan_moving',
        field: 'status',
        ledger: 'active',
        processor: 'past_due',
      },
    ]);
    const marked = [...store.markers.values()].filter((marker) => marker.jobId === body.jobId);
    expect(marked.map((marker) => marker.purchaseId).sort()).toEqual([...linkedIds].sort());
    // Each read at Stripe exactly once: none missed, none read twice.
    const reads = m.processors.stripe.called('fetchSubscription').map((call) => call.purchaseId);
    expect(reads.sort()).toEqual([...linkedIds].sort());
  });
});
