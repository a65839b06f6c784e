import { hasPassed } from './time.ts';
import type { Instant, Purchase } from './types.ts';

/**
 * Rule 14: whether a customer may use a product at `now` is a pure function of stored state and `now`,
 * exact to the millisecond whether or not a timer has fired yet.
 */
export type AccessReason = 'active' | 'revoked' | 'access_ended' | 'canceled' | 'not_purchased';

export interface ProductAccess {
  productId: string;
  hasAccess: boolean;
  /** When access ends if nothing changes; null while it has no end (or when there is no access). */
  until: Instant | null;
  reason: AccessReason;
}

type AccessInputs = Pick<Purchase, 'products' | 'accessEndsAt' | 'status'>;

function grantAccess(purchase: AccessInputs, productId: string, now: Date): ProductAccess | null {
  const grant = purchase.products.find((g) => g.productId === productId);
  if (!grant) return null;
  if (grant.access === 'revoked') return { productId, hasAccess: false, until: null, reason: 'revoked' };
  if (purchase.status === 'canceled' && (purchase.accessEndsAt === null || hasPassed(purchase.accessEndsAt, now))) {
    return { productId, hasAccess: false, until: null, reason: 'canceled' };
  }
  if (purchase.accessEndsAt !== null && hasPassed(purchase.accessEndsAt, now)) {
    return { productId, hasAccess: false, until: null, reason: 'access_ended' };
  }
  return { productId, hasAccess: true, until: purchase.accessEndsAt, reason: 'active' };
}

/** Access wins over no access; among accesses the longest wins (null = no end). */
function better(a: ProductAccess, b: ProductAccess): ProductAccess {
  if (a.hasAccess !== b.hasAccess) return a.hasAccess ? a : b;
  if (!a.hasAccess) return a.reason === 'revoked' ? b : a;
  if (a.until === null) return a;
  if (b.until === null) return b;
  return a.until >= b.until ? a : b;
}

/** A customer's access to one product across all their purchases. */
export function productAccess(purchases: AccessInputs[], productId: string, now: Date): ProductAccess {
  let result: ProductAccess | null = null;
  for (const purchase of purchases) {
    const access = grantAccess(purchase, productId, now);
    if (access) result = result ? better(result, access) : access;
  }
  return result ?? { productId, hasAccess: false, until: null, reason: 'not_purchased' };
}

/** A customer's access to every product any of their purchases ever granted, sorted by product id. */
export function libraryAccess(purchases: AccessInputs[], now: Date): ProductAccess[] {
  const productIds = [...new Set(purchases.flatMap((p) => p.products.map((g) => g.productId)))].sort();
  return productIds.map((productId) => productAccess(purchases, productId, now));
}
