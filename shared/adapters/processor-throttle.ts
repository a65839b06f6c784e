import type { Processor } from '../domain/types.ts';
import { ProcessorError, type ProcessorThrottle } from '../ports/processor.ts';

/**
 * Pacing of the reconciliation's reads at the processors (DESIGN.md §2.1, §6): a token bucket per processor
 * that keeps reads under the processor's published limit, and a retry of 429 answers with exponential
 * backoff that honours `Retry-After`.
 *
 * Limits (per second, for the whole deployment):
 * - Stripe: 100 read requests/s in live mode, 25/s in test mode (Stripe's "Rate limits" page). Test mode is
 *   told by the secret key (`sk_test_…`, `rk_test_…`).
 * - PayPal publishes no fixed number (it answers 429 `RATE_LIMIT_REACHED` when a client exceeds what it
 *   allows); membergate reads at most 10/s, well under what PayPal's partner integrations are held to, and
 *   backs off on a 429 as for Stripe.
 * The worker runs at most `RECONCILIATION_WORKER_MAX_CONCURRENCY` pages at once, each with its own bucket, so a
 * bucket's rate is the deployment's budget divided by that concurrency (`perWorkerRate`).
 */
export const PUBLISHED_READ_LIMITS = { stripeLive: 100, stripeTest: 25, paypal: 10 } as const;

/** Reads per second the deployment allows itself for `processor` (`native` is Stripe on the platform's key). */
export function deploymentReadRate(processor: Processor, stripeSecretKey: string | null): number {
  if (processor === 'paypal') return PUBLISHED_READ_LIMITS.paypal;
  if (processor === 'none') return Number.POSITIVE_INFINITY;
  const test = !stripeSecretKey || /^(sk|rk)_test_/.test(stripeSecretKey);
  return test ? PUBLISHED_READ_LIMITS.stripeTest : PUBLISHED_READ_LIMITS.stripeLive;
}

/** One worker's share of a deployment-wide rate: never more than the whole, never below one read a second. */
export function perWorkerRate(deploymentRate: number, workers: number): number {
  if (!Number.isFinite(deploymentRate)) return deploymentRate;
  return Math.max(1, Math.floor(deploymentRate / Math.max(1, workers)));
}

export interface ThrottleTime {
  /** Milliseconds, monotonic enough for pacing. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTime: ThrottleTime = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. `take()` resolves when a token is
 * available; callers queue in order (each reserves the next token, so concurrent takers never share one).
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly time: ThrottleTime = realTime,
  ) {
    if (!(ratePerSecond > 0)) throw new Error('TokenBucket: ratePerSecond must be positive');
    this.tokens = burst;
    this.updatedAt = time.now();
  }

  async take(): Promise<void> {
    if (!Number.isFinite(this.ratePerSecond)) return;
    const now = this.time.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.ratePerSecond) / 1000);
    this.updatedAt = now;
    // Reserve a token now (the balance may go negative): the wait is how long until it is earned.
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    await this.time.sleep(Math.ceil((-this.tokens * 1000) / this.ratePerSecond));
  }
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The first backoff; doubled each retry, capped at `maxDelayMs`, with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Whether the processor said "too many requests". */
export function isRateLimited(error: unknown): error is ProcessorError {
  return error instanceof ProcessorError && error.status === 429;
}

/**
 * `action` retried on 429: waits `Retry-After` when the processor sent it, else an exponential backoff with
 * full jitter; any other error, or the last attempt's 429, is thrown as is.
 */
export async function retryRateLimited<T>(
  action: () => Promise<T>,
  time: ThrottleTime = realTime,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (!isRateLimited(error) || attempt >= policy.maxAttempts) throw error;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const wait = error.retryAfterMs ?? Math.round(backoff * random());
      await time.sleep(Math.min(policy.maxDelayMs, wait));
    }
  }
}

export type { ProcessorThrottle };

/** A throttle with one bucket per processor at `rates` reads/s (burst: one second's worth). */
export function createProcessorThrottle(
  rates: (processor: Processor) => number,
  time: ThrottleTime = realTime,
  policy: RetryPolicy = DEFAULT_RETRY,
): ProcessorThrottle {
  const buckets = new Map<string, TokenBucket>();
  // Stripe and native share a budget when they share a key: keyed by the rate's processor family.
  const family = (processor: Processor) => (processor === 'native' ? 'stripe' : processor);
  const bucket = (processor: Processor) => {
    const name = family(processor);
    let found = buckets.get(name);
    if (!found) {
      const rate = rates(processor);
      found = new TokenBucket(rate, Number.isFinite(rate) ? Math.max(1, rate) : 1, time);
      buckets.set(name, found);
    }
    return found;
  };
  return {
    read: (processor, action) =>
      retryRateLimited(
        async () => {
          await bucket(processor).take();
          return action();
        },
        time,
        policy,
      ),
  };
}
