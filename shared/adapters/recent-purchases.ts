import type { Purchase } from '../domain/types.ts';
import type { RecentPurchases } from '../ports/recent-purchases.ts';

/**
 * RecentPurchases in this process's memory (a Lambda container's, between invocations): the `capacity` most
 * recently remembered purchases, the least recently used forgotten first. Copies go in and out, so a caller
 * changing an object it passed or got cannot change what is remembered.
 */
export class MemoryRecentPurchases implements RecentPurchases {
  private readonly purchases = new Map<string, Purchase>();

  constructor(private readonly capacity = 500) {}

  get(siteId: string, purchaseId: string): Purchase | null {
    const key = keyOf(siteId, purchaseId);
    const purchase = this.purchases.get(key);
    if (!purchase) return null;
    // Map order is insertion order: re-inserting marks it as the most recently used.
    this.purchases.delete(key);
    this.purchases.set(key, purchase);
    return structuredClone(purchase);
  }

  remember(purchase: Purchase): void {
    const key = keyOf(purchase.siteId, purchase.purchaseId);
    this.purchases.delete(key);
    this.purchases.set(key, structuredClone(purchase));
    while (this.purchases.size > this.capacity) {
      const oldest = this.purchases.keys().next().value;
      if (oldest === undefined) break;
      this.purchases.delete(oldest);
    }
  }

  forget(siteId: string, purchaseId: string): void {
    this.purchases.delete(keyOf(siteId, purchaseId));
  }
}

function keyOf(siteId: string, purchaseId: string): string {
  return `${siteId}\u0000${purchaseId}`;
}
