import { beforeEach, describe, expect, it } from '@jest/globals';
import { MemoryRecentPurchases } from '../../../shared/adapters/recent-purchases.ts';
import type { IgnoredEvent, ProcessorEvent, SubscriptionState } from '../../../shared/domain/processor-events.ts';
import { customerProductAccess } from '../../../shared/usecases/access.ts';
import { changeAccess, getHistory, grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import { handleProcessorEvent } from '../../../shared/usecases/webhooks.ts';
import {
  ADMIN,
  CUSTOMER,
  type MemoryDeps,
  memoryDeps,
  SITE,
  SITE_ACCOUNTS,
  seedSite,
  T0,
} from '../../support/memory-deps.ts';

const PERIOD_END = '2026-03-15T00:00:00.000Z';

let m: MemoryDeps;
let events = 0;
beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
});

const now = () => m.clock.now();

function state(overrides: Partial<SubscriptionState> = {}): SubscriptionState {
  return {
    status: 'active',
    currentPeriodStart: '2026-02-15T00:00:00.000Z',
    currentPeriodEnd: PERIOD_END,
    cancelAt: null,
    cancelAtPeriodEnd: false,
    accessEnds: 'now',
    resumesAt: null,
    ...overrides,
  };
}

/** A Stripe `customer.subscription.updated` for sub_1 of the seeded site, its metadata naming offer and customer. */
function stripeEvent(overrides: Partial<ProcessorEvent> = {}): ProcessorEvent {
  return {
    processor: 'stripe',
    account: SITE_ACCOUNTS.stripeAccountId,
    eventId: `evt_${++events}`,
    type: 'customer.subscription.updated',
    occurredAt: T0,
    subscriptionId: 'sub_1',
    siteId: SITE,
    link: { offerId: 'monthly', customerId: CUSTOMER },
    subscription: state(),
    payment: null,
    ...overrides,
  };
}

async function linkedPurchase() {
  const { purchaseId } = await grantOfferToCustomer(
    m.deps,
    SITE,
    {
      customerId: CUSTOMER,
      offerId: 'monthly',
      processor: 'stripe',
      processorSubscriptionId: 'sub_1',
      currentPeriodEnd: PERIOD_END,
    },
    ADMIN,
    now(),
  );
  return purchaseId;
}

const stored = (purchaseId: string) => m.stores.purchases.getPurchase(SITE, purchaseId);
const historyTypes = async (purchaseId: string) =>
  (await getHistory(m.deps, SITE, purchaseId)).items.map((entry) => entry.type);

