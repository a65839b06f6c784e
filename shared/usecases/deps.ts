import type { Clock } from '../domain/time.ts';
import type { Store } from '../store/store.ts';

/** What use cases receive. Adapters are wired in shared/wiring.ts; tests pass their own. */
export interface Dependencies {
  store: Store;
  clock: Clock;
  newId: (prefix: string) => string;
}
