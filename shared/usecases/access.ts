import { libraryAccess, type ProductAccess, productAccess } from '../domain/access.ts';
import type { Dependencies } from './deps.ts';

/**
 * Use case card: access checks (rule 14). One strongly consistent DynamoDB Query of the customer's
 * partition, then a pure decision at `now`; exact to the millisecond whatever the timers did.
 */
export async function customerLibraryAccess(
  deps: Pick<Dependencies, 'purchases'>,
  siteId: string,
  customerId: string,
  now: Date,
): Promise<{ customerId: string; products: Omit<ProductAccess, 'reason'>[] }> {
  const purchases = await deps.purchases.getCustomerPurchases(siteId, customerId);
  const products = libraryAccess(purchases, now).map(({ productId, hasAccess, until }) => ({
    productId,
    hasAccess,
    until,
  }));
  return { customerId, products };
}

export async function customerProductAccess(
  deps: Pick<Dependencies, 'purchases'>,
  siteId: string,
  customerId: string,
  productId: string,
  now: Date,
): Promise<ProductAccess> {
  const purchases = await deps.purchases.getCustomerPurchases(siteId, customerId);
  return productAccess(purchases, productId, now);
}
