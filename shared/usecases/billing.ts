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
import { isDayInput } from '../domain/local-time.ts';
import type { Actor, Instant, LocalDate, Purchase, PurchaseChange, PurchaseStatus } from '../domain/types.ts';
import type { BillingProcessor } from '../ports/processor.ts';
import type { Dependencies } from './deps.ts';
import { loadPurchase } from './load.ts';
import { withBillingAccount } from './processor-account.ts';
import { retryOnConflict } from './retry.ts';
import { syncTimers } from './timers.ts';
import { type PurchaseView, purchaseView } from './views.ts';

const MAX_ATTEMPTS = 5;

/**
 * The site's time zone when a date input is a day (rule 15); an instant needs none, so the common case
 * costs no extra read.
 */
async function timezoneFor(deps: Pick<Dependencies, 'catalog'>, siteId: string, date: string | null | undefined) {
  return isDayInput(date) ? (await deps.catalog.getSettings(siteId)).timezone : undefined;
}

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
      await act(deps.processors[current.processor], await withBillingAccount(deps, current), change, key);
      await deps.purchases.savePurchase(change, current.version, { allowedFrom: from, before: current });
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
  const [purchase, timezone] = await Promise.all([
    loadPurchase(deps, siteId, purchaseId),
    timezoneFor(deps, siteId, request.date),
  ]);
  const plan = planCancellation(purchase, { ...request, timezone }, now);
  return {
    accessEndsAt: plan.effectiveAt,
    ...(plan.localDay ? { localDay: plan.localDay } : {}),
    charges: plan.charges,
  };
}

export async function cancelPayments(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  request: CancelRequest,
  actor: Actor,
  now: Date,
) {
  const timezone = await timezoneFor(deps, siteId, request.date);
  return billingCommand(
    deps,
    siteId,
    purchaseId,
    `cancel-${request.when}-${request.date ?? ''}`,
    CANCEL_FROM,
    (purchase) => cancel(purchase, { ...request, timezone }, actor, now),
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

/** `resumesAt`: an instant, or a day meaning paused through the end of that day in the site's time zone. */
export async function pauseBilling(
  deps: Dependencies,
  siteId: string,
  purchaseId: string,
  resumesAt: Instant | LocalDate | null,
  actor: Actor,
  now: Date,
) {
  const timezone = await timezoneFor(deps, siteId, resumesAt);
  return billingCommand(
    deps,
    siteId,
    purchaseId,
    `pause-${resumesAt ?? ''}`,
    PAUSE_FROM,
    (purchase) => pause(purchase, resumesAt, actor, now, timezone),
    (processor, purchase, change, key) => processor.pause(purchase, change.purchase.pause?.resumesAt ?? null, key),
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
