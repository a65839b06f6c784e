/**
 * `load` run once, on the first call, and its result shared by every later call: how a function defers
 * what only some requests need (an SDK, a secret) until one of them arrives. A failed load is forgotten, so
 * the next call tries again instead of failing for the rest of the container's life.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}
