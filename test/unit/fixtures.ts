import type { SubscriptionState } from '../../shared/domain/processor-events.ts';
import type { Actor, Grant, Offer, Purchase } from '../../shared/domain/types.ts';

/** The fixed clock every unit test uses; nothing here reads the system time. */
export const NOW = new Date('2026-03-01T10:00:00.000Z');

export const ADMIN: Actor = { type: 'admin', email: 'owner@example.com' };
export const SUPPORT: Actor = { type: 'support', email: 'agent@platform.example' };
export const AUTOMATION: Actor = { type: 'automation', id: 'rule-42' };

export function msAfter(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

export function activeGrant(productId: string): Grant {
  return { productId, access: 'active', revokedAt: null, revokedBy: null, label: null };
}

export function revokedGrant(productId: string, revokedAt: string, actor: Actor, label: string): Grant {
  return { productId, access: 'revoked', revokedAt, revokedBy: actor, label };
}

export function anOffer(overrides: Partial<Offer> = {}): Offer {
  return {
    siteId: 'site-1',
    offerId: 'offer-1',
    name: 'All access',
    productIds: ['course', 'community'],
    price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month', intervalCount: 1 },
    accessDays: null,
    archivedAt: null,
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A Stripe subscription purchase of two products, both active, with billing state filled in. */
export function aPurchase(overrides: Partial<Purchase> = {}): Purchase {
  return {
    purchaseId: 'purchase-1',
    siteId: 'site-1',
    customerId: 'customer-1',
    offerId: 'offer-1',
    processor: 'stripe',
    processorSubscriptionId: 'sub_123',
    kind: 'subscription',
    price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month', intervalCount: 1 },
    status: 'active',
    currentPeriodStart: '2026-02-15T00:00:00.000Z',
    currentPeriodEnd: '2026-03-15T00:00:00.000Z',
    installments: null,
    cancellation: null,
    pause: null,
    accessPeriodEndsAt: null,
    accessEndsAt: null,
    products: [activeGrant('course'), activeGrant('community')],
    refunds: [],
    createdAt: '2026-02-15T00:00:00.000Z',
    updatedAt: '2026-02-15T00:00:00.000Z',
    version: 3,
    ...overrides,
  };
}

/** Runs `fn` and returns what it threw; fails the test if it threw nothing. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** A processor's view of a subscription (as webhooks and `fetchSubscription` report it), in step with aPurchase(). */
export function aSubscriptionState(overrides: Partial<SubscriptionState> = {}): SubscriptionState {
  return {
    status: 'active',
    currentPeriodStart: '2026-02-15T00:00:00.000Z',
    currentPeriodEnd: '2026-03-15T00:00:00.000Z',
    cancelAt: null,
    cancelAtPeriodEnd: false,
    accessEnds: 'now',
    resumesAt: null,
    ...overrides,
  };
}
