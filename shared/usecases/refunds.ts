import { IdempotencyKeyReusedError } from '../domain/errors.ts';
import { fingerprintOf, type IdempotencyRecord } from '../domain/idempotency.ts';
import { checkRefund, recordRefund } from '../domain/refunds.ts';
import { toInstant } from '../domain/time.ts';
import type { Actor, Purchase } from '../domain/types.ts';
import type { Dependencies } from './deps.ts';
import { loadPurchase } from './load.ts';
import { withBillingAccount } from './processor-account.ts';
import { retryOnConflict } from './retry.ts';
import { syncTimers } from './timers.ts';
import { type PurchaseView, purchaseView } from './views.ts';

export interface RefundInput {
  amount: number | null;
  revokeAccess: boolean;
  idempotencyKey: string | null;
}

/** The answer to a refund request: the first answer again when an Idempotency-Key replays it. */
export interface RefundResult {
  statusCode: number;
  body: PurchaseView;
  replayed: boolean;
}

const SCOPE = 'refund';

/**
 * Use case card: refund (rule 12). Full (what is left of the last payment) when `amount` is absent, partial
 * otherwise, checked against the payment the processor says the refund applies to, then made through the
 * processor (a failure changes nothing); `revokeAccess` also revokes every product.
 * With an Idempotency-Key: the key is claimed (pending) before the processor is called, and completed with
 * the answer in the same transaction as the refund, so a retry, or a concurrent request with the same key,
 * records nothing more and answers what the first got; the key with other parameters is refused (422)
 * before the processor is called. The processor's own idempotency key derives from it, so money moves once.
 */
export async function refundPurchase(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  input: RefundInput,
  actor: Actor,
  now: Date,
): Promise<RefundResult> {
  const first = await loadPurchase(deps, siteId, purchaseId);
  const claim: IdempotencyRecord | null = input.idempotencyKey
    ? {
        siteId,
        purchaseId,
        scope: SCOPE,
        key: input.idempotencyKey,
        fingerprint: fingerprintOf({ amount: input.amount, revokeAccess: input.revokeAccess }),
        status: 'pending',
        response: null,
        createdAt: toInstant(now),
      }
    : null;
  if (claim) {
    const earlier = await deps.idempotency.getIdempotencyRecord(siteId, purchaseId, SCOPE, claim.key);
    const replay = earlier && replayOf(earlier, claim);
    if (replay) return replay;
  }

  const processor = deps.processors[first.processor];
  const billed = await withBillingAccount(deps, first);
  const payment = await processor.paymentToRefund(billed);
  checkRefund(first, payment, input.amount);
  if (claim) {
    const winner = await deps.idempotency.claimIdempotencyKey(claim);
    const replay = winner && replayOf(winner, claim);
    if (replay) return replay;
  }
  const processorKey = claim
    ? `${purchaseId}:refund:${claim.key}`
    : `${purchaseId}:${first.version}:refund:${input.amount ?? 'full'}`;
  const refund = await processor.refund(billed, input.amount, processorKey, payment ?? undefined);
  const refundId = deps.newId('ref');

  // The money has moved: record it even if another request changed the purchase meanwhile, unless a
  // concurrent request with the same key recorded it first (then answer what that one answered).
  let current: Purchase = first;
  const outcome = await retryOnConflict(
    async (attempt): Promise<RefundResult | { change: ReturnType<typeof recordRefund> }> => {
      if (attempt > 1) {
        current = await loadPurchase(deps, siteId, purchaseId);
        const completed = claim && (await deps.idempotency.getIdempotencyRecord(siteId, purchaseId, SCOPE, claim.key));
        const replay = completed && claim && replayOf(completed, claim);
        if (replay) return replay;
      }
      const change = recordRefund(
        current,
        {
          refundId,
          amount: refund.amount,
          currency: refund.currency,
          processorRefundId: refund.processorRefundId,
          paymentId: payment?.paymentId ?? null,
        },
        input.revokeAccess,
        actor,
        now,
      );
      const body = purchaseView(change.purchase);
      const idempotency = claim
        ? // The answer is kept as its JSON text, so a replay is the same bytes (a stored map has no key order).
          { ...claim, status: 'completed' as const, response: { statusCode: 201, body: JSON.stringify(body) } }
        : undefined;
      await deps.purchases.savePurchase(change, current.version, { idempotency, before: current });
      return { change };
    },
  );
  if (!('change' in outcome)) return outcome;
  await syncTimers(deps.scheduler, current, outcome.change.purchase);
  return { statusCode: 201, body: purchaseView(outcome.change.purchase), replayed: false };
}

/**
 * What an earlier request with the same key means for this one: its answer when it completed, nothing (go on,
 * the processor's idempotency key keeps the money safe) while it is pending, a refusal with other parameters.
 */
function replayOf(earlier: IdempotencyRecord, claim: IdempotencyRecord): RefundResult | null {
  if (earlier.fingerprint !== claim.fingerprint) throw new IdempotencyKeyReusedError(claim.key);
  if (earlier.status !== 'completed' || !earlier.response) return null;
  const { statusCode, body } = earlier.response;
  return { statusCode, body: (typeof body === 'string' ? JSON.parse(body) : body) as PurchaseView, replayed: true };
}