describe('handleProcessorEvent', () => {
  it('applies an event to the linked purchase: a cancellation scheduled in Stripe is pending here, with its timer', async () => {
    const id = await linkedPurchase();
    const event = stripeEvent({ subscription: state({ cancelAt: PERIOD_END, cancelAtPeriodEnd: true }) });

    const outcome = await handleProcessorEvent(m.deps, event, now());

    expect(outcome).toEqual({ outcome: 'applied', eventId: event.eventId, purchaseId: id });
    expect(await stored(id)).toMatchObject({
      status: 'pending_cancellation',
      cancellation: { when: 'period_end', effectiveAt: PERIOD_END },
      accessEndsAt: PERIOD_END,
    });
    expect(m.scheduler.forPurchase(id)).toEqual([{ purpose: 'cancellation', dueAt: PERIOD_END }]);
    const history = await getHistory(m.deps, SITE, id);
    expect(history.items.at(-1)).toMatchObject({
      type: 'cancellation.requested',
      actor: { type: 'processor', processor: 'stripe', eventId: event.eventId },
    });
  });

  it('an applied delivery reads once (the purchase, by its derived id), and a duplicate reads once too', async () => {
    const id = await linkedPurchase();
    const reads: string[] = [];
    const purchases = m.deps.purchases;
    const counted = {
      ...m.deps,
      purchases: new Proxy(purchases, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (name === 'getPurchase' || name === 'findByProcessorSubscription') reads.push(String(name));
            return value.apply(target, args);
          };
        },
      }),
      processorEvents: new Proxy(m.deps.processorEvents, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (name === 'hasProcessorEvent') reads.push(String(name));
            return value.apply(target, args);
          };
        },
      }),
    };
    const event = stripeEvent({ subscription: state({ status: 'past_due' }) });

    expect(await handleProcessorEvent(counted, event, now())).toEqual({
      outcome: 'applied',
      eventId: event.eventId,
      purchaseId: id,
    });
    expect(reads).toEqual(['getPurchase']);

    reads.length = 0;
    expect(await handleProcessorEvent(counted, event, now())).toEqual({ outcome: 'duplicate', eventId: event.eventId });
    expect(reads).toEqual(['getPurchase']);
  });

  it('a purchase linked under a random id (before ids were derived) is still found through the link', async () => {
    const legacy = await grantOfferToCustomer(
      m.deps,
      SITE,
      { customerId: CUSTOMER, offerId: 'monthly', processor: 'none', currentPeriodEnd: PERIOD_END },
      ADMIN,
      now(),
    );
    const stored = await m.stores.purchases.getPurchase(SITE, legacy.purchaseId);
    if (!stored) throw new Error('missing');
    // What an import made before derived ids looks like: a Stripe purchase under a random id, and its link.
    const old = {
      ...stored,
      purchaseId: 'pur_random_legacy',
      processor: 'stripe' as const,
      processorSubscriptionId: 'sub_legacy',
    };
    await m.stores.purchases.createPurchase({ purchase: old, history: [] });
    const event = stripeEvent({ subscriptionId: 'sub_legacy', subscription: state({ status: 'past_due' }) });

    const outcome = await handleProcessorEvent(m.deps, event, now());

    expect(outcome).toEqual({ outcome: 'applied', eventId: event.eventId, purchaseId: 'pur_random_legacy' });
    expect((await m.stores.purchases.getPurchase(SITE, 'pur_random_legacy'))?.status).toBe('past_due');
  });

  it('a redelivered event is a duplicate and changes nothing', async () => {
    const id = await linkedPurchase();
    const event = stripeEvent({ payment: null, subscription: state({ status: 'past_due' }) });
    await handleProcessorEvent(m.deps, event, now());
    const before = await stored(id);

    const outcome = await handleProcessorEvent(m.deps, event, now());

    expect(outcome).toEqual({ outcome: 'duplicate', eventId: event.eventId });
    await expect(stored(id)).resolves.toEqual(before);
    expect(await historyTypes(id)).toEqual(['purchase.granted', 'billing.updated']);
  });

  it('an older state delivered after a newer one cannot undo it (out of order)', async () => {
    const id = await linkedPurchase();
    const deleted = stripeEvent({
      type: 'customer.subscription.deleted',
      occurredAt: '2026-03-01T09:00:00.000Z',
      subscription: state({ status: 'canceled' }),
    });
    const olderUpdate = stripeEvent({
      occurredAt: '2026-03-01T08:00:00.000Z',
      subscription: state({ status: 'past_due' }),
    });
    await handleProcessorEvent(m.deps, deleted, now());

    const outcome = await handleProcessorEvent(m.deps, olderUpdate, now());

    expect(outcome).toEqual({ outcome: 'unchanged', eventId: olderUpdate.eventId, purchaseId: id });
    expect(await stored(id)).toMatchObject({ status: 'canceled' });
    expect(await historyTypes(id)).toEqual(['purchase.granted', 'cancellation.effective']);
    await expect(customerProductAccess(m.deps, SITE, CUSTOMER, 'course', now())).resolves.toMatchObject({
      hasAccess: false,
    });
  });

  it('an event older than the state applied changes nothing, yet is recorded: its redelivery is a duplicate', async () => {
    const id = await linkedPurchase();
    await handleProcessorEvent(m.deps, stripeEvent({ occurredAt: T0 }), now());
    const event = stripeEvent({ occurredAt: '2026-03-01T09:00:00.000Z' });

    await expect(handleProcessorEvent(m.deps, event, now())).resolves.toEqual({
      outcome: 'unchanged',
      eventId: event.eventId,
      purchaseId: id,
    });
    await expect(handleProcessorEvent(m.deps, event, now())).resolves.toEqual({
      outcome: 'duplicate',
      eventId: event.eventId,
    });
  });

  it('creates the purchase (and the customer) from the metadata of a subscription it has not seen', async () => {
    const event = stripeEvent({ subscriptionId: 'sub_new', link: { offerId: 'monthly', customerId: 'cus-new' } });

    const outcome = await handleProcessorEvent(m.deps, event, now());

    expect(outcome).toMatchObject({ outcome: 'created', eventId: event.eventId });
    const link = await m.stores.purchases.findByProcessorSubscription('stripe', 'sub_new');
    expect(link).toEqual({ siteId: SITE, purchaseId: outcome.outcome === 'created' ? outcome.purchaseId : null });
    expect(await stored(link!.purchaseId)).toMatchObject({
      customerId: 'cus-new',
      processor: 'stripe',
      status: 'active',
      currentPeriodEnd: PERIOD_END,
    });
    await expect(m.stores.catalog.getCustomer(SITE, 'cus-new')).resolves.toMatchObject({ email: null });
    await expect(handleProcessorEvent(m.deps, event, now())).resolves.toEqual({
      outcome: 'duplicate',
      eventId: event.eventId,
    });
  });

  it('an event the adapter could not use is ignored once, then a duplicate', async () => {
    const event: IgnoredEvent = {
      ignored: true,
      processor: 'stripe',
      eventId: 'evt_ignored',
      type: 'charge.dispute.created',
      reason: 'not a subscription event',
    };

    await expect(handleProcessorEvent(m.deps, event, now())).resolves.toEqual({
      outcome: 'ignored',
      eventId: 'evt_ignored',
      reason: 'not a subscription event',
    });
    await expect(handleProcessorEvent(m.deps, event, now())).resolves.toEqual({
      outcome: 'duplicate',
      eventId: 'evt_ignored',
    });
  });

  it('an unknown subscription without metadata is ignored and creates nothing', async () => {
    const event = stripeEvent({ subscriptionId: 'sub_unknown', link: null });

    const outcome = await handleProcessorEvent(m.deps, event, now());

    expect(outcome).toMatchObject({ outcome: 'ignored', reason: 'no purchase is linked to this subscription' });
    await expect(m.stores.purchases.findByProcessorSubscription('stripe', 'sub_unknown')).resolves.toBeNull();
  });

  it('an event naming another site than its subscription is ignored and touches nothing', async () => {
    const id = await linkedPurchase();
    const before = await stored(id);

    const outcome = await handleProcessorEvent(
      m.deps,
      stripeEvent({ siteId: 'site-other', subscription: state({ status: 'canceled' }) }),
      now(),
    );

    expect(outcome).toMatchObject({ outcome: 'ignored', reason: 'the subscription belongs to another site' });
    await expect(stored(id)).resolves.toEqual(before);
  });

  it('a failed payment makes the purchase past due; access continues while retries run', async () => {
    const id = await linkedPurchase();
    const event = stripeEvent({
      type: 'invoice.payment_failed',
      subscription: null,
      payment: {
        outcome: 'failed',
        paymentId: 'in_1',
        amount: 2900,
        currency: 'usd',
        periodStart: null,
        periodEnd: null,
        refundId: null,
      },
    });

    await expect(handleProcessorEvent(m.deps, event, now())).resolves.toMatchObject({ outcome: 'applied' });

    expect(await stored(id)).toMatchObject({ status: 'past_due' });
    await expect(customerProductAccess(m.deps, SITE, CUSTOMER, 'course', now())).resolves.toMatchObject({
      hasAccess: true,
    });
  });
});

