import {
  CANCEL_FROM,
  type CancelRequest,
  cancel,
  PAUSE_FROM,
  pause,
  planCancellation,
  STOP_FROM,
  stopCancellation,
  UNPAUSE_FROM,
  unpause,
} from '../domain/billing.ts';
import type { Actor, Instant, Purchase, PurchaseChange, PurchaseStatus } from '../domain/types.ts';
import type { BillingProcessor } from '../ports/processor.ts';
import type { Dependencies } from './deps.ts';
import { loadPurchase } from './load.ts';
import { retryOnConflict } from './retry.ts';
import { syncTimers } from './timers.ts';
import { type PurchaseView, purchaseView } from './views.ts';

const MAX_ATTEMPTS = 5;

/**
 * The shape every billing command shares: read, decide with a pure transition (which throws a named error
 * when refused), act at the processor first (a processor failure changes nothing here), write conditioned
 * on the version and the from-statuses, then move the timers. The idempotency key is derived from the
 * purchase, the version the decision was made on and the command, so a retry never acts twice.
 */
async function billingCommand(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  command: string,
  from: readonly PurchaseStatus[],
  decide: (purchase: Purchase) => PurchaseChange,
  act: (processor: BillingProcessor, purchase: Purchase, change: PurchaseChange, key: string) => Promise<void>,
): Promise<PurchaseView> {
  const { current, change } = await retryOnConflict(
    async () => {
      const current = await loadPurchase(deps, siteId, purchaseId);
      const change = decide(current);
      const key = `${purchaseId}:${current.version}:${command}`;
      await act(deps.processors[current.processor], current, change, key);
      await deps.purchases.savePurchase(change, current.version, { allowedFrom: from });
      return { current, change };
    },
    { attempts: MAX_ATTEMPTS },
  );
  await syncTimers(deps.scheduler, current, change.purchase);
  return purchaseView(change.purchase);
}

/** Rule 4: what a cancellation would charge and when access would end; changes nothing. */
export async function previewCancellation(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  request: CancelRequest,
  now: Date,
) {
  const purchase = await loadPurchase(deps, siteId, purchaseId);
  const plan = planCancellation(purchase, request, now);
  return { accessEndsAt: plan.effectiveAt, charges: plan.charges };
}

export function cancelPayments(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  request: CancelRequest,
  actor: Actor,
  now: Date,
) {
  return billingCommand(
    deps,
    siteId,
    purchaseId,
    `cancel-${request.when}-${request.date ?? ''}`,
    CANCEL_FROM,
    (purchase) => cancel(purchase, request, actor, now),
    (processor, purchase, change, key) =>
      request.when === 'now'
        ? processor.cancelNow(purchase, key)
        : processor.scheduleCancellation(purchase, request.when, change.purchase.cancellation!.effectiveAt, key),
  );
}

export function stopPendingCancellation(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  actor: Actor,
  now: Date,
) {
  return billingCommand(
    deps,
    siteId,
    purchaseId,
    'stop-cancellation',
    STOP_FROM,
    (purchase) => stopCancellation(purchase, actor, now),
    (processor, purchase, _change, key) => processor.stopCancellation(purchase, key),
  );
}

export function pauseBilling(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  resumesAt: Instant | null,
  actor: Actor,
  now: Date,
) {
  return billingCommand(
    deps,
    siteId,
    purchaseId,
    `pause-${resumesAt ?? ''}`,
    PAUSE_FROM,
    (purchase) => pause(purchase, resumesAt, actor, now),
    (processor, purchase, _change, key) => processor.pause(purchase, resumesAt, key),
  );
}

export function unpauseBilling(deps: Dependencies, siteId: string, purchaseId: string, actor: Actor, now: Date) {
  return billingCommand(
    deps,
    siteId,
    purchaseId,
    'unpause',
    UNPAUSE_FROM,
    (purchase) => unpause(purchase, actor, now),
    (processor, purchase, _change, key) => processor.unpause(purchase, key),
  );
}

export async function listSubscriptions(
  deps: Dependencies,
  siteId: string,
  filter: { status?: PurchaseStatus | undefined; offerId?: string | undefined },
  limit: number,
  cursor: string | null,
) {
  const page = await deps.purchases.listSubscriptions(siteId, filter, limit, cursor);
  return { items: page.items.map(purchaseView), nextCursor: page.nextCursor };
}
