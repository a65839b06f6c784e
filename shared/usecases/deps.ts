import type { Clock } from '../domain/time.ts';
import type { ProcessorRegistry } from '../ports/processor.ts';
import type { TimerScheduler } from '../ports/scheduler.ts';
import type { Store } from '../store/store.ts';

/** What use cases receive: the store, the ports and the clock. Wired in shared/wiring.ts (AWS) and infra/local. */
export interface Dependencies {
  store: Store;
  clock: Clock;
  newId: (prefix: string) => string;
  scheduler: TimerScheduler;
  processors: ProcessorRegistry;
}
