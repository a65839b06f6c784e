import { accessStatusRow } from './labels.ts';
import type { Purchase } from './types.ts';

/**
 * The purchase information page (DESIGN.md §2): the stored purchase plus its derived access-status row,
 * with fields in a stable, readable order (DynamoDB returns attributes in no particular order).
 */
export function purchaseView(p: Purchase) {
  return {
    purchaseId: p.purchaseId,
    siteId: p.siteId,
    customerId: p.customerId,
    offerId: p.offerId,
    processor: p.processor,
    processorSubscriptionId: p.processorSubscriptionId,
    // The Stripe account / PayPal merchant holding the subscription (rule 17); null for none and native.
    processorAccount: p.processorAccount ?? null,
    kind: p.kind,
    status: p.status,
    price: p.price,
    currentPeriodStart: p.currentPeriodStart,
    currentPeriodEnd: p.currentPeriodEnd,
    installments: p.installments,
    // `localDay`: the day an admin picked, beside the instant it became (rule 15); null when an instant was given.
    cancellation: p.cancellation ? { ...p.cancellation, localDay: p.cancellation.localDay ?? null } : null,
    pause: p.pause ? { ...p.pause, localDay: p.pause.localDay ?? null } : null,
    accessPeriodEndsAt: p.accessPeriodEndsAt ?? null,
    accessEndsAt: p.accessEndsAt,
    products: p.products.map((g) => ({
      productId: g.productId,
      access: g.access,
      revokedAt: g.revokedAt,
      revokedBy: g.revokedBy,
      label: g.label,
    })),
    accessStatus: accessStatusRow(p),
    refunds: p.refunds,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    version: p.version,
  };
}
export type PurchaseView = ReturnType<typeof purchaseView>;
