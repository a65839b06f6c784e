import { checkRefund, recordRefund } from '../domain/refunds.ts';
import type { Actor } from '../domain/types.ts';
import type { Dependencies } from './deps.ts';
import { loadPurchase } from './load.ts';
import { retryOnConflict } from './retry.ts';
import { syncTimers } from './timers.ts';
import { type PurchaseView, purchaseView } from './views.ts';

/**
 * Use case card: refund (rule 12). Full when `amount` is absent, partial otherwise, through the purchase's
 * processor first (a failure changes nothing); `revokeAccess` also revokes every product. The processor
 * idempotency key comes from the caller's Idempotency-Key when given, so a retried request refunds once.
 */
export async function refundPurchase(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  input: { amount: number | null; revokeAccess: boolean; idempotencyKey: string | null },
  actor: Actor,
  now: Date,
): Promise<PurchaseView> {
  const first = await loadPurchase(deps, siteId, purchaseId);
  let current = first;
  checkRefund(current, input.amount);
  const key = input.idempotencyKey
    ? `${purchaseId}:refund:${input.idempotencyKey}`
    : `${purchaseId}:${current.version}:refund:${input.amount ?? 'full'}`;
  const refund = await deps.processors[current.processor].refund(current, input.amount, key);
  const refundId = deps.newId('ref');
  // The money has moved: record it even if another request changed the purchase meanwhile.
  const change = await retryOnConflict(async (attempt) => {
    current = attempt === 1 ? first : await loadPurchase(deps, siteId, purchaseId);
    const change = recordRefund(
      current,
      { refundId, amount: refund.amount, currency: refund.currency, processorRefundId: refund.processorRefundId },
      input.revokeAccess,
      actor,
      now,
    );
    await deps.store.savePurchase(change, current.version);
    return change;
  });
  await syncTimers(deps.scheduler, current, change.purchase);
  return purchaseView(change.purchase);
}
