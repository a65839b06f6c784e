import { ConcurrentModificationError } from '../domain/errors.ts';

/**
 * Optimistic concurrency, in one place: `attempt` reads, decides and writes conditioned on what it read;
 * when another writer won the race (ConcurrentModificationError, or what `retryable` names) it runs again
 * on the fresh state after a short jittered pause, at most `attempts` times. The attempt number (from 1)
 * lets a caller skip a read it already made.
 */
export async function retryOnConflict<T>(
  attempt: (n: number) => Promise<T>,
  options: { attempts?: number; retryable?: (error: unknown) => boolean } = {},
): Promise<T> {
  const attempts = options.attempts ?? 8;
  const retryable = options.retryable ?? ((error: unknown) => error instanceof ConcurrentModificationError);
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!retryable(error) || n >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * n));
    }
  }
}
