import type { Clock } from '../../shared/domain/time.ts';
import { type TimerEvent, type TimerScheduler, timerName } from '../../shared/ports/scheduler.ts';
import type { LocalSchedule, LocalScheduleStore } from './schedule-store.ts';

/** Like Scheduler's retry policy: back off, then give up into a dead-letter list. */
const RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000];
/** setTimeout cannot wait longer than ~24.8 days; far timers re-arm hourly. */
const MAX_ARM_MS = 3_600_000;

export interface FiredTimer {
  name: string;
  timer: TimerEvent;
  firedAt: string;
  lateMs: number;
  attempts: number;
  ok: boolean;
  error?: string;
}

/**
 * The local stand-in for EventBridge Scheduler. Schedules live in DynamoDB Local (so they survive a
 * restart with DATA_DIR) and in-process timers fire the same timer handler the Lambda runs, at or just
 * after the due instant. `start()` fires whatever came due while the runtime was down. Like the real
 * one-time schedules: upserting the same name twice keeps one timer, a completed timer deletes itself,
 * and failures are retried, then dead-lettered.
 */
export class LocalScheduler implements TimerScheduler {
  private readonly armed = new Map<string, NodeJS.Timeout>();
  private readonly generation = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  readonly fired: FiredTimer[] = [];
  readonly deadLetters: FiredTimer[] = [];

  constructor(
    private readonly schedules: LocalScheduleStore,
    private readonly clock: Clock,
    private target: (timer: TimerEvent) => Promise<unknown> = async () => undefined,
  ) {}

  /** Connects the timer function; separate from the constructor because the function needs this scheduler. */
  setTarget(target: (timer: TimerEvent) => Promise<unknown>) {
    this.target = target;
  }

  async upsert(timer: TimerEvent): Promise<void> {
    const name = timerName(timer);
    await this.schedules.put({ name, timer });
    this.arm(name, timer);
  }

  async remove(timer: Omit<TimerEvent, 'dueAt'>): Promise<void> {
    const name = timerName(timer);
    this.disarm(name);
    await this.schedules.delete(name);
  }

  /** The timers as persisted in DynamoDB Local (what a restart would re-arm). */
  persisted(): Promise<LocalSchedule[]> {
    return this.schedules.list();
  }

  /** Loads persisted schedules: overdue ones fire now, the rest are armed. */
  async start(): Promise<number> {
    const schedules = await this.schedules.list();
    for (const { name, timer } of schedules) this.arm(name, timer);
    return schedules.length;
  }

  /** Disarms every timer and waits for the ones already firing, so their writes are not cut off. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const handle of this.armed.values()) clearTimeout(handle);
    this.armed.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  pending(): string[] {
    return [...this.armed.keys()];
  }

  private disarm(name: string) {
    const handle = this.armed.get(name);
    if (handle) clearTimeout(handle);
    this.armed.delete(name);
    this.generation.set(name, (this.generation.get(name) ?? 0) + 1);
  }

  private arm(name: string, timer: TimerEvent) {
    if (this.stopped) return;
    this.disarm(name);
    const generation = this.generation.get(name)!;
    const delay = Date.parse(timer.dueAt) - this.clock().getTime();
    const handle = setTimeout(
      () => {
        if (this.generation.get(name) !== generation) return;
        if (delay > MAX_ARM_MS) this.arm(name, timer);
        else {
          const firing = this.fire(name, timer, generation);
          this.inFlight.add(firing);
          void firing.finally(() => this.inFlight.delete(firing));
        }
      },
      Math.max(0, Math.min(delay, MAX_ARM_MS)),
    );
    handle.unref?.();
    this.armed.set(name, handle);
  }

  private async fire(name: string, timer: TimerEvent, generation: number) {
    this.armed.delete(name);
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await this.target(timer);
        this.record(name, timer, attempts, true);
        // ActionAfterCompletion: DELETE — unless the timer was moved while it ran.
        if (this.generation.get(name) === generation) await this.schedules.delete(name);
        return;
      } catch (error) {
        const delay = RETRY_DELAYS_MS[attempts - 1];
        if (delay === undefined || this.stopped) {
          const record = this.record(name, timer, attempts, false, String(error));
          this.deadLetters.push(record);
          console.error(JSON.stringify({ level: 'ERROR', message: 'timer dead-lettered', name, error: String(error) }));
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (this.generation.get(name) !== generation) return;
      }
    }
  }

  private record(name: string, timer: TimerEvent, attempts: number, ok: boolean, error?: string): FiredTimer {
    const now = this.clock();
    const record: FiredTimer = {
      name,
      timer,
      firedAt: now.toISOString(),
      lateMs: now.getTime() - Date.parse(timer.dueAt),
      attempts,
      ok,
      ...(error ? { error } : {}),
    };
    this.fired.push(record);
    if (this.fired.length > 1000) this.fired.shift();
    return record;
  }
}
