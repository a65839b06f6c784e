import { libraryAccess } from '../domain/access.ts';
import { isRecurring } from '../domain/billing.ts';
import { CancelAtProcessorError, ForbiddenError, PurchaseNotFoundError } from '../domain/errors.ts';
import type { Actor } from '../domain/types.ts';
import { cancelPayments } from './billing.ts';
import type { Dependencies } from './deps.ts';

/** The customer's library: the products they may use now, with names and until when. */
export async function myLibrary(deps: Dependencies, siteId: string, customerId: string, now: Date) {
  const purchases = await deps.purchases.getCustomerPurchases(siteId, customerId);
  const accessible = libraryAccess(purchases, now).filter((entry) => entry.hasAccess);
  const products = await deps.catalog.getProducts(
    siteId,
    accessible.map((entry) => entry.productId),
  );
  return {
    products: accessible.map((entry) => ({
      productId: entry.productId,
      name: products.get(entry.productId)?.name ?? null,
      until: entry.until,
    })),
  };
}

/** The customer's subscriptions and payment plans, and whether they may cancel them here. */
export async function mySubscriptions(deps: Dependencies, siteId: string, customerId: string) {
  const [purchases, settings] = await Promise.all([
    deps.purchases.getCustomerPurchases(siteId, customerId),
    deps.catalog.getSettings(siteId),
  ]);
  return {
    items: purchases.filter(isRecurring).map((p) => ({
      purchaseId: p.purchaseId,
      offerId: p.offerId,
      kind: p.kind,
      status: p.status,
      price: p.price,
      currentPeriodEnd: p.currentPeriodEnd,
      cancellation: p.cancellation ? { when: p.cancellation.when, effectiveAt: p.cancellation.effectiveAt } : null,
      accessEndsAt: p.accessEndsAt,
      canCancel:
        settings.selfCancelEnabled && p.kind === 'subscription' && (p.status === 'active' || p.status === 'past_due'),
    })),
  };
}

/**
 * Use case card: self-cancel (rule 8). Only when the site enables it; always at the end of the current
 * billing period; a PayPal subscriber is sent to PayPal instead. Another customer's purchase is not found.
 */
export async function selfCancel(
  deps: Dependencies,
  siteId: string,
  customerId: string,
  purchaseId: string,
  now: Date,
  payPalRedirect: (subscriptionId: string) => string,
) {
  const [settings, purchase] = await Promise.all([
    deps.catalog.getSettings(siteId),
    deps.purchases.getPurchase(siteId, purchaseId),
  ]);
  if (!purchase || purchase.customerId !== customerId) throw new PurchaseNotFoundError(purchaseId);
  if (!settings.selfCancelEnabled)
    throw new ForbiddenError('this site does not let customers cancel their own subscriptions');
  if (purchase.processor === 'paypal' && purchase.processorSubscriptionId) {
    throw new CancelAtProcessorError(payPalRedirect(purchase.processorSubscriptionId));
  }
  const actor: Actor = { type: 'customer', customerId };
  return cancelPayments(deps, siteId, purchaseId, { when: 'period_end' }, actor, now);
}
