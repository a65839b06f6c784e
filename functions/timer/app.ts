import * as z from 'zod';
import { id, instant } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import { log } from '#shared/log.ts';
import type { TimerEvent } from '#shared/ports/scheduler.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';
import { runDueActions } from '#shared/usecases/timers.ts';

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
 */
export function createTimerHandler(deps: Pick<Dependencies, 'purchases' | 'scheduler' | 'clock' | 'processors'>) {
  return async (event: unknown) => {
    const timer: TimerEvent = parseInput(timerEvent, event, 'event');
    const clockNow = deps.clock();
    const early = Date.parse(timer.dueAt) - clockNow.getTime();
    const now = early > 0 && early <= MAX_EARLY_MS ? new Date(timer.dueAt) : clockNow;
    const result = await runDueActions(deps, timer.siteId, timer.purchaseId, now);
    log.info('timer fired', { ...timer, applied: result.applied });
    return result;
  };
}
