import * as z from 'zod';
import { id, instant } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import { log } from '#shared/log.ts';
import { recordTimerLateness } from '#shared/metrics.ts';
import { type ObservedHandler, observed } from '#shared/observability.ts';
import { type TimerEvent, timerName } from '#shared/ports/scheduler.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';
import { type DueRun, runDueActions } from '#shared/usecases/timers.ts';

const timerEvent = z
  .object({
    siteId: id,
    purchaseId: id,
    purpose: z.enum(['cancellation', 'access_period', 'pause_end']),
    dueAt: instant,
  })
  .strict();

/** Scheduler may deliver up to a second early against our clock; never more than this is trusted. */
const MAX_EARLY_MS = 5_000;

/**
 * Target of the one-time schedules. The state decides, not the timer: a stale or duplicate delivery does
 * nothing. A malformed event throws, so Scheduler retries it and then parks it in the dead-letter queue.
 * How late each timer ran is a metric: Scheduler's delivery is the only part of a timed change we do not run.
 */
export function createTimerHandler(
  deps: Pick<Dependencies, 'purchases' | 'scheduler' | 'clock' | 'processors' | 'catalog'>,
): ObservedHandler<unknown, DueRun> {
  return observed('timer', async (event: unknown) => {
    const timer: TimerEvent = parseInput(timerEvent, event, 'event');
    log.appendKeys({ siteId: timer.siteId, purchaseId: timer.purchaseId, timer: timerName(timer) });
    const clockNow = deps.clock();
    const early = Date.parse(timer.dueAt) - clockNow.getTime();
    const now = early > 0 && early <= MAX_EARLY_MS ? new Date(timer.dueAt) : clockNow;
    recordTimerLateness(timer.purpose, Math.max(0, -early));
    const result = await runDueActions(deps, timer.siteId, timer.purchaseId, now);
    log.info('timer fired', { purpose: timer.purpose, dueAt: timer.dueAt, applied: result.applied });
    return result;
  });
}
