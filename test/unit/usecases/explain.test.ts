import { beforeEach, describe, expect, it } from '@jest/globals';
import type { EventFilter } from '../../../shared/ports/purchases.ts';
import { customerProductAccess } from '../../../shared/usecases/access.ts';
import { cancelPayments } from '../../../shared/usecases/billing.ts';
import { explainProductAccess } from '../../../shared/usecases/explain.ts';
import { changeAccess, grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import {
  ADMIN,
  AUTOMATION,
  CUSTOMER,
  type MemoryDeps,
  memoryDeps,
  SITE,
  seedSite,
  T0,
} from '../../support/memory-deps.ts';

let m: MemoryDeps;
beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
});

const now = () => m.clock.now();
const later = (instant: string) => m.clock.set(instant);

async function grant(offerId: string, siteId = SITE) {
  const input = { customerId: CUSTOMER, offerId, processor: 'none' as const, currentPeriodEnd: null };
  const { purchaseId } = await grantOfferToCustomer(m.deps, siteId, input, ADMIN, now());
  return purchaseId;
}

/** Counts the store reads explain makes, through the port (the in-memory twin of the DynamoDB adapter). */
function countReads() {
  const calls: string[] = [];
  const store = m.deps.purchases;
  const getCustomerPurchases = store.getCustomerPurchases.bind(store);
  const listEvents = store.listEvents.bind(store);
  store.getCustomerPurchases = (siteId: string, customerId: string) => {
    calls.push('getCustomerPurchases');
    return getCustomerPurchases(siteId, customerId);
  };
  store.listEvents = (siteId: string, filter: EventFilter, limit: number, cursor: string | null) => {
    calls.push(`listEvents ${filter.purchaseId} ${cursor === null ? 'first' : 'next'}`);
    return listEvents(siteId, filter, limit, cursor);
  };
  return calls;
}

describe('explain (use case)', () => {
  it('names the purchase revoked by automation and the one pending cancellation; before the revocation: access', async () => {
    const revoked = await grant('lifetime');
    later('2026-03-02T09:00:00.000Z');
    await changeAccess(m.deps, SITE, revoked, 'revoke', ['course'], AUTOMATION, now());
    later('2026-03-03T09:00:00.000Z');
    const pending = await grant('monthly');
    await cancelPayments(m.deps, SITE, pending, { when: 'period_end' }, ADMIN, now());

    const result = await explainProductAccess(m.deps, SITE, CUSTOMER, 'course', null, now());
    const before = await explainProductAccess(
      m.deps,
      SITE,
      CUSTOMER,
      'course',
      new Date('2026-03-02T08:59:59.999Z'),
      now(),
    );

    const effectiveAt = '2026-04-03T09:00:00.000Z';
    expect(result).toMatchObject({ hasAccess: true, until: effectiveAt, reason: 'active' });
    expect(result.grants).toEqual([
      expect.objectContaining({ purchaseId: revoked, access: 'revoked', label: 'Revoked by automation' }),
      expect.objectContaining({ purchaseId: pending, status: 'pending_cancellation', accessEndsAt: effectiveAt }),
    ]);
    expect(result.grants[0]!.facts.at(-1)).toMatchObject({
      type: 'access.revoked',
      actor: AUTOMATION,
      label: 'Revoked by automation',
    });
    expect(result.grants[1]!.facts.at(-1)).toMatchObject({ type: 'cancellation.requested', details: { effectiveAt } });
    expect(result.pending).toEqual([{ at: effectiveAt, type: 'cancellation_effective', purchaseId: pending }]);
    expect(before).toMatchObject({ hasAccess: true, until: null, reason: 'active' });
    expect(before.grants.map((g) => [g.purchaseId, g.access])).toEqual([[revoked, 'active']]);
  });

  it('at now gives exactly the access check answer', async () => {
    const id = await grant('trial');
    await changeAccess(m.deps, SITE, id, 'revoke', ['community'], ADMIN, now());

    for (const productId of ['course', 'community', 'workshop']) {
      const explained = await explainProductAccess(m.deps, SITE, CUSTOMER, productId, null, now());
      const checked = await customerProductAccess(m.deps, SITE, CUSTOMER, productId, now());
      expect(explained).toMatchObject(checked);
    }
  });

  it('an unknown customer, or one of another site, is not_purchased with no grants', async () => {
    await seedSite(m, 'site-2');
    await grant('lifetime', 'site-2');

    await expect(explainProductAccess(m.deps, SITE, 'nobody', 'course', null, now())).resolves.toEqual({
      productId: 'course',
      at: T0,
      hasAccess: false,
      until: null,
      reason: 'not_purchased',
      grants: [],
      pending: [],
    });
    await expect(explainProductAccess(m.deps, SITE, CUSTOMER, 'course', null, now())).resolves.toMatchObject({
      reason: 'not_purchased',
      grants: [],
    });
  });

  it('reads the purchases once, then only the logs of purchases that grant the product', async () => {
    const course = await grant('lifetime');
    await m.stores.catalog.upsertOffer({
      siteId: SITE,
      offerId: 'community-only',
      name: 'community',
      productIds: ['community'],
      price: { type: 'free' },
      accessDays: null,
      updatedAt: T0,
    });
    await grant('community-only');
    const calls = countReads();

    await explainProductAccess(m.deps, SITE, CUSTOMER, 'course', null, now());

    expect(calls).toEqual(['getCustomerPurchases', `listEvents ${course} first`]);
  });

  it('pages through a long event log: every fact is there, in order', async () => {
    const id = await grant('lifetime');
    for (let i = 0; i < 520; i++) {
      await changeAccess(m.deps, SITE, id, 'revoke', ['course'], i % 2 ? ADMIN : AUTOMATION, now());
      await changeAccess(m.deps, SITE, id, 'resume', ['course'], ADMIN, now());
    }
    await changeAccess(m.deps, SITE, id, 'revoke', ['course'], AUTOMATION, now());
    const calls = countReads();

    const result = await explainProductAccess(m.deps, SITE, CUSTOMER, 'course', null, now());

    expect(calls).toEqual(['getCustomerPurchases', `listEvents ${id} first`, `listEvents ${id} next`]);
    expect(result.grants[0]!.facts).toHaveLength(1 + 520 * 2 + 1);
    expect(result.grants[0]!.facts.at(-1)).toMatchObject({ type: 'access.revoked', label: 'Revoked by automation' });
    expect(result).toMatchObject({ hasAccess: false, reason: 'revoked' });
  });
});