describe('handleProcessorEvent with the purchases this process wrote last (RecentPurchases)', () => {
  /** Counts the purchase reads a delivery makes, whatever the path (derived id or processor link). */
  function countReads() {
    const counts = { reads: 0 };
    const purchases = m.deps.purchases;
    const counted = Object.create(purchases) as typeof purchases;
    counted.getPurchase = (...args) => {
      counts.reads++;
      return purchases.getPurchase(...args);
    };
    counted.findByProcessorSubscription = (...args) => {
      counts.reads++;
      return purchases.findByProcessorSubscription(...args);
    };
    return { deps: { ...m.deps, purchases: counted }, counts };
  }

  it('applies the next event for a purchase it just wrote without reading it, with the same result as a fresh read', async () => {
    const recent = new MemoryRecentPurchases();
    const { deps, counts } = countReads();
    const created = await handleProcessorEvent(
      deps,
      stripeEvent({ type: 'customer.subscription.created' }),
      now(),
      recent,
    );
    const purchaseId = (created as { purchaseId: string }).purchaseId;
    const readsBefore = counts.reads;

    const applied = await handleProcessorEvent(
      deps,
      stripeEvent({ occurredAt: '2026-03-01T10:00:01.000Z', subscription: state({ cancelAt: PERIOD_END }) }),
      now(),
      recent,
    );

    expect(applied).toMatchObject({ outcome: 'applied', purchaseId });
    expect(counts.reads - readsBefore).toBe(0);
    expect(await stored(purchaseId)).toMatchObject({ status: 'pending_cancellation', accessEndsAt: PERIOD_END });
    expect(recent.get(SITE, purchaseId)).toEqual(await stored(purchaseId));
    expect(await historyTypes(purchaseId)).toEqual(['purchase.granted', 'cancellation.requested']);
  });

  it('a copy made stale by another writer fails its version condition, is forgotten, and the event applies on a fresh read', async () => {
    const recent = new MemoryRecentPurchases();
    const purchaseId = await linkedPurchase();
    await handleProcessorEvent(m.deps, stripeEvent({ occurredAt: '2026-02-16T00:00:00.000Z' }), now(), recent);
    const copy = recent.get(SITE, purchaseId)!;
    // Another process (an admin in the API) revokes access: the remembered copy is now one version behind.
    await changeAccess(m.deps, SITE, purchaseId, 'revoke', undefined, ADMIN, now());

    const applied = await handleProcessorEvent(
      m.deps,
      stripeEvent({ occurredAt: '2026-02-17T00:00:00.000Z', subscription: state({ cancelAt: PERIOD_END }) }),
      now(),
      recent,
    );

    const after = await stored(purchaseId);
    expect(applied).toMatchObject({ outcome: 'applied', purchaseId });
    expect(after?.version).toBe(copy.version + 2);
    expect(after?.status).toBe('pending_cancellation');
    // The admin's revocation survives: the event was applied to the fresh state, not to the stale copy.
    expect(after?.products.every((grant) => grant.access === 'revoked')).toBe(true);
    expect(recent.get(SITE, purchaseId)).toEqual(after);
  });

  it('a redelivery of an event applied through the copy is a duplicate and writes nothing', async () => {
    const recent = new MemoryRecentPurchases();
    const purchaseId = await linkedPurchase();
    const event = stripeEvent({
      occurredAt: '2026-02-16T00:00:00.000Z',
      subscription: state({ cancelAt: PERIOD_END }),
    });
    await handleProcessorEvent(m.deps, event, now(), recent);
    const before = await stored(purchaseId);

    const again = await handleProcessorEvent(m.deps, event, now(), recent);

    expect(again).toEqual({ outcome: 'duplicate', eventId: event.eventId });
    expect(await stored(purchaseId)).toEqual(before);
  });

  it('an event from another account is refused on a fresh read even when a copy is remembered', async () => {
    const recent = new MemoryRecentPurchases();
    const purchaseId = await linkedPurchase();
    await handleProcessorEvent(m.deps, stripeEvent({ occurredAt: '2026-02-16T00:00:00.000Z' }), now(), recent);
    const before = await stored(purchaseId);

    const foreign = await handleProcessorEvent(
      m.deps,
      stripeEvent({ account: 'acct_someone_else', subscription: state({ status: 'canceled' }) }),
      now(),
      recent,
    );

    expect(foreign).toMatchObject({ outcome: 'ignored' });
    expect(await stored(purchaseId)).toEqual(before);
  });
});

describe('MemoryRecentPurchases', () => {
  it('keeps the most recently used purchases up to its capacity and hands out copies', async () => {
    const recent = new MemoryRecentPurchases(2);
    const purchaseId = await linkedPurchase();
    const purchase = (await stored(purchaseId))!;
    recent.remember({ ...purchase, purchaseId: 'a' });
    recent.remember({ ...purchase, purchaseId: 'b' });
    recent.get(SITE, 'a');
    recent.remember({ ...purchase, purchaseId: 'c' });

    expect(recent.get(SITE, 'b')).toBeNull();
    expect(recent.get(SITE, 'a')?.purchaseId).toBe('a');
    const copy = recent.get(SITE, 'c')!;
    copy.status = 'canceled';
    expect(recent.get(SITE, 'c')?.status).toBe(purchase.status);
    recent.forget(SITE, 'c');
    expect(recent.get(SITE, 'c')).toBeNull();
    expect(recent.get('other-site', 'a')).toBeNull();
  });
});
