import { applyDueActions, pendingActions } from '../domain/billing.ts';
import type { Purchase } from '../domain/types.ts';
import { describeError, log } from '../log.ts';
import type { TimerScheduler } from '../ports/scheduler.ts';
import type { Dependencies } from './deps.ts';
import { loadPurchase } from './load.ts';
import { withBillingAccount } from './processor-account.ts';
import { retryOnConflict } from './retry.ts';

/**
 * Makes the scheduler match the timed actions `after` waits for: new or moved ones are upserted, ones that
 * no longer apply are removed. A failure here is logged, not thrown: the state is already written and its
 * due index lets the sweeper apply anything a missing timer would have done.
 */
export async function syncTimers(scheduler: TimerScheduler, before: Purchase | null, after: Purchase): Promise<void> {
  const previous = new Map((before ? pendingActions(before) : []).map((action) => [action.purpose, action.at]));
  const wanted = new Map(pendingActions(after).map((action) => [action.purpose, action.at]));
  const ids = { siteId: after.siteId, purchaseId: after.purchaseId };
  const calls: Promise<void>[] = [];
  for (const [purpose, at] of wanted) {
    if (previous.get(purpose) !== at) calls.push(scheduler.upsert({ ...ids, purpose, dueAt: at }));
  }
  for (const purpose of previous.keys()) {
    if (!wanted.has(purpose)) calls.push(scheduler.remove({ ...ids, purpose }));
  }
  const results = await Promise.allSettled(calls);
  for (const result of results) {
    if (result.status === 'rejected') {
      log.error('timer sync failed; the sweeper will apply the due action', {
        purchaseId: after.purchaseId,
        error: describeError(result.reason),
      });
    }
  }
}

export interface DueRun {
  purchaseId: string;
  applied: string[];
}

/**
 * Use case card: a timer fired, or the sweeper found something overdue (rules 4, 7, 10, 14).
 * Re-reads the purchase and applies whatever its own state says is due at `now`; a stale or duplicate
 * timer therefore does nothing. Then re-arms the timers the new state still waits for.
 */
export async function runDueActions(
  deps: Pick<Dependencies, 'purchases' | 'scheduler' | 'processors' | 'catalog'>,
  siteId: string,
  purchaseId: string,
  now: Date,
): Promise<DueRun> {
  const result = await retryOnConflict(async () => {
    const before = await loadPurchase(deps, siteId, purchaseId);
    const change = applyDueActions(before, now);
    if (!change) return null;
    const applied = change.history.map((entry) => entry.type);
    // A processor that cannot schedule a cancellation (PayPal) is told now, when it takes effect;
    // unless it stopped billing itself. Its idempotency key makes a retried timer harmless.
    const processor = deps.processors[before.processor];
    if (
      applied.includes('cancellation.effective') &&
      !processor.schedulesCancellation &&
      !before.cancellation?.billingStopped
    ) {
      await processor.cancelNow(await withBillingAccount(deps, before), `${purchaseId}:cancellation-effective`);
    }
    // Likewise a pause that ends by itself: PayPal must be told to bill again.
    if (applied.includes('billing.unpaused') && !processor.schedulesCancellation) {
      await processor.unpause(await withBillingAccount(deps, before), `${purchaseId}:${before.version}:pause-ended`);
    }
    await deps.purchases.savePurchase(change, before.version, { before });
    return { before, change, applied };
  });
  if (!result) return { purchaseId, applied: [] };
  await syncTimers(deps.scheduler, result.before, result.change.purchase);
  return { purchaseId, applied: result.applied };
}
