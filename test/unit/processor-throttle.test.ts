import { describe, expect, it } from '@jest/globals';
import {
  createProcessorThrottle,
  deploymentReadRate,
  PUBLISHED_READ_LIMITS,
  perWorkerRate,
  retryRateLimited,
  type ThrottleTime,
  TokenBucket,
} from '../../shared/adapters/processor-throttle.ts';
import { ProcessorError, retryAfterMs } from '../../shared/ports/processor.ts';

/** A clock that only moves when someone sleeps: what each wait was, and when each call ran. */
class FakeTime implements ThrottleTime {
  at = 0;
  readonly sleeps: number[] = [];
  now = () => this.at;
  sleep = async (ms: number) => {
    this.sleeps.push(ms);
    this.at += ms;
  };
}

const tooMany = (retryAfter: number | null = null) =>
  new ProcessorError('stripe', 'rate limited', 429, { code: 'rate_limit', param: null }, retryAfter);

describe('TokenBucket', () => {
  it('lets a burst through, then paces to the rate: 100 reads at 25/s take ~3 s after the first second', async () => {
    const time = new FakeTime();
    const bucket = new TokenBucket(25, 25, time);
    const startedAt: number[] = [];
    for (let i = 0; i < 100; i++) {
      await bucket.take();
      startedAt.push(time.now());
    }
    expect(startedAt.slice(0, 25).every((at) => at === 0)).toBe(true);
    expect(startedAt[99]).toBeGreaterThanOrEqual(3_000);
    expect(startedAt[99]).toBeLessThanOrEqual(3_100);
    // In no second window are there more than the rate plus the burst.
    for (let from = 0; from < 3_000; from += 100) {
      expect(startedAt.filter((at) => at >= from + 1 && at < from + 1_001).length).toBeLessThanOrEqual(26);
    }
  });

  it('refills while idle, never beyond the burst', async () => {
    const time = new FakeTime();
    const bucket = new TokenBucket(10, 2, time);
    await bucket.take();
    await bucket.take();
    time.at += 60_000;
    await bucket.take();
    await bucket.take();
    expect(time.sleeps).toEqual([]);
    await bucket.take();
    expect(time.sleeps).toEqual([100]);
  });

  it('gives concurrent takers distinct tokens (each waits longer than the one before)', async () => {
    const time: ThrottleTime & { waits: number[] } = {
      waits: [],
      now: () => 0,
      sleep: async (ms) => {
        time.waits.push(ms);
      },
    };
    const bucket = new TokenBucket(5, 1, time);
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    expect(time.waits).toEqual([200, 400]);
  });
});

describe('retryRateLimited', () => {
  it('waits what Retry-After says, then succeeds', async () => {
    const time = new FakeTime();
    let calls = 0;
    const result = await retryRateLimited(async () => {
      calls += 1;
      if (calls < 3) throw tooMany(2_000);
      return 'ok';
    }, time);
    expect(result).toBe('ok');
    expect(time.sleeps).toEqual([2_000, 2_000]);
  });

  it('backs off exponentially (full jitter, capped) without Retry-After, and gives up after maxAttempts', async () => {
    const time = new FakeTime();
    let calls = 0;
    const attempt = retryRateLimited(
      async () => {
        calls += 1;
        throw tooMany();
      },
      time,
      { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 500, random: () => 1 },
    );
    await expect(attempt).rejects.toThrow('rate limited');
    expect(calls).toBe(5);
    expect(time.sleeps).toEqual([100, 200, 400, 500]);
  });

  it('does not retry other errors', async () => {
    const time = new FakeTime();
    let calls = 0;
    await expect(
      retryRateLimited(async () => {
        calls += 1;
        throw new ProcessorError('stripe', 'no such subscription', 404);
      }, time),
    ).rejects.toThrow('no such subscription');
    expect(calls).toBe(1);
    expect(time.sleeps).toEqual([]);
  });
});

describe('the processors’ limits', () => {
  it('reads Stripe at its test-mode limit with a test key, its live limit with a live key; PayPal at 10/s', () => {
    expect(deploymentReadRate('stripe', 'sk_test_abc')).toBe(PUBLISHED_READ_LIMITS.stripeTest);
    expect(deploymentReadRate('native', 'sk_live_abc')).toBe(PUBLISHED_READ_LIMITS.stripeLive);
    expect(deploymentReadRate('stripe', 'rk_live_abc')).toBe(100);
    expect(deploymentReadRate('paypal', null)).toBe(10);
  });

  it('shares the deployment’s budget among concurrent workers', () => {
    expect(perWorkerRate(25, 2)).toBe(12);
    expect(perWorkerRate(100, 2)).toBe(50);
    expect(perWorkerRate(1, 5)).toBe(1);
  });

  it('paces stripe and native through one bucket and paypal through its own, retrying 429s', async () => {
    const time = new FakeTime();
    const throttle = createProcessorThrottle((processor) => (processor === 'paypal' ? 1 : 2), time);
    for (const processor of ['stripe', 'native', 'stripe'] as const) await throttle.read(processor, async () => null);
    expect(time.sleeps).toEqual([500]);
    await throttle.read('paypal', async () => null);
    expect(time.sleeps).toEqual([500]);
    let calls = 0;
    await throttle.read('paypal', async () => {
      calls += 1;
      if (calls === 1) throw new ProcessorError('paypal', 'RATE_LIMIT_REACHED', 429, undefined, 3_000);
      return null;
    });
    expect(calls).toBe(2);
    expect(time.sleeps).toContain(3_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3_000);
    expect(retryAfterMs('Thu, 01 Jan 1970 00:00:10 GMT', 4_000)).toBe(6_000);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
  });
});
