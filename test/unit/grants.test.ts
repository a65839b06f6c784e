import { describe, expect, it } from '@jest/globals';
import { InvalidInputError } from '../../shared/domain/errors.ts';
import { type GrantOfferInput, grantOffer, resumeAccess, revokeAccess } from '../../shared/domain/grants.ts';
import type { Offer, Purchase } from '../../shared/domain/types.ts';
import {
  ADMIN,
  AUTOMATION,
  activeGrant,
  anOffer,
  aPurchase,
  msAfter,
  NOW,
  revokedGrant,
  SUPPORT,
  thrownBy,
} from './fixtures.ts';

const DAY_MS = 86_400_000;

function grantInput(offer: Offer, overrides: Partial<GrantOfferInput> = {}): GrantOfferInput {
  return {
    purchaseId: 'purchase-9',
    customer: { siteId: 'site-1', customerId: 'customer-1' },
    offer,
    processor: 'stripe',
    processorSubscriptionId: 'sub_9',
    currentPeriodEnd: '2026-04-01T10:00:00.000Z',
    actor: ADMIN,
    now: NOW,
    ...overrides,
  };
}

const BILLING_FIELDS = [
  'purchaseId',
  'siteId',
  'customerId',
  'offerId',
  'processor',
  'processorSubscriptionId',
  'kind',
  'price',
  'status',
  'currentPeriodStart',
  'currentPeriodEnd',
  'installments',
  'cancellation',
  'pause',
  'accessPeriodEndsAt',
  'accessEndsAt',
  'refunds',
  'createdAt',
] as const satisfies readonly (keyof Purchase)[];

function billingOf(purchase: Purchase): Partial<Purchase> {
  return Object.fromEntries(BILLING_FIELDS.map((field) => [field, purchase[field]]));
}

/** A paused payment plan with a pending cancellation: every billing field holds something that could be lost. */
function busyPurchase(): Purchase {
  return aPurchase({
    kind: 'payment_plan',
    price: {
      type: 'payment_plan',
      amount: 10000,
      currency: 'eur',
      installments: 6,
      interval: 'month',
      intervalCount: 1,
    },
    status: 'pending_cancellation',
    installments: { paid: 2, total: 6 },
    cancellation: {
      when: 'date',
      effectiveAt: '2026-05-01T00:00:00.000Z',
      requestedBy: ADMIN,
      requestedAt: '2026-02-20T00:00:00.000Z',
    },
    pause: { pausedAt: '2026-02-25T00:00:00.000Z', resumesAt: null },
    accessPeriodEndsAt: '2026-08-15T00:00:00.000Z',
    accessEndsAt: '2026-05-01T00:00:00.000Z',
    refunds: [
      {
        refundId: 'refund-1',
        amount: 500,
        currency: 'eur',
        at: '2026-02-21T00:00:00.000Z',
        by: ADMIN,
        processorRefundId: 're_1',
      },
    ],
  });
}

