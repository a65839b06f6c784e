import { describeError, log } from '#shared/log.ts';
import { type ObservedHandler, observed } from '#shared/observability.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';
import { runDueActions } from '#shared/usecases/timers.ts';

export interface SweepSummary {
  due: number;
  applied: number;
  failed: number;
}

/**
 * Runs every few minutes (an EventBridge rule on AWS, an interval locally) and applies whatever is overdue,
 * so that a lost or failed timer costs minutes of explicit state, never access: access checks are exact
 * anyway (rule 14). One purchase failing does not stop the others.
 */
export function createSweeperHandler(
  deps: Pick<Dependencies, 'purchases' | 'scheduler' | 'clock' | 'processors' | 'catalog'>,
): ObservedHandler<unknown, SweepSummary> {
  return observed('sweeper', async () => {
    const now = deps.clock();
    const due = await deps.purchases.listDue(now);
    let applied = 0;
    let failed = 0;
    for (const item of due) {
      try {
        const result = await runDueActions(deps, item.siteId, item.purchaseId, now);
        if (result.applied.length > 0) applied++;
      } catch (error) {
        failed++;
        log.error('sweep failed', { siteId: item.siteId, purchaseId: item.purchaseId, error: describeError(error) });
      }
    }
    const summary = { due: due.length, applied, failed };
    if (due.length > 0) log.info('sweep', summary);
    return summary;
  });
}
