import { beforeEach, describe, expect, it } from '@jest/globals';
import { ConflictError, InvalidInputError, PurchaseNotFoundError } from '../../../shared/domain/errors.ts';
import type { Actor } from '../../../shared/domain/types.ts';
import { changeAccess, getHistory, grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import {
  ADMIN,
  AUTOMATION,
  CUSTOMER,
  type MemoryDeps,
  memoryDeps,
  SITE,
  SUPPORT,
  seedSite,
  T0,
} from '../../support/memory-deps.ts';

let m: MemoryDeps;
beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
});

const now = () => m.clock.now();
const grant = (offerId: string, extra: Record<string, unknown> = {}) =>
  grantOfferToCustomer(m.deps, SITE, { customerId: CUSTOMER, offerId, processor: 'none', ...extra }, ADMIN, now());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

describe('grant an offer', () => {
  it('creates an active purchase with one grant per product of the offer and a purchase.granted entry', async () => {
    const purchase = await grant('monthly');

    expect(purchase).toMatchObject({
      siteId: SITE,
      customerId: CUSTOMER,
      offerId: 'monthly',
      kind: 'subscription',
      status: 'active',
      currentPeriodEnd: '2026-04-01T10:00:00.000Z',
      accessStatus: null,
      version: 1,
    });
    expect(purchase.products.map((g) => [g.productId, g.access])).toEqual([
      ['course', 'active'],
      ['community', 'active'],
    ]);
    const history = await getHistory(m.deps, SITE, purchase.purchaseId);
    expect(history.items).toEqual([expect.objectContaining({ at: T0, type: 'purchase.granted', actor: ADMIN })]);
  });

  it("an offer's access days set when access ends and arm the access-period timer", async () => {
    const purchase = await grant('trial');

    expect(purchase.accessEndsAt).toBe('2026-03-15T10:00:00.000Z');
    expect(m.scheduler.forPurchase(purchase.purchaseId)).toEqual([
      { purpose: 'access_period', dueAt: '2026-03-15T10:00:00.000Z' },
    ]);
  });

  it('refuses an unknown customer and offer, naming both fields, and creates nothing', async () => {
    const error = await rejection(
      grantOfferToCustomer(m.deps, SITE, { customerId: 'nobody', offerId: 'nothing', processor: 'none' }, ADMIN, now()),
    );

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details.map((d) => d.field)).toEqual(['customerId', 'offerId']);
    await expect(m.stores.purchases.getCustomerPurchases(SITE, 'nobody')).resolves.toEqual([]);
  });

  it('refuses an archived offer (rule 11: archiving stops new sales)', async () => {
    await m.stores.catalog.archiveOffer(SITE, 'monthly', T0);

    await expect(grant('monthly')).rejects.toBeInstanceOf(ConflictError);
    await expect(m.stores.purchases.getCustomerPurchases(SITE, CUSTOMER)).resolves.toEqual([]);
  });

  it('links a processor subscription to one purchase only', async () => {
    await grant('monthly', { processor: 'stripe', processorSubscriptionId: 'sub_1' });

    const error = await rejection(grant('monthly', { processor: 'stripe', processorSubscriptionId: 'sub_1' }));

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).details).toEqual([expect.objectContaining({ field: 'processorSubscriptionId' })]);
    await expect(m.stores.purchases.getCustomerPurchases(SITE, CUSTOMER)).resolves.toHaveLength(1);
  });

  it('refuses a processor subscription without its id', async () => {
    const error = await rejection(grant('monthly', { processor: 'stripe' }));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual([
      expect.objectContaining({ field: 'processorSubscriptionId' }),
    ]);
  });

  it('refuses a processor subscription id on a purchase no processor bills, and links nothing', async () => {
    const error = await rejection(grant('monthly', { processor: 'none', processorSubscriptionId: 'I-FZ1' }));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual([
      expect.objectContaining({ field: 'processorSubscriptionId' }),
    ]);
    await expect(m.stores.purchases.getCustomerPurchases(SITE, CUSTOMER)).resolves.toEqual([]);
    await expect(m.stores.purchases.findByProcessorSubscription('none', 'I-FZ1')).resolves.toBeNull();
  });
});

