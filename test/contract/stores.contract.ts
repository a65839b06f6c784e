import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  ConcurrentModificationError,
  ConflictError,
  DuplicateProcessorEventError,
  InvalidInputError,
} from '../../shared/domain/errors.ts';
import { type DomainEvent, eventId, sequenceChange } from '../../shared/domain/events.ts';
import type { IdempotencyRecord } from '../../shared/domain/idempotency.ts';
import type { HistoryEntry, Purchase, PurchaseChange, PurchaseStatus } from '../../shared/domain/types.ts';
import type { UpcomingChange } from '../../shared/domain/upcoming.ts';
import { purchaseView } from '../../shared/domain/views.ts';
import type { ProcessorEventRecord } from '../../shared/ports/processor-events.ts';
import type { DuePurchase, Page, UpcomingQuery } from '../../shared/ports/purchases.ts';
import type { Stores } from '../../shared/ports/stores.ts';

/**
 * The contract every implementation of the store ports keeps (STYLE.md: "every port has an in-memory twin
 * held to one contract suite that also runs against the real adapter"). Run by
 * test/integration/store-contract.test.ts (DynamoDB Local) and test/unit/store-contract.test.ts (memory).
 * This file is not a `*.test.ts`, so jest never runs it on its own.
 *
 * Every test makes its own site, purchase and event ids: the DynamoDB table is shared by every test file.
 */
