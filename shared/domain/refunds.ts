import { ConflictError, InvalidInputError } from './errors.ts';
import { revokeAccess } from './grants.ts';
import { toInstant } from './time.ts';
import type { Actor, HistoryEntry, Purchase, PurchaseChange, Refund, RefundablePayment } from './types.ts';

/**
 * The payment a refund applies to when membergate itself is the ledger (processor `none`): the price of the
 * one-time purchase, or of the current billing period of a subscription or plan, each period its own payment.
 */
export function ledgerPayment(purchase: Purchase): RefundablePayment | null {
  if (purchase.price.type === 'free') return null;
  const period = purchase.kind === 'one_time' ? null : (purchase.currentPeriodStart ?? purchase.createdAt);
  return {
    paymentId: period ? `${purchase.purchaseId}:period:${period}` : `${purchase.purchaseId}:purchase`,
    amount: purchase.price.amount,
    currency: purchase.price.currency,
    refunded: null,
  };
}

/**
 * What can still be refunded of `payment` (rule 12): what was paid less what was refunded of that payment,
 * as the processor reports it or, when it does not, as membergate recorded it.
 */
export function refundable(purchase: Purchase, payment: RefundablePayment): { amount: number; currency: string } {
  const refunded =
    payment.refunded ??
    purchase.refunds
      .filter((refund) => refund.paymentId === payment.paymentId)
      .reduce((sum, refund) => sum + refund.amount, 0);
  return { amount: Math.max(0, payment.amount - refunded), currency: payment.currency };
}

/**
 * Refuses a refund before any money moves: nothing paid, the payment already refunded in full, or more than
 * what is left of it. Returns the amount to refund (what is left when `amount` is null).
 */
export function checkRefund(purchase: Purchase, payment: RefundablePayment | null, amount: number | null): number {
  if (purchase.price.type === 'free' || payment === null) {
    throw new ConflictError('this purchase has no payment to refund');
  }
  const left = refundable(purchase, payment);
  if (left.amount === 0) throw new ConflictError(`payment ${payment.paymentId} has already been refunded in full`);
  if (amount !== null && amount > left.amount) {
    throw new InvalidInputError(`at most ${left.amount} ${left.currency} can be refunded of the last payment`, [
      { field: 'amount', message: `must be at most ${left.amount} (minor units)` },
    ]);
  }
  return amount ?? left.amount;
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
        paymentId: refund.paymentId ?? null,
      },
    },
  ];
  const revoked = revoke ? revokeAccess(withRefund, undefined, actor, now) : null;
  const next = revoked ? revoked.purchase : { ...withRefund, updatedAt: at, version: purchase.version + 1 };
  return { purchase: next, history: [...history, ...(revoked?.history ?? [])] };
}
