import { createHash } from 'node:crypto';
import type { TimerPurpose } from '../domain/billing.ts';
import type { Instant } from '../domain/types.ts';

/** What a timer delivers to the timer function when it fires. */
export interface TimerEvent {
  siteId: string;
  purchaseId: string;
  purpose: TimerPurpose;
  dueAt: Instant;
}

/**
 * Port for one-time timers, one per purchase and purpose. AWS: EventBridge Scheduler `at()` schedules
 * (infra adapter in shared/adapters/eventbridge-scheduler.ts); locally: infra/local/scheduler.ts.
 * Both calls are idempotent: the same upsert twice, or removing a timer that is gone, is not an error.
 */
export interface TimerScheduler {
  /** Creates the timer, or moves it when it exists. */
  upsert(timer: TimerEvent): Promise<void>;
  remove(timer: Omit<TimerEvent, 'dueAt'>): Promise<void>;
}

/**
 * Deterministic, within Scheduler's 64-character limit and alphabet whatever the ids look like:
 * `mg-<purpose>-<sha256(site/purchase) prefix>`.
 */
export function timerName(timer: Pick<TimerEvent, 'siteId' | 'purchaseId' | 'purpose'>): string {
  const digest = createHash('sha256').update(`${timer.siteId}/${timer.purchaseId}`).digest('hex').slice(0, 40);
  return `mg-${timer.purpose.replace('_', '-')}-${digest}`;
}
