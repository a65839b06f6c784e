import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  CancelAtProcessorError,
  ForbiddenError,
  InvalidInputError,
  PurchaseNotFoundError,
  SiteResourceNotFoundError,
} from '../../../shared/domain/errors.ts';
import type { Processor } from '../../../shared/domain/types.ts';
import {
  archiveOffer,
  archiveProduct,
  getCustomer,
  getSettings,
  updateSettings,
  upsertOffer,
} from '../../../shared/usecases/catalog.ts';
import { mySubscriptions, selfCancel } from '../../../shared/usecases/me.ts';
import { grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import { ADMIN, CUSTOMER, type MemoryDeps, memoryDeps, PRICES, SITE, seedSite } from '../../support/memory-deps.ts';

const PERIOD_END = '2026-03-15T00:00:00.000Z';

let m: MemoryDeps;
beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
});

const now = () => m.clock.now();

async function subscription(processor: Processor = 'stripe') {
  const { purchaseId } = await grantOfferToCustomer(
    m.deps,
    SITE,
    {
      customerId: CUSTOMER,
      offerId: 'monthly',
      processor,
      processorSubscriptionId: 'sub_1',
      currentPeriodEnd: PERIOD_END,
    },
    ADMIN,
    now(),
  );
  return purchaseId;
}

describe('catalog', () => {
  it('settings: concurrent updates of different fields both land', async () => {
    await Promise.all([
      updateSettings(m.deps, SITE, { selfCancelEnabled: true }),
      updateSettings(m.deps, SITE, { timezone: 'Europe/Paris' }),
    ]);

    await expect(getSettings(m.deps, SITE)).resolves.toEqual({
      siteId: SITE,
      selfCancelEnabled: true,
      timezone: 'Europe/Paris',
      // seedSite connected these (rule 17); the two updates left them alone.
      stripeAccountId: 'acct_site1',
      paypalMerchantId: 'SITE1MERCHANT',
    });
  });

  it('archiving a product twice keeps the first time; a missing one is not found', async () => {
    const first = await archiveProduct(m.deps, SITE, 'course', now());
    m.clock.set('2026-03-05T00:00:00.000Z');

    await expect(archiveProduct(m.deps, SITE, 'course', now())).resolves.toEqual(first);
    await expect(archiveProduct(m.deps, SITE, 'nope', now())).rejects.toBeInstanceOf(SiteResourceNotFoundError);
    await expect(archiveOffer(m.deps, SITE, 'nope', now())).rejects.toBeInstanceOf(SiteResourceNotFoundError);
  });

  it('an offer of missing or archived products is refused, naming each', async () => {
    await archiveProduct(m.deps, SITE, 'community', now());

    const error = await upsertOffer(
      m.deps,
      SITE,
      'bundle',
      { name: 'Bundle', productIds: ['course', 'community', 'ghost'], price: PRICES.lifetime },
      now(),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details.map((d) => d.field)).toEqual(['productIds[1]', 'productIds[2]']);
  });

  it('archiving an offer never touches the purchases of it (rule 11)', async () => {
    const id = await subscription();

    await archiveOffer(m.deps, SITE, 'monthly', now());

    const customer = await getCustomer(m.deps, SITE, CUSTOMER);
    expect(customer.purchases).toEqual([expect.objectContaining({ purchaseId: id, status: 'active', version: 1 })]);
  });
});

describe("the customer's side", () => {
  it('self-cancel is forbidden unless the site enables it', async () => {
    const id = await subscription();

    await expect(selfCancel(m.deps, SITE, CUSTOMER, id, now(), () => '')).rejects.toBeInstanceOf(ForbiddenError);
    expect(m.processors.stripe.calls).toEqual([]);
  });

  it('self-cancel takes effect at the end of the period, asked by the customer', async () => {
    await updateSettings(m.deps, SITE, { selfCancelEnabled: true });
    const id = await subscription();
    await expect(mySubscriptions(m.deps, SITE, CUSTOMER)).resolves.toMatchObject({ items: [{ canCancel: true }] });

    const after = await selfCancel(m.deps, SITE, CUSTOMER, id, now(), () => '');

    expect(after).toMatchObject({
      status: 'pending_cancellation',
      cancellation: {
        when: 'period_end',
        effectiveAt: PERIOD_END,
        requestedBy: { type: 'customer', customerId: CUSTOMER },
      },
    });
  });

  it('a PayPal subscriber is sent to PayPal; nothing changes here', async () => {
    await updateSettings(m.deps, SITE, { selfCancelEnabled: true });
    const id = await subscription('paypal');

    const error = await selfCancel(m.deps, SITE, CUSTOMER, id, now(), (sub) => `https://paypal.example/${sub}`).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(CancelAtProcessorError);
    expect((error as CancelAtProcessorError).redirectUrl).toBe('https://paypal.example/sub_1');
    await expect(m.stores.purchases.getPurchase(SITE, id)).resolves.toMatchObject({ status: 'active', version: 1 });
  });

  it("another customer's purchase is not found", async () => {
    await updateSettings(m.deps, SITE, { selfCancelEnabled: true });
    const id = await subscription();

    await expect(selfCancel(m.deps, SITE, 'cus-2', id, now(), () => '')).rejects.toBeInstanceOf(PurchaseNotFoundError);
  });
});