export function describeStoreContract(name: string, makeStores: () => Stores | Promise<Stores>): void {
  describe(`store contract: ${name}`, () => {
    let stores: Stores;
    beforeAll(async () => {
      stores = await makeStores();
    });

    const uid = (prefix: string) => `${prefix}-${randomUUID()}`;
    const T0 = '2026-03-01T10:00:00.000Z';

    function aPurchase(overrides: Partial<Purchase> = {}): Purchase {
      return {
        purchaseId: uid('pur'),
        siteId: uid('site'),
        customerId: uid('cus'),
        offerId: 'offer-1',
        processor: 'stripe',
        processorSubscriptionId: uid('sub'),
        kind: 'subscription',
        price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month', intervalCount: 1 },
        status: 'active',
        currentPeriodStart: T0,
        currentPeriodEnd: '2026-04-01T10:00:00.000Z',
        installments: null,
        cancellation: null,
        pause: null,
        accessPeriodEndsAt: null,
        accessEndsAt: null,
        products: [{ productId: 'course', access: 'active', revokedAt: null, revokedBy: null, label: null }],
        refunds: [],
        createdAt: T0,
        updatedAt: T0,
        version: 1,
        ...overrides,
      };
    }
    const oneTime = (overrides: Partial<Purchase> = {}) =>
      aPurchase({
        kind: 'one_time',
        price: { type: 'one_time', amount: 900, currency: 'usd' },
        processor: 'none',
        processorSubscriptionId: null,
        currentPeriodStart: null,
        currentPeriodEnd: null,
        ...overrides,
      });

    function entry(type: HistoryEntry['type'], details: Record<string, unknown> = {}, at = T0): HistoryEntry {
      return { at, type, actor: { type: 'admin', email: 'owner@example.com' }, details };
    }
    const granted = (purchase: Purchase): PurchaseChange => ({ purchase, history: [entry('purchase.granted')] });
    /** The next version of `purchase` with `changes`, and one history entry saying so. */
    function changed(purchase: Purchase, changes: Partial<Purchase>, history = [entry('billing.updated')]) {
      return { purchase: { ...purchase, ...changes, version: purchase.version + 1 }, history };
    }
    function event(overrides: Partial<ProcessorEventRecord> = {}): ProcessorEventRecord {
      return {
        processor: 'stripe',
        eventId: uid('evt'),
        type: 'customer.subscription.updated',
        siteId: null,
        purchaseId: null,
        receivedAt: T0,
        outcome: 'applied',
        ...overrides,
      };
    }
    function claim(purchase: Purchase, overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
      return {
        siteId: purchase.siteId,
        purchaseId: purchase.purchaseId,
        scope: 'refund',
        key: uid('key'),
        fingerprint: '{"amount":500}',
        status: 'pending',
        response: null,
        createdAt: T0,
        ...overrides,
      };
    }

    /**
     * The purchase as a store writes it: the change's purchase with its history numbered as its next events
     * (`eventSequence`, domain/events.ts). A caller derives its next change from that, as use cases do.
     */
    const written = (change: PurchaseChange): Purchase => sequenceChange(change).purchase;

    /** A new purchase, created; returns it as stored. */
    async function created(overrides: Partial<Purchase> = {}): Promise<Purchase> {
      const change = granted(aPurchase(overrides));
      await stores.purchases.createPurchase(change);
      return written(change);
    }

    /** Everything a purchase write touches, to show that a refused write left all of it as it was. */
    async function snapshot(purchase: Purchase) {
      const { purchases } = stores;
      return {
        purchase: await purchases.getPurchase(purchase.siteId, purchase.purchaseId),
        history: await purchases.listHistory(purchase.siteId, purchase.purchaseId),
        customerCopies: await purchases.getCustomerPurchases(purchase.siteId, purchase.customerId),
        link: purchase.processorSubscriptionId
          ? await purchases.findByProcessorSubscription(purchase.processor, purchase.processorSubscriptionId)
          : null,
      };
    }

    async function rejection(promise: Promise<unknown>): Promise<unknown> {
      try {
        await promise;
      } catch (error) {
        return error;
      }
      throw new Error('expected the call to be refused, but it succeeded');
    }

    async function allPages(list: (cursor: string | null) => Promise<Page<Purchase>>, limit: number) {
      const pages: Purchase[][] = [];
      let cursor: string | null = null;
      do {
        const page = await list(cursor);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        pages.push(page.items);
        cursor = page.nextCursor;
      } while (cursor !== null && pages.length < 50);
      return { pages, ids: pages.flat().map((p) => p.purchaseId) };
    }

    describe('catalog', () => {
      it('a site without settings has the defaults', async () => {
        const siteId = uid('site');
        await expect(stores.catalog.getSettings(siteId)).resolves.toEqual({
          siteId,
          selfCancelEnabled: false,
          timezone: 'UTC',
          stripeAccountId: null,
          paypalMerchantId: null,
        });
      });

      it('updateSettings sets only the given fields and returns the settings after the change', async () => {
        const siteId = uid('site');
        await stores.catalog.updateSettings(siteId, { timezone: 'Europe/Paris' });
        const after = await stores.catalog.updateSettings(siteId, {
          selfCancelEnabled: true,
          stripeAccountId: 'acct_1Nv0FGQ9RKHgCVdK',
        });
        const expected = {
          siteId,
          selfCancelEnabled: true,
          timezone: 'Europe/Paris',
          stripeAccountId: 'acct_1Nv0FGQ9RKHgCVdK',
          paypalMerchantId: null,
        };
        expect(after).toEqual(expected);
        await expect(stores.catalog.getSettings(siteId)).resolves.toEqual(expected);
      });

      it('20 concurrent partial settings updates all land', async () => {
        const siteId = uid('site');
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            stores.catalog.updateSettings(siteId, i % 2 ? { selfCancelEnabled: true } : { timezone: 'Asia/Tokyo' }),
          ),
        );
        await expect(stores.catalog.getSettings(siteId)).resolves.toEqual({
          siteId,
          selfCancelEnabled: true,
          timezone: 'Asia/Tokyo',
          stripeAccountId: null,
          paypalMerchantId: null,
        });
      });

      it('upsertProduct creates a live product; getProducts returns only those that exist', async () => {
        const siteId = uid('site');
        const product = { siteId, productId: 'course', name: 'Course', description: null, updatedAt: T0 };
        await expect(stores.catalog.upsertProduct(product)).resolves.toEqual({ ...product, archivedAt: null });
        await expect(stores.catalog.getProduct(siteId, 'course')).resolves.toEqual({ ...product, archivedAt: null });
        const found = await stores.catalog.getProducts(siteId, ['course', 'missing']);
        expect([...found.keys()]).toEqual(['course']);
        await expect(stores.catalog.getProduct(uid('site'), 'course')).resolves.toBeNull();
      });

      it('archiving twice keeps the first archivedAt; upsert brings an archived product back', async () => {
        const siteId = uid('site');
        await stores.catalog.upsertProduct({ siteId, productId: 'p', name: 'P', description: 'd', updatedAt: T0 });
        const first = await stores.catalog.archiveProduct(siteId, 'p', '2026-03-02T00:00:00.000Z');
        const second = await stores.catalog.archiveProduct(siteId, 'p', '2026-03-03T00:00:00.000Z');
        expect(first?.archivedAt).toBe('2026-03-02T00:00:00.000Z');
        expect(second?.archivedAt).toBe('2026-03-02T00:00:00.000Z');
        await stores.catalog.upsertProduct({ siteId, productId: 'p', name: 'P2', description: null, updatedAt: T0 });
        await expect(stores.catalog.getProduct(siteId, 'p')).resolves.toMatchObject({ name: 'P2', archivedAt: null });
      });

      it('archiving a missing product or offer returns null and creates nothing', async () => {
        const siteId = uid('site');
        await expect(stores.catalog.archiveProduct(siteId, 'nope', T0)).resolves.toBeNull();
        await expect(stores.catalog.archiveOffer(siteId, 'nope', T0)).resolves.toBeNull();
        await expect(stores.catalog.getProduct(siteId, 'nope')).resolves.toBeNull();
        await expect(stores.catalog.getOffer(siteId, 'nope')).resolves.toBeNull();
      });

      it('offers: upsert, archive once, upsert brings back', async () => {
        const siteId = uid('site');
        const offer = {
          siteId,
          offerId: 'o',
          name: 'O',
          productIds: ['a', 'b'],
          price: { type: 'one_time' as const, amount: 100, currency: 'usd' },
          accessDays: 30,
          updatedAt: T0,
        };
        await expect(stores.catalog.upsertOffer(offer)).resolves.toEqual({ ...offer, archivedAt: null });
        await stores.catalog.archiveOffer(siteId, 'o', '2026-03-02T00:00:00.000Z');
        const again = await stores.catalog.archiveOffer(siteId, 'o', '2026-03-09T00:00:00.000Z');
        expect(again).toMatchObject({ archivedAt: '2026-03-02T00:00:00.000Z', productIds: ['a', 'b'] });
        await stores.catalog.upsertOffer(offer);
        await expect(stores.catalog.getOffer(siteId, 'o')).resolves.toEqual({ ...offer, archivedAt: null });
      });

      it('listOffers: archived offers too, in id order (code units), after the given id, at most limit, no other records', async () => {
        const siteId = uid('site');
        const offer = (offerId: string) => ({
          siteId,
          offerId,
          name: offerId,
          productIds: ['a'],
          price: { type: 'free' as const },
          accessDays: null,
          updatedAt: T0,
        });
        // Code-unit order: digits, then upper case, then `_`, then lower case.
        for (const offerId of ['b', 'A', '_x', 'a.2', '9', 'a']) await stores.catalog.upsertOffer(offer(offerId));
        await stores.catalog.archiveOffer(siteId, 'a', '2026-03-02T00:00:00.000Z');
        // Records that share the site's partition are never listed as offers.
        await stores.catalog.upsertProduct({ siteId, productId: 'p', name: 'P', description: null, updatedAt: T0 });
        await stores.catalog.updateSettings(siteId, { timezone: 'Europe/Paris' });
        const ids = (offers: { offerId: string }[]) => offers.map((o) => o.offerId);

        const all = await stores.catalog.listOffers(siteId, null, 10);
        expect(ids(all)).toEqual(['9', 'A', '_x', 'a', 'a.2', 'b']);
        const archivedAt = '2026-03-02T00:00:00.000Z';
        expect(all.find((o) => o.offerId === 'a')).toEqual({ ...offer('a'), archivedAt, updatedAt: archivedAt });
        expect(all.find((o) => o.offerId === 'b')).toEqual({ ...offer('b'), archivedAt: null });
        await expect(stores.catalog.listOffers(siteId, null, 2).then(ids)).resolves.toEqual(['9', 'A']);
        await expect(stores.catalog.listOffers(siteId, 'A', 2).then(ids)).resolves.toEqual(['_x', 'a']);
        await expect(stores.catalog.listOffers(siteId, 'a', 10).then(ids)).resolves.toEqual(['a.2', 'b']);
        // An id that is not an offer positions by where it would sort.
        await expect(stores.catalog.listOffers(siteId, 'Z', 1).then(ids)).resolves.toEqual(['_x']);
        await expect(stores.catalog.listOffers(siteId, 'b', 10)).resolves.toEqual([]);
        await expect(stores.catalog.listOffers(uid('site'), null, 10)).resolves.toEqual([]);
      });

      it('createCustomerIfMissing never overwrites; upsertCustomer does', async () => {
        const siteId = uid('site');
        const customer = { siteId, customerId: 'c', email: 'a@example.com', name: 'A', updatedAt: T0 };
        await stores.catalog.createCustomerIfMissing(customer);
        await stores.catalog.createCustomerIfMissing({ ...customer, email: null, name: null });
        await expect(stores.catalog.getCustomer(siteId, 'c')).resolves.toEqual(customer);
        const renamed = { ...customer, name: 'B' };
        await expect(stores.catalog.upsertCustomer(renamed)).resolves.toEqual(renamed);
        await expect(stores.catalog.getCustomer(siteId, 'c')).resolves.toEqual(renamed);
      });
    });

    describe('createPurchase', () => {
      it('writes the purchase, its history, the customer copy and the processor link', async () => {
        const purchase = await created();
        expect(await snapshot(purchase)).toEqual({
          purchase,
          history: [entry('purchase.granted')],
          customerCopies: [purchase],
          link: { siteId: purchase.siteId, purchaseId: purchase.purchaseId },
        });
      });

      it('refuses an existing purchase id (ConflictError) and changes nothing', async () => {
        const purchase = await created();
        const before = await snapshot(purchase);
        const again = { ...purchase, processorSubscriptionId: uid('sub'), status: 'paused' as const };
        const error = await rejection(stores.purchases.createPurchase(granted(again)));
        expect(error).toBeInstanceOf(ConflictError);
        expect(error).not.toBeInstanceOf(ConcurrentModificationError);
        expect(await snapshot(purchase)).toEqual(before);
        expect(await snapshot(again)).toMatchObject({ link: null });
      });

      it('refuses a processor subscription linked to another purchase, naming the field, and writes nothing', async () => {
        const first = await created();
        const second = aPurchase({ siteId: first.siteId, processorSubscriptionId: first.processorSubscriptionId });
        const error = await rejection(stores.purchases.createPurchase(granted(second)));
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).details).toEqual([
          expect.objectContaining({ field: 'processorSubscriptionId' }),
        ]);
        expect(await snapshot(second)).toEqual({
          purchase: null,
          history: [],
          customerCopies: [],
          link: { siteId: first.siteId, purchaseId: first.purchaseId },
        });
      });

      it('links per processor: the same subscription id of another processor is another subscription', async () => {
        const first = await created({ processor: 'stripe' });
        const second = await created({ processor: 'paypal', processorSubscriptionId: first.processorSubscriptionId });
        const sub = first.processorSubscriptionId!;
        await expect(stores.purchases.findByProcessorSubscription('paypal', sub)).resolves.toEqual({
          siteId: second.siteId,
          purchaseId: second.purchaseId,
        });
        await expect(stores.purchases.findByProcessorSubscription('native', sub)).resolves.toBeNull();
      });

      it('records its processor event; a seen event is DuplicateProcessorEventError and nothing is written', async () => {
        const seen = event();
        const first = aPurchase();
        await stores.purchases.createPurchase(granted(first), seen);
        await expect(stores.processorEvents.hasProcessorEvent('stripe', seen.eventId)).resolves.toBe(true);

        const second = aPurchase();
        const error = await rejection(stores.purchases.createPurchase(granted(second), seen));
        expect(error).toBeInstanceOf(DuplicateProcessorEventError);
        expect(await snapshot(second)).toEqual({ purchase: null, history: [], customerCopies: [], link: null });
      });

      it('a purchase without a processor subscription has no link', async () => {
        const purchase = await created({ processor: 'none', processorSubscriptionId: null });
        await expect(stores.purchases.getPurchase(purchase.siteId, purchase.purchaseId)).resolves.toEqual(purchase);
      });
    });

    describe('savePurchase', () => {
      it('writes the new state, appends history and updates the customer copy', async () => {
        const purchase = await created();
        const next = changed(purchase, { status: 'paused' }, [entry('billing.paused')]);
        await stores.purchases.savePurchase(next, purchase.version);
        const after = await snapshot(purchase);
        expect(after.purchase).toEqual(written(next));
        expect(after.customerCopies).toEqual([written(next)]);
        expect(after.history.map((h) => h.type)).toEqual(['purchase.granted', 'billing.paused']);
      });

      it('history is oldest first by version then index, whatever the entry times say', async () => {
        const purchase = await created({ version: 9 });
        const many = Array.from({ length: 12 }, (_, i) =>
          entry('access.revoked', { n: i }, `2026-03-0${9 - Math.floor(i / 2)}T00:00:00.000Z`),
        );
        const v10 = changed(purchase, {}, many);
        await stores.purchases.savePurchase(v10, 9);
        const v11 = changed(written(v10), {}, [entry('access.resumed', {}, '2026-01-01T00:00:00.000Z')]);
        await stores.purchases.savePurchase(v11, 10);
        const history = await stores.purchases.listHistory(purchase.siteId, purchase.purchaseId);
        expect(history.map((h) => h.details.n ?? h.type)).toEqual([
          'purchase.granted',
          ...Array.from({ length: 12 }, (_, i) => i),
          'access.resumed',
        ]);
      });

      it('another version is ConcurrentModificationError and nothing is written', async () => {
        const purchase = await created({ version: 3 });
        const before = await snapshot(purchase);
        const error = await rejection(stores.purchases.savePurchase(changed(purchase, { status: 'paused' }), 2));
        expect(error).toBeInstanceOf(ConcurrentModificationError);
        expect(await snapshot(purchase)).toEqual(before);
      });

      it('a status outside allowedFrom is ConcurrentModificationError and nothing is written', async () => {
        const purchase = await created({ status: 'paused' });
        const before = await snapshot(purchase);
        const next = changed(purchase, { status: 'pending_cancellation' });
        const error = await rejection(
          stores.purchases.savePurchase(next, purchase.version, { allowedFrom: ['active', 'past_due'] }),
        );
        expect(error).toBeInstanceOf(ConcurrentModificationError);
        expect(await snapshot(purchase)).toEqual(before);
      });

      it('a status inside allowedFrom is written', async () => {
        const purchase = await created({ status: 'past_due' });
        const next = changed(purchase, { status: 'paused' });
        await stores.purchases.savePurchase(next, purchase.version, { allowedFrom: ['active', 'past_due'] });
        await expect(stores.purchases.getPurchase(purchase.siteId, purchase.purchaseId)).resolves.toEqual(
          written(next),
        );
      });

      it('a purchase that does not exist is ConcurrentModificationError and nothing is written', async () => {
        const purchase = aPurchase({ version: 1 });
        const error = await rejection(stores.purchases.savePurchase(changed(purchase, {}), 1));
        expect(error).toBeInstanceOf(ConcurrentModificationError);
        expect(await snapshot(purchase)).toEqual({ purchase: null, history: [], customerCopies: [], link: null });
      });

      it('records its processor event; a seen one is DuplicateProcessorEventError, checked first, writing nothing', async () => {
        const purchase = await created();
        const first = event({ siteId: purchase.siteId, purchaseId: purchase.purchaseId });
        const v2 = changed(purchase, { status: 'past_due' });
        await stores.purchases.savePurchase(v2, 1, { processorEvent: first });
        await expect(stores.processorEvents.hasProcessorEvent('stripe', first.eventId)).resolves.toBe(true);

        const before = await snapshot(purchase);
        const redelivery = stores.purchases.savePurchase(changed(written(v2), { status: 'active' }), 2, {
          processorEvent: first,
        });
        await expect(redelivery).rejects.toBeInstanceOf(DuplicateProcessorEventError);
        const staleRedelivery = stores.purchases.savePurchase(changed(purchase, { status: 'active' }), 1, {
          processorEvent: first,
        });
        await expect(staleRedelivery).rejects.toBeInstanceOf(DuplicateProcessorEventError);
        expect(await snapshot(purchase)).toEqual(before);
      });

      it('a refused write does not record its processor event', async () => {
        const purchase = await created();
        const fresh = event();
        await expect(
          stores.purchases.savePurchase(changed(purchase, {}), 7, { processorEvent: fresh }),
        ).rejects.toBeInstanceOf(ConcurrentModificationError);
        await expect(stores.processorEvents.hasProcessorEvent('stripe', fresh.eventId)).resolves.toBe(false);
      });

      it('returns copies: changing what was passed or read changes nothing stored', async () => {
        const purchase = aPurchase();
        await stores.purchases.createPurchase(granted(purchase));
        purchase.products[0]!.access = 'revoked';
        const read = await stores.purchases.getPurchase(purchase.siteId, purchase.purchaseId);
        expect(read?.products[0]?.access).toBe('active');
        read!.status = 'canceled';
        await expect(stores.purchases.getPurchase(purchase.siteId, purchase.purchaseId)).resolves.toMatchObject({
          status: 'active',
        });
      });
    });

    describe('concurrent writes', () => {
      const outcomes = (results: PromiseSettledResult<unknown>[]) =>
        results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).constructor.name)).sort();

      it('of several saves from the same version exactly one lands; the others are ConcurrentModificationError', async () => {
        const purchase = await created();
        const attempts = Array.from({ length: 6 }, (_, i) =>
          changed(purchase, { updatedAt: `2026-03-0${i + 2}T00:00:00.000Z` }, [entry('billing.updated', { i })]),
        );
        const results = await Promise.allSettled(attempts.map((change) => stores.purchases.savePurchase(change, 1)));
        expect(outcomes(results)).toEqual([...Array(5).fill('ConcurrentModificationError'), 'ok']);
        const winner = attempts[results.findIndex((r) => r.status === 'fulfilled')]!;
        expect(await snapshot(purchase)).toMatchObject({
          purchase: written(winner),
          customerCopies: [written(winner)],
          history: [entry('purchase.granted'), ...winner.history],
        });
      });

      it('of several creates linking one subscription exactly one lands; the others are ConflictError on the link', async () => {
        const subscriptionId = uid('sub');
        const siteId = uid('site');
        const attempts = Array.from({ length: 6 }, () =>
          aPurchase({ siteId, processorSubscriptionId: subscriptionId }),
        );
        const results = await Promise.allSettled(attempts.map((p) => stores.purchases.createPurchase(granted(p))));
        expect(outcomes(results)).toEqual([...Array(5).fill('ConflictError'), 'ok']);
        const winner = attempts[results.findIndex((r) => r.status === 'fulfilled')]!;
        await expect(stores.purchases.findByProcessorSubscription('stripe', subscriptionId)).resolves.toEqual({
          siteId,
          purchaseId: winner.purchaseId,
        });
        const losers = attempts.filter((p) => p !== winner);
        for (const loser of losers)
          await expect(stores.purchases.getPurchase(siteId, loser.purchaseId)).resolves.toBeNull();
      });

      it('of several deliveries of one processor event exactly one lands; the others are refused', async () => {
        const purchase = await created();
        const delivery = event();
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, () =>
            stores.purchases.savePurchase(changed(purchase, { status: 'past_due' }), 1, { processorEvent: delivery }),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'rejected') {
            expect(
              result.reason instanceof DuplicateProcessorEventError ||
                result.reason instanceof ConcurrentModificationError,
            ).toBe(true);
          }
        }
        expect((await snapshot(purchase)).history).toHaveLength(2);
      });
    });

    describe('idempotency', () => {
      it('the first claim wins; a second claim gets the first record back', async () => {
        const purchase = await created();
        const first = claim(purchase);
        await expect(stores.idempotency.claimIdempotencyKey(first)).resolves.toBeNull();
        const second = { ...first, fingerprint: '{"amount":900}', createdAt: '2026-03-01T10:00:01.000Z' };
        await expect(stores.idempotency.claimIdempotencyKey(second)).resolves.toEqual(first);
        await expect(
          stores.idempotency.getIdempotencyRecord(purchase.siteId, purchase.purchaseId, 'refund', first.key),
        ).resolves.toEqual(first);
      });

      it('a key is per purchase and scope', async () => {
        const purchase = await created();
        const first = claim(purchase);
        await stores.idempotency.claimIdempotencyKey(first);
        await expect(stores.idempotency.claimIdempotencyKey({ ...first, scope: 'other' })).resolves.toBeNull();
        await expect(
          stores.idempotency.getIdempotencyRecord(purchase.siteId, uid('pur'), 'refund', first.key),
        ).resolves.toBeNull();
      });

      it('savePurchase completes a pending claim with the same fingerprint, in the same write', async () => {
        const purchase = await created();
        const pending = claim(purchase);
        await stores.idempotency.claimIdempotencyKey(pending);
        const completed = { ...pending, status: 'completed' as const, response: { statusCode: 201, body: { ok: 1 } } };
        await stores.purchases.savePurchase(changed(purchase, {}), 1, { idempotency: completed });
        await expect(
          stores.idempotency.getIdempotencyRecord(purchase.siteId, purchase.purchaseId, 'refund', pending.key),
        ).resolves.toEqual(completed);
      });

      it('savePurchase with a key nobody claimed writes it completed', async () => {
        const purchase = await created();
        const record = claim(purchase, { response: { statusCode: 201, body: null } });
        await stores.purchases.savePurchase(changed(purchase, {}), 1, { idempotency: record });
        await expect(
          stores.idempotency.getIdempotencyRecord(purchase.siteId, purchase.purchaseId, 'refund', record.key),
        ).resolves.toEqual({ ...record, status: 'completed' });
      });

      it.each([
        ['pending with another fingerprint', { fingerprint: '{"amount":1}' }],
        ['already completed', { status: 'completed' as const, response: { statusCode: 201, body: 'first' } }],
      ])('completing a claim %s is ConcurrentModificationError and nothing is written', async (_, earlier) => {
        const purchase = await created();
        const existing = claim(purchase, earlier);
        await stores.idempotency.claimIdempotencyKey(existing);
        const before = await snapshot(purchase);
        const mine = { ...existing, fingerprint: '{"amount":500}', status: 'completed' as const };
        const error = await rejection(stores.purchases.savePurchase(changed(purchase, {}), 1, { idempotency: mine }));
        expect(error).toBeInstanceOf(ConcurrentModificationError);
        expect(await snapshot(purchase)).toEqual(before);
        await expect(
          stores.idempotency.getIdempotencyRecord(purchase.siteId, purchase.purchaseId, 'refund', existing.key),
        ).resolves.toEqual(existing);
      });
    });

    describe('processor events', () => {
      it('records an event once: the second record is false', async () => {
        const seen = event();
        await expect(stores.processorEvents.hasProcessorEvent('stripe', seen.eventId)).resolves.toBe(false);
        await expect(stores.processorEvents.recordProcessorEvent(seen)).resolves.toBe(true);
        await expect(stores.processorEvents.recordProcessorEvent({ ...seen, outcome: 'again' })).resolves.toBe(false);
        await expect(stores.processorEvents.hasProcessorEvent('stripe', seen.eventId)).resolves.toBe(true);
      });

      it('an event id is per processor', async () => {
        const seen = event({ processor: 'paypal' });
        await stores.processorEvents.recordProcessorEvent(seen);
        await expect(stores.processorEvents.hasProcessorEvent('stripe', seen.eventId)).resolves.toBe(false);
      });

      it('a recorded event makes a purchase write that carries it a duplicate', async () => {
        const purchase = await created();
        const seen = event();
        await stores.processorEvents.recordProcessorEvent(seen);
        const before = await snapshot(purchase);
        await expect(
          stores.purchases.savePurchase(changed(purchase, {}), 1, { processorEvent: seen }),
        ).rejects.toBeInstanceOf(DuplicateProcessorEventError);
        expect(await snapshot(purchase)).toEqual(before);
      });
    });

    describe('customer reads', () => {
      it("only the customer's purchases, each as last written", async () => {
        const siteId = uid('site');
        const customerId = uid('cus');
        const a = await created({ siteId, customerId });
        const b = await created({ siteId, customerId, processor: 'none', processorSubscriptionId: null });
        await created({ siteId });
        await created({ customerId });
        const a2 = changed(a, { status: 'paused' });
        await stores.purchases.savePurchase(a2, 1);
        const held = await stores.purchases.getCustomerPurchases(siteId, customerId);
        const byId = (x: Purchase, y: Purchase) => (x.purchaseId < y.purchaseId ? -1 : 1);
        expect(held.sort(byId)).toEqual([written(a2), b].sort(byId));
      });

      it('getCustomerWithPurchases returns the profile and the purchases; null profile when not sent', async () => {
        const siteId = uid('site');
        const customer = { siteId, customerId: uid('cus'), email: 'c@example.com', name: null, updatedAt: T0 };
        await stores.catalog.upsertCustomer(customer);
        const purchase = await created({ siteId, customerId: customer.customerId });
        await expect(stores.purchases.getCustomerWithPurchases(siteId, customer.customerId)).resolves.toEqual({
          customer,
          purchases: [purchase],
        });
        const orphan = await created({ siteId });
        await expect(stores.purchases.getCustomerWithPurchases(siteId, orphan.customerId)).resolves.toEqual({
          customer: null,
          purchases: [orphan],
        });
        await expect(stores.purchases.getCustomerWithPurchases(siteId, uid('cus'))).resolves.toEqual({
          customer: null,
          purchases: [],
        });
      });
    });

    describe('domain events', () => {
      const eventsOf = async (siteId: string, filter: { purchaseId?: string; type?: string } = {}, limit = 100) =>
        (await allEvents((c) => stores.purchases.listEvents(siteId, filter, limit, c), limit)).flat();

      async function allEvents(list: (cursor: string | null) => Promise<Page<DomainEvent>>, limit: number) {
        const pages: DomainEvent[][] = [];
        let cursor: string | null = null;
        do {
          const page = await list(cursor);
          expect(page.items.length).toBeLessThanOrEqual(limit);
          pages.push(page.items);
          cursor = page.nextCursor;
        } while (cursor !== null && pages.length < 50);
        return pages;
      }

      it('every history entry is an event, numbered 1, 2, 3… per purchase across writes, with the purchase after it', async () => {
        const purchase = await created();
        const v2 = changed(purchase, { status: 'paused' }, [
          entry('billing.paused'),
          { ...entry('access.revoked', { productIds: ['course'] }), label: 'Revoked by owner@example.com' },
        ]);
        await stores.purchases.savePurchase(v2, 1);
        const v3 = changed(written(v2), { status: 'active' }, [entry('billing.unpaused')]);
        await stores.purchases.savePurchase(v3, 2);

        const events = await eventsOf(purchase.siteId, { purchaseId: purchase.purchaseId });

        const { siteId, purchaseId, customerId } = purchase;
        expect(events.map((e) => [e.sequence, e.type, e.id])).toEqual([
          [1, 'purchase.granted', eventId(siteId, purchaseId, 1)],
          [2, 'billing.paused', eventId(siteId, purchaseId, 2)],
          [3, 'access.revoked', eventId(siteId, purchaseId, 3)],
          [4, 'billing.unpaused', eventId(siteId, purchaseId, 4)],
        ]);
        expect(events[2]).toEqual({
          id: eventId(siteId, purchaseId, 3),
          type: 'access.revoked',
          siteId,
          purchaseId,
          customerId,
          sequence: 3,
          occurredAt: T0,
          actor: { type: 'admin', email: 'owner@example.com' },
          data: {
            purchase: purchaseView(written(v2)),
            details: { productIds: ['course'] },
            label: 'Revoked by owner@example.com',
          },
        });
        expect(events[3]?.data.purchase).toEqual(purchaseView(written(v3)));
        await expect(stores.purchases.getPurchase(siteId, purchaseId)).resolves.toMatchObject({ eventSequence: 4 });
        // The audit trail shows the entries only, not their event numbering.
        expect((await stores.purchases.listHistory(siteId, purchaseId))[2]).toEqual({
          ...entry('access.revoked', { productIds: ['course'] }),
          label: 'Revoked by owner@example.com',
        });
      });

      it("a site's events come oldest first, then by purchase and sequence, over pages, optionally of one type", async () => {
        const siteId = uid('site');
        const later = await created({ siteId });
        const v2 = changed(later, {}, [entry('access.revoked', {}, '2026-03-01T12:00:00.000Z')]);
        await stores.purchases.savePurchase(v2, 1);
        const earlier = aPurchase({ siteId });
        await stores.purchases.createPurchase({
          purchase: earlier,
          history: [entry('purchase.granted', {}, '2026-03-01T09:00:00.000Z')],
        });
        const same = await created({ siteId });

        const events = await eventsOf(siteId, {}, 2);

        const tie = [later, same].sort((x, y) => (x.purchaseId < y.purchaseId ? -1 : 1));
        expect(events.map((e) => [e.purchaseId, e.sequence])).toEqual([
          [earlier.purchaseId, 1],
          [tie[0]!.purchaseId, 1],
          [tie[1]!.purchaseId, 1],
          [later.purchaseId, 2],
        ]);
        const revoked = await eventsOf(siteId, { type: 'access.revoked' }, 1);
        expect(revoked.map((e) => [e.purchaseId, e.type])).toEqual([[later.purchaseId, 'access.revoked']]);
        await expect(eventsOf(uid('site'))).resolves.toEqual([]);
      });

      it('a refused write records no event', async () => {
        const purchase = await created();

        await expect(stores.purchases.savePurchase(changed(purchase, {}), 5)).rejects.toBeInstanceOf(
          ConcurrentModificationError,
        );
        const seen = event();
        await stores.processorEvents.recordProcessorEvent(seen);
        await expect(
          stores.purchases.savePurchase(changed(purchase, {}), 1, { processorEvent: seen }),
        ).rejects.toBeInstanceOf(DuplicateProcessorEventError);

        const events = await eventsOf(purchase.siteId);
        expect(events.map((e) => e.type)).toEqual(['purchase.granted']);
      });

      it('an events cursor is bound to its site, purchase and type', async () => {
        const siteId = uid('site');
        const purchase = await created({ siteId });
        await stores.purchases.savePurchase(
          changed(purchase, {}, [entry('billing.updated'), entry('billing.updated')]),
          1,
        );
        const other = await created({ siteId });
        const list = stores.purchases.listEvents.bind(stores.purchases);
        const site = (await list(siteId, {}, 1, null)).nextCursor!;
        const one = (await list(siteId, { purchaseId: purchase.purchaseId }, 1, null)).nextCursor!;
        const typed = (await list(siteId, { type: 'billing.updated' }, 1, null)).nextCursor!;

        for (const misuse of [
          list(uid('site'), {}, 1, site),
          list(siteId, { purchaseId: purchase.purchaseId }, 1, site),
          list(siteId, { purchaseId: other.purchaseId }, 1, one),
          list(siteId, {}, 1, typed),
          list(siteId, { type: 'purchase.granted' }, 1, typed),
          list(siteId, {}, 1, 'garbage'),
        ]) {
          const error = await rejection(misuse);
          expect(error).toBeInstanceOf(InvalidInputError);
          expect((error as InvalidInputError).details).toEqual([expect.objectContaining({ field: 'cursor' })]);
        }
        await expect(list(siteId, { purchaseId: purchase.purchaseId }, 5, one)).resolves.toMatchObject({
          items: [{ sequence: 2 }, { sequence: 3 }],
        });
      });
    });

    describe('listSubscriptions', () => {
      /** A site with recurring purchases of two offers in several statuses, and purchases that are not recurring. */
      async function siteWithSubscriptions() {
        const siteId = uid('site');
        const at = (day: number) => `2026-02-${String(day).padStart(2, '0')}T00:00:00.000Z`;
        const specs: [PurchaseStatus, string, number][] = [
          ['active', 'gold', 5],
          ['active', 'silver', 3],
          ['active', 'gold', 3],
          ['active', 'gold', 1],
          ['paused', 'gold', 2],
          ['pending_cancellation', 'silver', 4],
          ['pending_cancellation', 'gold', 6],
          ['canceled', 'gold', 1],
        ];
        const recurring: Purchase[] = [];
        for (const [status, offerId, day] of specs) {
          recurring.push(await created({ siteId, status, offerId, createdAt: at(day) }));
        }
        // Same creation time: the purchase id breaks the tie.
        recurring.push(await created({ siteId, status: 'active', offerId: 'gold', createdAt: at(3) }));
        const plan = await created({
          siteId,
          offerId: 'gold',
          kind: 'payment_plan',
          price: {
            type: 'payment_plan',
            amount: 100,
            currency: 'usd',
            installments: 3,
            interval: 'month',
            intervalCount: 1,
          },
          installments: { paid: 1, total: 3 },
          createdAt: at(7),
        });
        recurring.push(plan);
        const others = [
          await created({
            siteId,
            offerId: 'gold',
            kind: 'free',
            price: { type: 'free' },
            processorSubscriptionId: null,
          }),
          await created({ ...oneTime({ siteId, offerId: 'gold', createdAt: at(1) }) }),
        ];
        const order = (p: Purchase) => [p.status, p.createdAt, p.purchaseId].join('\u0000');
        const sorted = [...recurring].sort((x, y) => (order(x) < order(y) ? -1 : 1));
        return { siteId, sorted, others };
      }

      it('lists only subscriptions and plans, by status, then age, then id, over several pages', async () => {
        const { siteId, sorted } = await siteWithSubscriptions();
        const { pages, ids } = await allPages((c) => stores.purchases.listSubscriptions(siteId, {}, 3, c), 3);
        expect(ids).toEqual(sorted.map((p) => p.purchaseId));
        expect(pages.length).toBeGreaterThanOrEqual(4);
        expect(pages.slice(0, 3).every((page) => page.length === 3)).toBe(true);
      });

      it('filters by status', async () => {
        const { siteId, sorted } = await siteWithSubscriptions();
        const { ids } = await allPages(
          (c) => stores.purchases.listSubscriptions(siteId, { status: 'active' }, 2, c),
          2,
        );
        expect(ids).toEqual(sorted.filter((p) => p.status === 'active').map((p) => p.purchaseId));
      });

      it('filters by offer, keeping pages full', async () => {
        const { siteId, sorted } = await siteWithSubscriptions();
        const { pages, ids } = await allPages(
          (c) => stores.purchases.listSubscriptions(siteId, { offerId: 'silver' }, 1, c),
          1,
        );
        expect(ids).toEqual(sorted.filter((p) => p.offerId === 'silver').map((p) => p.purchaseId));
        expect(pages[0]).toHaveLength(1);
        expect(pages[1]).toHaveLength(1);
      });

      it('filters by status and offer', async () => {
        const { siteId, sorted } = await siteWithSubscriptions();
        const page = await stores.purchases.listSubscriptions(siteId, { status: 'active', offerId: 'gold' }, 10, null);
        expect(page.items.map((p) => p.purchaseId)).toEqual(
          sorted.filter((p) => p.status === 'active' && p.offerId === 'gold').map((p) => p.purchaseId),
        );
        expect(page.nextCursor).toBeNull();
      });

      it('a purchase moves to its new status list when its status changes', async () => {
        const { siteId, sorted } = await siteWithSubscriptions();
        const moving = sorted.find((p) => p.status === 'paused')!;
        await stores.purchases.savePurchase(changed(moving, { status: 'past_due' }), moving.version);
        const paused = await stores.purchases.listSubscriptions(siteId, { status: 'paused' }, 10, null);
        const pastDue = await stores.purchases.listSubscriptions(siteId, { status: 'past_due' }, 10, null);
        expect(paused.items).toEqual([]);
        expect(pastDue.items.map((p) => [p.purchaseId, p.status])).toEqual([[moving.purchaseId, 'past_due']]);
      });

      it('an empty site has an empty page and no cursor', async () => {
        await expect(stores.purchases.listSubscriptions(uid('site'), {}, 5, null)).resolves.toEqual({
          items: [],
          nextCursor: null,
        });
      });

      it('a cursor is bound to its site and filters; garbage is refused; all as InvalidInputError on cursor', async () => {
        const { siteId } = await siteWithSubscriptions();
        const other = await siteWithSubscriptions();
        const list = stores.purchases.listSubscriptions.bind(stores.purchases);
        const cursorOf = async (page: Promise<Page<Purchase>>) => (await page).nextCursor!;
        const plain = await cursorOf(list(siteId, {}, 1, null));
        const active = await cursorOf(list(siteId, { status: 'active' }, 1, null));
        const gold = await cursorOf(list(siteId, { offerId: 'gold' }, 1, null));
        const misuses: Promise<unknown>[] = [
          list(other.siteId, {}, 1, plain),
          list(siteId, { status: 'active' }, 1, plain),
          list(siteId, { status: 'pending_cancellation' }, 1, active),
          list(siteId, {}, 1, active),
          list(siteId, { offerId: 'silver' }, 1, gold),
          list(siteId, { offerId: 'gold', status: 'active' }, 1, gold),
          stores.purchases.listPurchasesByOffer(siteId, 'gold', 1, gold),
          list(siteId, {}, 1, 'not-a-cursor'),
          list(siteId, {}, 1, ''),
          list(siteId, {}, 1, Buffer.from('{}').toString('base64url')),
          list(siteId, {}, 1, Buffer.from('[1,2]').toString('base64url')),
          list(siteId, {}, 1, `${plain.slice(0, -4)}AAAA`),
        ];
        for (const misuse of misuses) {
          const error = await rejection(misuse);
          expect(error).toBeInstanceOf(InvalidInputError);
          expect((error as InvalidInputError).details).toEqual([expect.objectContaining({ field: 'cursor' })]);
        }
        // The cursors themselves still work where they belong.
        await expect(list(siteId, { status: 'active' }, 1, active)).resolves.toMatchObject({
          items: [expect.anything()],
        });
      });
    });

    describe('listPurchasesByOffer', () => {
      it("lists every purchase of the offer, oldest first (then by id), over pages, and only that offer's", async () => {
        const siteId = uid('site');
        const offerId = uid('offer');
        const days = [4, 1, 3, 1, 2];
        const mine: Purchase[] = [];
        for (const [i, day] of days.entries()) {
          const createdAt = `2026-01-0${day}T00:00:00.000Z`;
          mine.push(await created(i % 2 ? oneTime({ siteId, offerId, createdAt }) : { siteId, offerId, createdAt }));
        }
        await created({ siteId, offerId: uid('offer') });
        await created({ offerId });
        const order = (p: Purchase) => `${p.createdAt}\u0000${p.purchaseId}`;
        const expected = mine.sort((x, y) => (order(x) < order(y) ? -1 : 1)).map((p) => p.purchaseId);
        const { pages, ids } = await allPages((c) => stores.purchases.listPurchasesByOffer(siteId, offerId, 2, c), 2);
        expect(ids).toEqual(expected);
        expect(pages.slice(0, 2).map((page) => page.length)).toEqual([2, 2]);

        const cursor = (await stores.purchases.listPurchasesByOffer(siteId, offerId, 2, null)).nextCursor!;
        await expect(stores.purchases.listPurchasesByOffer(siteId, 'another', 2, cursor)).rejects.toBeInstanceOf(
          InvalidInputError,
        );
        await expect(stores.purchases.listPurchasesByOffer(uid('site'), offerId, 2, cursor)).rejects.toBeInstanceOf(
          InvalidInputError,
        );
        await expect(stores.purchases.listSubscriptions(siteId, {}, 2, cursor)).rejects.toBeInstanceOf(
          InvalidInputError,
        );
      });
    });

    describe('listDue', () => {
      /**
       * A UTC day centuries ahead, so that no other test's timers share its due buckets (listDue reads every
       * site): a random start per run of the suite, then 30 days apart per test, beyond any lookback used here.
       */
      const firstQuietDay = Date.UTC(2300, 0, 1, 10) + Math.floor(Math.random() * 100_000) * 86_400_000;
      let quietDays = 0;
      const quietDay = () => new Date(firstQuietDay + quietDays++ * 30 * 86_400_000);
      const shift = (now: Date, ms: number) => new Date(now.getTime() + ms).toISOString();
      const HOUR = 3_600_000;

      async function pendingCancellation(siteId: string, effectiveAt: string, overrides: Partial<Purchase> = {}) {
        return created({
          siteId,
          status: 'pending_cancellation',
          cancellation: {
            when: 'date',
            effectiveAt,
            requestedBy: { type: 'admin', email: 'owner@example.com' },
            requestedAt: T0,
          },
          accessEndsAt: effectiveAt,
          ...overrides,
        });
      }

      /** Every page of the due index at `now`, `limit` at a time. */
      async function allDue(now: Date, query: { lookbackHours?: number; limit?: number } = {}) {
        const pages: DuePurchase[][] = [];
        let cursor: string | null = null;
        do {
          const page: Page<DuePurchase> = await stores.purchases.listDue(now, { ...query, cursor });
          expect(page.items.length).toBeLessThanOrEqual(query.limit ?? 200);
          pages.push(page.items);
          cursor = page.nextCursor;
        } while (cursor !== null && pages.length < 100);
        expect(cursor).toBeNull();
        return pages.flat();
      }
      const bySortOrder = (a: DuePurchase, b: DuePurchase) =>
        `${a.dueAt}${a.purchaseId}` < `${b.dueAt}${b.purchaseId}` ? -1 : 1;

      it('lists each due action once, up to now inclusive, from the hour `lookbackHours` before now', async () => {
        const now = quietDay();
        const siteId = uid('site');
        const hourAgo = await pendingCancellation(siteId, shift(now, -HOUR));
        const exactlyNow = await pendingCancellation(siteId, now.toISOString());
        await pendingCancellation(siteId, shift(now, 1000));
        const firstHour = new Date(now.getTime() - 24 * HOUR);
        firstHour.setUTCMinutes(0, 0, 0);
        const lastBucket = await pendingCancellation(siteId, firstHour.toISOString());
        await pendingCancellation(siteId, shift(firstHour, -1));
        const periodEnd = await created({
          siteId,
          accessPeriodEndsAt: shift(now, -3 * HOUR),
          accessEndsAt: shift(now, -3 * HOUR),
        });
        await created({ siteId, status: 'canceled', accessPeriodEndsAt: shift(now, -HOUR) });

        const due = (await allDue(now, { limit: 2 })).filter((d) => d.siteId === siteId);

        expect(due.sort(bySortOrder)).toEqual([
          { siteId, purchaseId: lastBucket.purchaseId, dueAt: firstHour.toISOString() },
          { siteId, purchaseId: periodEnd.purchaseId, dueAt: shift(now, -3 * HOUR) },
          { siteId, purchaseId: hourAgo.purchaseId, dueAt: shift(now, -HOUR) },
          { siteId, purchaseId: exactlyNow.purchaseId, dueAt: now.toISOString() },
        ]);
        const thisHourOnly = (await allDue(now, { lookbackHours: 0 })).filter((d) => d.siteId === siteId);
        const expected = [hourAgo, exactlyNow].filter((p) => {
          const dueAt = p.cancellation!.effectiveAt;
          return dueAt.slice(0, 13) === now.toISOString().slice(0, 13);
        });
        expect(thisHourOnly.map((d) => d.purchaseId).sort()).toEqual(expected.map((p) => p.purchaseId).sort());
      }, 120_000);

      it('reads hours oldest first, page by page, with every shard of an hour', async () => {
        const now = quietDay();
        const siteId = uid('site');
        const made: Purchase[] = [];
        // Enough purchases to land in several shards of two hours.
        for (let i = 0; i < 12; i++)
          made.push(await pendingCancellation(siteId, shift(now, -(1 + (i % 2) * 2) * HOUR)));

        const due = (await allDue(now, { limit: 3, lookbackHours: 4 })).filter((d) => d.siteId === siteId);

        expect(due.map((d) => d.purchaseId).sort()).toEqual(made.map((p) => p.purchaseId).sort());
        const hours = due.map((d) => d.dueAt.slice(0, 13));
        expect(hours).toEqual([...hours].sort());
      }, 120_000);

      it('has one entry per action, and a change removes an entry in the same write', async () => {
        const now = quietDay();
        const siteId = uid('site');
        const both = await pendingCancellation(siteId, shift(now, -2 * HOUR), {
          accessPeriodEndsAt: shift(now, -HOUR),
        });
        const twice = (await allDue(now, { lookbackHours: 3 })).filter((d) => d.siteId === siteId);
        expect(twice.sort(bySortOrder)).toEqual([
          { siteId, purchaseId: both.purchaseId, dueAt: shift(now, -2 * HOUR) },
          { siteId, purchaseId: both.purchaseId, dueAt: shift(now, -HOUR) },
        ]);
        // Stopping the cancellation leaves only the access period due.
        await stores.purchases.savePurchase(changed(both, { status: 'active', cancellation: null }), both.version);
        await expect(
          allDue(now, { lookbackHours: 3 }).then((all) => all.filter((d) => d.siteId === siteId)),
        ).resolves.toEqual([{ siteId, purchaseId: both.purchaseId, dueAt: shift(now, -HOUR) }]);
      }, 120_000);

      it('refuses a cursor of another run (another now) or a forged one', async () => {
        const now = quietDay();
        const siteId = uid('site');
        for (let i = 0; i < 3; i++) await pendingCancellation(siteId, shift(now, -HOUR));
        const first = await stores.purchases.listDue(now, { limit: 1, lookbackHours: 2 });
        expect(first.nextCursor).not.toBeNull();

        await expect(
          stores.purchases.listDue(new Date(now.getTime() + 1), {
            limit: 1,
            lookbackHours: 2,
            cursor: first.nextCursor,
          }),
        ).rejects.toBeInstanceOf(InvalidInputError);
        await expect(
          stores.purchases.listDue(now, { limit: 1, lookbackHours: 2, cursor: 'forged' }),
        ).rejects.toBeInstanceOf(InvalidInputError);
      }, 120_000);
    });

    describe('listUpcoming', () => {
      const T = '2026-06-01T00:00:00.000Z';
      const at = (days: number, ms = 0) => new Date(Date.parse(T) + days * 86_400_000 + ms).toISOString();
      const window = { from: T, to: at(30) };
      const subscription = (siteId: string, overrides: Partial<Purchase> = {}) =>
        created({ siteId, currentPeriodEnd: at(10), ...overrides });
      const plan = (siteId: string, overrides: Partial<Purchase> = {}) =>
        created({
          siteId,
          kind: 'payment_plan',
          price: {
            type: 'payment_plan',
            amount: 10000,
            currency: 'eur',
            installments: 3,
            interval: 'month',
            intervalCount: 1,
          },
          installments: { paid: 1, total: 3 },
          currentPeriodEnd: at(2),
          ...overrides,
        });
      const cancellation = (effectiveAt: string) => ({
        when: 'date' as const,
        effectiveAt,
        requestedBy: { type: 'admin' as const, email: 'owner@example.com' },
        requestedAt: T0,
      });

      async function allUpcoming(siteId: string, query: UpcomingQuery, limit: number) {
        const pages: UpcomingChange[][] = [];
        let cursor: string | null = null;
        do {
          const page: Page<UpcomingChange> = await stores.purchases.listUpcoming(siteId, query, limit, cursor);
          expect(page.items.length).toBeLessThanOrEqual(limit);
          pages.push(page.items);
          cursor = page.nextCursor;
        } while (cursor !== null && pages.length < 100);
        expect(cursor).toBeNull();
        return { pages, items: pages.flat() };
      }

      /** One site with one change of every type, soonest first, and what the calendar must show of it. */
      async function aCalendar(siteId: string) {
        const period = await created({
          siteId,
          kind: 'free',
          price: { type: 'free' },
          processor: 'none',
          processorSubscriptionId: null,
          currentPeriodStart: null,
          currentPeriodEnd: null,
          accessPeriodEndsAt: at(1),
          accessEndsAt: at(1),
          products: [
            { productId: 'course', access: 'active', revokedAt: null, revokedBy: null, label: null },
            { productId: 'extra', access: 'revoked', revokedAt: T0, revokedBy: null, label: 'Revoked' },
          ],
        });
        const installment = await plan(siteId);
        const paused = await subscription(siteId, { status: 'paused', pause: { pausedAt: T0, resumesAt: at(3) } });
        const pending = await subscription(siteId, {
          status: 'pending_cancellation',
          cancellation: cancellation(at(5)),
          accessEndsAt: at(5),
        });
        const renewing = await subscription(siteId);
        const base = (p: Purchase) => ({ purchaseId: p.purchaseId, customerId: p.customerId, offerId: p.offerId });
        return {
          purchases: { period, installment, paused, pending, renewing },
          expected: [
            { ...base(period), at: at(1), type: 'access_period_ends', productIds: ['course'] },
            {
              ...base(installment),
              at: at(2),
              type: 'installment',
              productIds: ['course'],
              amount: 10000,
              currency: 'eur',
            },
            { ...base(paused), at: at(3), type: 'pause_ends', productIds: ['course'] },
            { ...base(pending), at: at(5), type: 'cancellation_effective', productIds: ['course'] },
            {
              ...base(renewing),
              at: at(10),
              type: 'renewal',
              productIds: ['course'],
              amount: 2900,
              currency: 'usd',
            },
          ] as UpcomingChange[],
        };
      }

      it("lists a site's timed changes in [from, to), soonest first, with amounts; nothing of another site", async () => {
        const siteId = uid('site');
        const { expected } = await aCalendar(siteId);
        await aCalendar(uid('site'));
        await subscription(siteId, { currentPeriodEnd: at(30) }); // at `to`: outside
        await subscription(siteId, { currentPeriodEnd: at(0, -1) }); // before `from`: outside
        await subscription(siteId, { status: 'canceled', currentPeriodEnd: at(4) }); // ended: nothing ahead
        await created({ ...oneTime({ siteId }) }); // nothing timed at all

        const page = await stores.purchases.listUpcoming(siteId, window, 50, null);

        expect(page).toEqual({ items: expected, nextCursor: null });
      });

      it('pages with a cursor bound to the site, window and type', async () => {
        const siteId = uid('site');
        const { expected } = await aCalendar(siteId);

        const { pages, items } = await allUpcoming(siteId, window, 2);

        expect(items).toEqual(expected);
        expect(pages[0]).toHaveLength(2);
        const cursor = (await stores.purchases.listUpcoming(siteId, window, 2, null)).nextCursor!;
        const refused = [
          stores.purchases.listUpcoming(uid('site'), window, 2, cursor),
          stores.purchases.listUpcoming(siteId, { ...window, to: at(31) }, 2, cursor),
          stores.purchases.listUpcoming(siteId, { ...window, type: 'renewal' }, 2, cursor),
          stores.purchases.listUpcoming(siteId, window, 2, 'forged'),
          stores.purchases.listUpcoming(siteId, window, 2, Buffer.from('{"list":"x","at":0}').toString('base64url')),
        ];
        for (const attempt of refused) await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
      });

      it('filters by type, and walks a long window with entries far apart', async () => {
        const siteId = uid('site');
        const { expected } = await aCalendar(siteId);
        const late = await subscription(siteId, { currentPeriodEnd: at(300) });

        const renewals = await allUpcoming(siteId, { ...window, type: 'renewal' }, 10);
        const periods = await allUpcoming(siteId, { ...window, type: 'access_period_ends' }, 10);
        const year = await allUpcoming(siteId, { from: T, to: at(366) }, 10);

        expect(renewals.items).toEqual(expected.filter((c) => c.type === 'renewal'));
        expect(periods.items).toEqual(expected.filter((c) => c.type === 'access_period_ends'));
        expect(year.items.map((c) => c.purchaseId)).toEqual([...expected.map((c) => c.purchaseId), late.purchaseId]);
      });

      it("follows the purchase's changes in the same write: moved, replaced, removed", async () => {
        const siteId = uid('site');
        const p = await subscription(siteId);
        const types = async () =>
          (await stores.purchases.listUpcoming(siteId, window, 10, null)).items.map((c) => `${c.type}@${c.at}`);
        expect(await types()).toEqual([`renewal@${at(10)}`]);

        const pending = changed(p, { status: 'pending_cancellation', cancellation: cancellation(at(4)) });
        await stores.purchases.savePurchase(pending, p.version);
        expect(await types()).toEqual([`cancellation_effective@${at(4)}`]);

        const stopped = changed(pending.purchase, { status: 'active', cancellation: null, currentPeriodEnd: at(12) });
        await stores.purchases.savePurchase(stopped, pending.purchase.version);
        expect(await types()).toEqual([`renewal@${at(12)}`]);

        const ended = changed(stopped.purchase, { status: 'canceled' });
        await stores.purchases.savePurchase(ended, stopped.purchase.version);
        expect(await types()).toEqual([]);
      });

      it('a renewal and an access period of one purchase: both listed, each moved or removed on its own', async () => {
        const siteId = uid('site');
        const p = await subscription(siteId, { accessPeriodEndsAt: at(6), accessEndsAt: at(6) });
        const types = async () =>
          (await stores.purchases.listUpcoming(siteId, window, 10, null)).items.map((c) => `${c.type}@${c.at}`);
        expect(await types()).toEqual([`access_period_ends@${at(6)}`, `renewal@${at(10)}`]);

        const pending = changed(p, { status: 'pending_cancellation', cancellation: cancellation(at(8)) });
        await stores.purchases.savePurchase(pending, p.version);
        expect(await types()).toEqual([`access_period_ends@${at(6)}`, `cancellation_effective@${at(8)}`]);

        const longer = changed(pending.purchase, { accessPeriodEndsAt: at(9), accessEndsAt: at(8) });
        await stores.purchases.savePurchase(longer, pending.purchase.version);
        expect(await types()).toEqual([`cancellation_effective@${at(8)}`, `access_period_ends@${at(9)}`]);

        const ended = changed(longer.purchase, { status: 'canceled' });
        await stores.purchases.savePurchase(ended, longer.purchase.version);
        expect(await types()).toEqual([]);
      });

      it('a refused write changes nothing in the calendar', async () => {
        const siteId = uid('site');
        const p = await subscription(siteId);

        await expect(
          stores.purchases.savePurchase(changed(p, { status: 'canceled' }), p.version + 5),
        ).rejects.toBeInstanceOf(ConcurrentModificationError);

        expect((await stores.purchases.listUpcoming(siteId, window, 10, null)).items).toHaveLength(1);
      });
    });
  });
}
