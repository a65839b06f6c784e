import { describeError, log } from '#shared/log.ts';
import { type ObservedHandler, observed } from '#shared/observability.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';
import { runDueActions } from '#shared/usecases/timers.ts';

export interface SweepSummary {
  /** Due entries read (a purchase with two overdue actions counts twice). */
  due: number;
  applied: number;
  failed: number;
  /** Pages of the due index read; the run stops early (and the next one carries on) past its time budget. */
  pages: number;
}

export interface SweeperOptions {
  /** Entries per page of the due index. */
  pageSize?: number;
  /** Stop reading further pages after this long, leaving time to finish within the Lambda timeout (120 s). */
  budgetMs?: number;
}

/**
 * Runs every few minutes (an EventBridge rule on AWS, an interval locally) and applies whatever is overdue,
 * so that a lost or failed timer costs minutes of explicit state, never access: access checks are exact
 * anyway (rule 14). It reads the due index page by page (every shard of every hour of the lookback), and
 * for each entry re-reads the purchase and applies only what its state says is due (`runDueActions`): an
 * entry whose action was applied meanwhile does nothing, and one purchase failing does not stop the others.
 */
export function createSweeperHandler(
  deps: Pick<Dependencies, 'purchases' | 'scheduler' | 'clock' | 'processors' | 'catalog'>,
  options: SweeperOptions = {},
): ObservedHandler<unknown, SweepSummary> {
  const pageSize = options.pageSize ?? 200;
  const budgetMs = options.budgetMs ?? 90_000;
  return observed('sweeper', async () => {
    const now = deps.clock();
    const started = performance.now();
    const seen = new Set<string>();
    const summary: SweepSummary = { due: 0, applied: 0, failed: 0, pages: 0 };
    let cursor: string | null = null;
    do {
      const page = await deps.purchases.listDue(now, { limit: pageSize, cursor });
      summary.pages++;
      summary.due += page.items.length;
      for (const item of page.items) {
        // Several overdue actions of one purchase are applied by its first run; the rest would re-read for nothing.
        const id = JSON.stringify([item.siteId, item.purchaseId]);
        if (seen.has(id)) continue;
        seen.add(id);
        try {
          const result = await runDueActions(deps, item.siteId, item.purchaseId, now);
          if (result.applied.length > 0) summary.applied++;
        } catch (error) {
          summary.failed++;
          log.error('sweep failed', { siteId: item.siteId, purchaseId: item.purchaseId, error: describeError(error) });
        }
      }
      cursor = page.nextCursor;
    } while (cursor !== null && performance.now() - started < budgetMs);
    if (cursor !== null) log.warn('sweep stopped at its time budget; the next run carries on', { ...summary });
    else if (summary.due > 0) log.info('sweep', { ...summary });
    return summary;
  });
}