describe('revoke and resume access', () => {
  it('revoking every product labels the grants with the admin, shows the access row and leaves billing alone', async () => {
    const { purchaseId } = await grant('monthly');

    const after = await changeAccess(m.deps, SITE, purchaseId, 'revoke', undefined, ADMIN, now());

    expect(after.products.map((g) => [g.access, g.label, g.revokedAt])).toEqual([
      ['revoked', 'Revoked by owner@example.com', T0],
      ['revoked', 'Revoked by owner@example.com', T0],
    ]);
    expect(after.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked by owner@example.com' });
    expect(after).toMatchObject({ status: 'active', cancellation: null, currentPeriodEnd: '2026-04-01T10:00:00.000Z' });
    expect(m.processors.none.calls).toEqual([]);
    expect((await getHistory(m.deps, SITE, purchaseId)).items.at(-1)).toEqual({
      at: T0,
      type: 'access.revoked',
      actor: ADMIN,
      label: 'Revoked by owner@example.com',
      details: { productIds: ['course', 'community'] },
    });
  });

  it.each<[string, string, Actor]>([
    ['support', 'Revoked by our support team', SUPPORT],
    ['automation', 'Revoked by automation', AUTOMATION],
  ])('a revocation by %s reads "%s"', async (_, label, actor) => {
    const { purchaseId } = await grant('lifetime');

    const after = await changeAccess(m.deps, SITE, purchaseId, 'revoke', ['course'], actor, now());

    expect(after.products.map((g) => g.label)).toEqual([label, null]);
    expect(after.accessStatus).toEqual({ status: 'Access revoked', label });
  });

  it('resume restores the revoked grant; the access row disappears; history keeps both', async () => {
    const { purchaseId } = await grant('lifetime');
    await changeAccess(m.deps, SITE, purchaseId, 'revoke', ['community'], SUPPORT, now());
    m.clock.set('2026-03-02T10:00:00.000Z');

    const after = await changeAccess(m.deps, SITE, purchaseId, 'resume', undefined, ADMIN, now());

    expect(after.products.every((g) => g.access === 'active' && g.label === null && g.revokedBy === null)).toBe(true);
    expect(after.accessStatus).toBeNull();
    const history = await getHistory(m.deps, SITE, purchaseId);
    expect(history.items.map((h) => [h.type, h.details.productIds ?? null])).toEqual([
      ['purchase.granted', ['course', 'community']],
      ['access.revoked', ['community']],
      ['access.resumed', ['community']],
    ]);
  });

  it('revoking what is already revoked changes nothing and keeps the first actor', async () => {
    const { purchaseId } = await grant('lifetime');
    const first = await changeAccess(m.deps, SITE, purchaseId, 'revoke', undefined, SUPPORT, now());

    const again = await changeAccess(m.deps, SITE, purchaseId, 'revoke', undefined, ADMIN, now());

    expect(again).toEqual(first);
    expect((await getHistory(m.deps, SITE, purchaseId)).items).toHaveLength(2);
  });

  it('a product the purchase does not hold is refused, naming it', async () => {
    const { purchaseId } = await grant('lifetime');

    const error = await rejection(changeAccess(m.deps, SITE, purchaseId, 'revoke', ['nope'], ADMIN, now()));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual([expect.objectContaining({ field: 'productIds[0]' })]);
  });

  it('revoking every grant retires the access-period timer; resuming re-arms it', async () => {
    const { purchaseId } = await grant('trial');

    await changeAccess(m.deps, SITE, purchaseId, 'revoke', undefined, ADMIN, now());
    expect(m.scheduler.forPurchase(purchaseId)).toEqual([]);

    await changeAccess(m.deps, SITE, purchaseId, 'resume', undefined, ADMIN, now());
    expect(m.scheduler.forPurchase(purchaseId)).toEqual([
      { purpose: 'access_period', dueAt: '2026-03-15T10:00:00.000Z' },
    ]);
  });

  it('an unknown purchase is PurchaseNotFoundError', async () => {
    await expect(changeAccess(m.deps, SITE, 'pur_404', 'revoke', undefined, ADMIN, now())).rejects.toBeInstanceOf(
      PurchaseNotFoundError,
    );
  });
});
