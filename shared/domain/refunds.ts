import { ConflictError, InvalidInputError } from './errors.ts';
import { revokeAccess } from './grants.ts';
import { toInstant } from './time.ts';
import type { Actor, HistoryEntry, Purchase, PurchaseChange, Refund } from './types.ts';

/** What can still be refunded: the price of the last payment less what was already refunded of it (rule 12). */
export function refundable(purchase: Purchase): { amount: number; currency: string } {
  if (purchase.price.type === 'free') return { amount: 0, currency: 'usd' };
  const refunded = purchase.refunds.reduce((sum, refund) => sum + refund.amount, 0);
  return { amount: Math.max(0, purchase.price.amount - refunded), currency: purchase.price.currency };
}

/** Refuses a refund before the processor is asked: nothing paid, or more than what is left. */
export function checkRefund(purchase: Purchase, amount: number | null): void {
  if (purchase.price.type === 'free') throw new ConflictError('a free purchase has no payment to refund');
  const left = refundable(purchase);
  if (left.amount === 0) throw new ConflictError('this purchase has already been refunded in full');
  if (amount !== null && amount > left.amount) {
    throw new InvalidInputError(`at most ${left.amount} ${left.currency} can be refunded`, [
      { field: 'amount', message: `must be at most ${left.amount} (minor units)` },
    ]);
  }
}

/**
 * Records a refund the processor has made and, only when asked, revokes access (label by actor): a refund
 * never changes billing status by itself.
 */
export function recordRefund(
  purchase: Purchase,
  refund: Omit<Refund, 'at' | 'by'>,
  revoke: boolean,
  actor: Actor,
  now: Date,
): PurchaseChange {
  const at = toInstant(now);
  const withRefund: Purchase = { ...purchase, refunds: [...purchase.refunds, { ...refund, at, by: actor }] };
  const history: HistoryEntry[] = [
    {
      at,
      type: 'refund.created',
      actor,
      details: {
        refundId: refund.refundId,
        amount: refund.amount,
        currency: refund.currency,
        processorRefundId: refund.processorRefundId,
      },
    },
  ];
  const revoked = revoke ? revokeAccess(withRefund, undefined, actor, now) : null;
  const next = revoked ? revoked.purchase : { ...withRefund, updatedAt: at, version: purchase.version + 1 };
  return { purchase: next, history: [...history, ...(revoked?.history ?? [])] };
}