describe('grantOffer', () => {
  it('gives one active grant per product of the offer, in the offer order', () => {
    const { purchase } = grantOffer(grantInput(anOffer({ productIds: ['course', 'community'] })));

    expect(purchase.products).toEqual([activeGrant('course'), activeGrant('community')]);
  });

  it('copies the product list, so a later edit of the offer does not change the purchase', () => {
    const offer = anOffer({ productIds: ['course'] });
    const { purchase } = grantOffer(grantInput(offer));

    offer.productIds.push('bonus');

    expect(purchase.products.map((grant) => grant.productId)).toEqual(['course']);
  });

  it('starts an active purchase at version 1, created and updated now', () => {
    const { purchase } = grantOffer(grantInput(anOffer()));

    expect(purchase).toMatchObject({
      status: 'active',
      version: 1,
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
      cancellation: null,
      pause: null,
      refunds: [],
    });
  });

  it('records who granted it in one purchase.granted history entry', () => {
    const { history } = grantOffer(grantInput(anOffer({ productIds: ['course'] })));

    expect(history).toEqual([
      {
        at: NOW.toISOString(),
        type: 'purchase.granted',
        actor: ADMIN,
        details: { offerId: 'offer-1', productIds: ['course'], accessEndsAt: null },
      },
    ]);
  });

  it('sets accessEndsAt exactly accessDays × 86 400 000 ms after now (rule 10)', () => {
    const { purchase } = grantOffer(grantInput(anOffer({ accessDays: 30 })));

    expect(purchase.accessEndsAt).toBe(msAfter(NOW, 30 * DAY_MS).toISOString());
  });

  it('leaves accessEndsAt null for an offer without accessDays', () => {
    const { purchase } = grantOffer(grantInput(anOffer({ accessDays: null })));

    expect(purchase.accessEndsAt).toBeNull();
  });

  it('starts a payment plan with the first installment paid', () => {
    const offer = anOffer({
      price: {
        type: 'payment_plan',
        amount: 10000,
        currency: 'usd',
        installments: 4,
        interval: 'month',
        intervalCount: 1,
      },
    });

    const { purchase } = grantOffer(grantInput(offer));

    expect(purchase).toMatchObject({ kind: 'payment_plan', installments: { paid: 1, total: 4 } });
  });

  it('gives a subscription a billing period from now to the given period end, and no installments', () => {
    const { purchase } = grantOffer(grantInput(anOffer(), { currentPeriodEnd: '2026-04-01T10:00:00.000Z' }));

    expect(purchase).toMatchObject({
      kind: 'subscription',
      currentPeriodStart: NOW.toISOString(),
      currentPeriodEnd: '2026-04-01T10:00:00.000Z',
      installments: null,
    });
  });

  it('gives a one-time purchase no billing period and no installments, even when a period end is passed', () => {
    const offer = anOffer({ price: { type: 'one_time', amount: 5000, currency: 'usd' } });

    const { purchase } = grantOffer(grantInput(offer, { currentPeriodEnd: '2026-04-01T10:00:00.000Z' }));

    expect(purchase).toMatchObject({
      kind: 'one_time',
      currentPeriodStart: null,
      currentPeriodEnd: null,
      installments: null,
    });
  });

  it("keeps the offer's price and the processor identifiers on the purchase", () => {
    const offer = anOffer();

    const { purchase } = grantOffer(grantInput(offer, { processor: 'paypal', processorSubscriptionId: 'I-ABC' }));

    expect(purchase).toMatchObject({ price: offer.price, processor: 'paypal', processorSubscriptionId: 'I-ABC' });
  });
});

