import type { Clock } from '../domain/time.ts';
import type { ProcessorRegistry } from '../ports/processor.ts';
import type { TimerScheduler } from '../ports/scheduler.ts';
import type { Stores } from '../ports/stores.ts';

export type { Stores };

/** What use cases receive: the stores, the ports and the clock. Wired in shared/wiring.ts (AWS) and infra/local. */
export interface Dependencies extends Stores {
  clock: Clock;
  newId: (prefix: string) => string;
  scheduler: TimerScheduler;
  processors: ProcessorRegistry;
}
