import { PurchaseNotFoundError } from '../domain/errors.ts';
import type { Purchase } from '../domain/types.ts';
import type { Dependencies } from './deps.ts';

/** The purchase, read strongly consistent, or PurchaseNotFoundError (404): the first step of every purchase use case. */
export async function loadPurchase(
  deps: Pick<Dependencies, 'purchases'>,
  siteId: string,
  purchaseId: string,
): Promise<Purchase> {
  const purchase = await deps.purchases.getPurchase(siteId, purchaseId);
  if (!purchase) throw new PurchaseNotFoundError(purchaseId);
  return purchase;
}
