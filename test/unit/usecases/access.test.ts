import { beforeEach, describe, expect, it } from '@jest/globals';
import { customerLibraryAccess, customerProductAccess } from '../../../shared/usecases/access.ts';
import { cancelPayments, pauseBilling } from '../../../shared/usecases/billing.ts';
import { changeAccess, grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import { ADMIN, CUSTOMER, type MemoryDeps, memoryDeps, SITE, seedSite } from '../../support/memory-deps.ts';

const PERIOD_END = '2026-03-15T00:00:00.000Z';

let m: MemoryDeps;
beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
});

const now = () => m.clock.now();
const at = (instant: string) => new Date(instant);
const courseAccess = (when: Date) => customerProductAccess(m.deps, SITE, CUSTOMER, 'course', when);

async function grant(offerId: string) {
  const { purchaseId } = await grantOfferToCustomer(
    m.deps,
    SITE,
    {
      customerId: CUSTOMER,
      offerId,
      processor: 'none',
      currentPeriodEnd: offerId === 'monthly' ? PERIOD_END : null,
    },
    ADMIN,
    now(),
  );
  return purchaseId;
}

describe('access checks', () => {
  it("the library lists every product the customer's purchases grant, sorted, each with its own answer", async () => {
    const id = await grant('lifetime');
    await changeAccess(m.deps, SITE, id, 'revoke', ['community'], ADMIN, now());

    await expect(customerLibraryAccess(m.deps, SITE, CUSTOMER, now())).resolves.toEqual({
      customerId: CUSTOMER,
      products: [
        { productId: 'community', hasAccess: false, until: null },
        { productId: 'course', hasAccess: true, until: null },
      ],
    });
  });

  it('a product never bought is not_purchased; another customer sees nothing of this one', async () => {
    await grant('lifetime');

    await expect(customerProductAccess(m.deps, SITE, CUSTOMER, 'other', now())).resolves.toMatchObject({
      hasAccess: false,
      reason: 'not_purchased',
    });
    await expect(customerLibraryAccess(m.deps, SITE, 'cus-2', now())).resolves.toEqual({
      customerId: 'cus-2',
      products: [],
    });
  });

  it('is exact to the millisecond at a cancellation, whether or not its timer has fired (rule 14)', async () => {
    const id = await grant('monthly');
    await cancelPayments(m.deps, SITE, id, { when: 'period_end' }, ADMIN, now());

    await expect(courseAccess(at('2026-03-14T23:59:59.999Z'))).resolves.toEqual({
      productId: 'course',
      hasAccess: true,
      until: PERIOD_END,
      reason: 'active',
    });
    await expect(courseAccess(at(PERIOD_END))).resolves.toMatchObject({ hasAccess: false, reason: 'access_ended' });
  });

  it('a revoked grant in one purchase does not hide an active one in another', async () => {
    const first = await grant('lifetime');
    await changeAccess(m.deps, SITE, first, 'revoke', undefined, ADMIN, now());
    await grant('trial');

    await expect(courseAccess(now())).resolves.toMatchObject({
      hasAccess: true,
      until: '2026-03-15T10:00:00.000Z',
    });
  });

  it('the longest access wins among purchases', async () => {
    await grant('trial');
    await grant('lifetime');

    await expect(courseAccess(now())).resolves.toMatchObject({ hasAccess: true, until: null });
  });

  it('pausing billing never ends access (rule 7)', async () => {
    const id = await grant('monthly');
    await pauseBilling(m.deps, SITE, id, null, ADMIN, now());

    await expect(courseAccess(at('2026-06-01T00:00:00.000Z'))).resolves.toMatchObject({ hasAccess: true });
  });
});