describe('revokeAccess (rules 1–3)', () => {
  it('revokes only the chosen product and leaves the other active', () => {
    const change = revokeAccess(aPurchase(), ['course'], ADMIN, NOW);

    expect(change?.purchase.products.map((grant) => [grant.productId, grant.access])).toEqual([
      ['course', 'revoked'],
      ['community', 'active'],
    ]);
  });

  it('records actor, time and label on the revoked grant', () => {
    const change = revokeAccess(aPurchase(), ['course'], ADMIN, NOW);

    expect(change?.purchase.products[0]).toEqual(
      revokedGrant('course', NOW.toISOString(), ADMIN, 'Revoked by owner@example.com'),
    );
  });

  it('leaves every billing field identical', () => {
    const before = busyPurchase();

    const change = revokeAccess(before, ['course'], ADMIN, NOW);

    expect(billingOf(change!.purchase)).toEqual(billingOf(before));
  });

  it('increments the version and sets updatedAt to now', () => {
    const change = revokeAccess(aPurchase({ version: 3 }), ['course'], ADMIN, NOW);

    expect(change?.purchase).toMatchObject({ version: 4, updatedAt: NOW.toISOString() });
  });

  it('appends one access.revoked history entry with actor, label and the products it changed', () => {
    const change = revokeAccess(aPurchase(), ['course'], SUPPORT, NOW);

    expect(change?.history).toEqual([
      {
        at: NOW.toISOString(),
        type: 'access.revoked',
        actor: SUPPORT,
        label: 'Revoked by our support team',
        details: { productIds: ['course'] },
      },
    ]);
  });

  it('revokes every product of the purchase when productIds is absent', () => {
    const change = revokeAccess(aPurchase(), undefined, AUTOMATION, NOW);

    expect(change?.purchase.products.every((grant) => grant.access === 'revoked')).toBe(true);
  });

  it('does not modify the purchase it was given', () => {
    const before = aPurchase();
    const snapshot = structuredClone(before);

    revokeAccess(before, undefined, ADMIN, NOW);

    expect(before).toEqual(snapshot);
  });

  it('returns null when the chosen product is already revoked', () => {
    const purchase = aPurchase({
      products: [revokedGrant('course', '2026-02-20T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com')],
    });

    expect(revokeAccess(purchase, ['course'], SUPPORT, NOW)).toBeNull();
  });

  it('keeps the first actor and time of a grant that was already revoked when revoking the whole purchase', () => {
    const first = revokedGrant('course', '2026-02-20T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com');
    const purchase = aPurchase({ products: [first, activeGrant('community')] });

    const change = revokeAccess(purchase, undefined, SUPPORT, NOW);

    expect(change?.purchase.products).toEqual([
      first,
      revokedGrant('community', NOW.toISOString(), SUPPORT, 'Revoked by our support team'),
    ]);
  });

  it('lists only the grants it actually changed in the history entry', () => {
    const first = revokedGrant('course', '2026-02-20T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com');
    const purchase = aPurchase({ products: [first, activeGrant('community')] });

    const change = revokeAccess(purchase, undefined, SUPPORT, NOW);

    expect(change?.history[0]?.details).toEqual({ productIds: ['community'] });
  });

  it('refuses a product the purchase lacks with an InvalidInputError naming productIds[i]', () => {
    const error = thrownBy(() => revokeAccess(aPurchase(), ['course', 'nope'], ADMIN, NOW));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual([
      { field: 'productIds[1]', message: expect.stringContaining('nope') },
    ]);
  });

  it('treats a product listed twice like a product listed once', () => {
    const change = revokeAccess(aPurchase(), ['course', 'course'], ADMIN, NOW);

    expect(change?.history[0]?.details).toEqual({ productIds: ['course'] });
    expect(change?.purchase.products.map((grant) => grant.access)).toEqual(['revoked', 'active']);
  });
});

describe('resumeAccess (rule 2)', () => {
  const revokedBoth = () =>
    aPurchase({
      products: [
        revokedGrant('course', '2026-02-20T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com'),
        revokedGrant('community', '2026-02-20T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com'),
      ],
    });

  it('restores the chosen grant and clears revokedAt, revokedBy and label', () => {
    const change = resumeAccess(revokedBoth(), ['course'], ADMIN, NOW);

    expect(change?.purchase.products[0]).toEqual(activeGrant('course'));
  });

  it('leaves the other revoked grant revoked', () => {
    const change = resumeAccess(revokedBoth(), ['course'], ADMIN, NOW);

    expect(change?.purchase.products[1]?.access).toBe('revoked');
  });

  it('restores every grant when productIds is absent', () => {
    const change = resumeAccess(revokedBoth(), undefined, ADMIN, NOW);

    expect(change?.purchase.products).toEqual([activeGrant('course'), activeGrant('community')]);
  });

  it('leaves every billing field identical', () => {
    const before = { ...busyPurchase(), products: revokedBoth().products };

    const change = resumeAccess(before, undefined, ADMIN, NOW);

    expect(billingOf(change!.purchase)).toEqual(billingOf(before));
  });

  it('increments the version and sets updatedAt to now', () => {
    const change = resumeAccess(revokedBoth(), ['community'], SUPPORT, NOW);

    expect(change?.purchase).toMatchObject({ version: 4, updatedAt: NOW.toISOString() });
  });

  it('appends one access.resumed history entry with the actor and the products it changed', () => {
    const change = resumeAccess(revokedBoth(), ['community'], SUPPORT, NOW);

    expect(change?.history).toEqual([
      { at: NOW.toISOString(), type: 'access.resumed', actor: SUPPORT, details: { productIds: ['community'] } },
    ]);
  });

  it('returns null when the chosen grants are already active', () => {
    expect(resumeAccess(aPurchase(), undefined, ADMIN, NOW)).toBeNull();
  });

  it('refuses a product the purchase lacks with an InvalidInputError naming productIds[i]', () => {
    const error = thrownBy(() => resumeAccess(revokedBoth(), ['nope'], ADMIN, NOW));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details.map((problem) => problem.field)).toEqual(['productIds[0]']);
  });
});
