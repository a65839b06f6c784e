import type { Purchase } from '../domain/types.ts';

/**
 * The purchases this process wrote (or read) last, exactly as stored. Processors send several events per
 * change within seconds (`customer.subscription.updated`, `invoice.paid`…), so a webhook delivery for a
 * purchase this process just wrote can start from that copy instead of reading it again. A copy may be stale
 * (another process wrote since): it is only ever the base of a write conditioned on its version, so a stale
 * copy fails that condition and the delivery reads the purchase as usual. Never the base of an answer.
 */
export interface RecentPurchases {
  get(siteId: string, purchaseId: string): Purchase | null;
  remember(purchase: Purchase): void;
  forget(siteId: string, purchaseId: string): void;
}
