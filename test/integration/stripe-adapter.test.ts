import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { type StripeSandbox, startStripeSandbox } from '../../infra/local/stripe-sandbox.ts';
import { createStripeProcessor, stripeClient } from '../../shared/adapters/stripe.ts';
import type { Purchase } from '../../shared/domain/types.ts';
import { type BillingProcessor, ProcessorError } from '../../shared/ports/processor.ts';
import { aPurchase } from '../unit/fixtures.ts';

// The real Stripe SDK (with its retries, form encoding and headers) against the local sandbox: what leaves
// the adapter is exactly what Stripe would receive. No DynamoDB involved.

let sandbox: StripeSandbox;
let stripe: Stripe;
let processor: BillingProcessor;
let seq = 0;

beforeAll(async () => {
  sandbox = await startStripeSandbox();
  stripe = stripeClient({ secretKey: 'sk_test_local', apiBase: sandbox.url });
  processor = createStripeProcessor({ stripe });
});

afterAll(async () => {
  await sandbox.stop();
});

beforeEach(() => {
  sandbox.setFailure(null);
});

/** A purchase with its own subscription id, so tests never share sandbox state. */
function purchase(overrides: Partial<Purchase> = {}): Purchase {
  seq += 1;
  return aPurchase({
    purchaseId: `purchase-${seq}`,
    processorSubscriptionId: `sub_it${Date.now()}x${seq}`,
    ...overrides,
  });
}

/** The requests recorded while `action` ran. */
async function recorded(action: () => Promise<unknown>) {
  const before = sandbox.requests.length;
  await action();
  return sandbox.requests.slice(before);
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);

describe('stripe adapter against the sandbox', () => {
  it('stripeClient points the SDK at the API base', () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(() => stripeClient({ secretKey: 'sk_test_local', apiBase: 'ftp://example.com' })).toThrow(/http/);
  });

  it('cancelNow: DELETE /v1/subscriptions/:id with the key, one request', async () => {
    const p = purchase();

    const requests = await recorded(() => processor.cancelNow(p, 'key-cancel-now'));

    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: 'DELETE',
      path: `/v1/subscriptions/${p.processorSubscriptionId}`,
      status: 200,
      headers: { authorization: 'Bearer sk_test_local', 'idempotency-key': 'key-cancel-now' },
    });
    expect(requests[0]?.headers['stripe-version']).toBeTruthy();
  });

  it('cancelNow again (a retried command) meets the canceled subscription and succeeds', async () => {
    const p = purchase();
    await processor.cancelNow(p, 'key-first');

    const requests = await recorded(() => processor.cancelNow(p, 'key-first'));

    expect(requests.map((r) => [r.method, r.status])).toEqual([
      ['DELETE', 404],
      ['GET', 200],
    ]);
  });

  it('scheduleCancellation period_end: cancel_at_period_end=true', async () => {
    const p = purchase();

    const requests = await recorded(() =>
      processor.scheduleCancellation(p, 'period_end', '2026-12-01T00:00:00.000Z', 'key-period-end'),
    );

    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: 'POST',
      path: `/v1/subscriptions/${p.processorSubscriptionId}`,
      form: { cancel_at_period_end: 'true' },
      headers: {
        authorization: 'Bearer sk_test_local',
        'idempotency-key': 'key-period-end',
        'content-type': 'application/x-www-form-urlencoded',
      },
      status: 200,
    });
  });

  it('scheduleCancellation date: cancel_at=<unix seconds>', async () => {
    const p = purchase();
    const at = inDays(45);
    at.setUTCMilliseconds(0);

    const requests = await recorded(() => processor.scheduleCancellation(p, 'date', at.toISOString(), 'key-date'));

    expect(requests).toHaveLength(1);
    expect(requests[0]?.form).toEqual({ cancel_at: String(at.getTime() / 1000) });
    expect(requests[0]?.headers['idempotency-key']).toBe('key-date');
  });

  it('stopCancellation clears both with empty values, and Stripe then reports nothing scheduled', async () => {
    const p = purchase();
    const id = p.processorSubscriptionId ?? '';
    await processor.scheduleCancellation(p, 'date', inDays(10).toISOString(), 'key-schedule');

    const requests = await recorded(() => processor.stopCancellation(p, 'key-stop'));

    expect(requests).toHaveLength(1);
    expect(requests[0]?.form).toEqual({ cancel_at_period_end: 'false', cancel_at: '' });
    expect(requests[0]?.headers['idempotency-key']).toBe('key-stop');
    const after = await stripe.subscriptions.retrieve(id);
    expect(after).toMatchObject({ cancel_at: null, cancel_at_period_end: false, status: 'active' });
  });

  it('pause: pause_collection[behavior]=void with resumes_at; unpause: pause_collection cleared', async () => {
    const p = purchase();
    const id = p.processorSubscriptionId ?? '';
    const resumesAt = new Date(Date.UTC(2027, 0, 1));

    const paused = await recorded(() => processor.pause(p, resumesAt.toISOString(), 'key-pause'));
    const unpaused = await recorded(() => processor.unpause(p, 'key-unpause'));

    expect(paused.map((r) => r.form)).toEqual([
      { 'pause_collection[behavior]': 'void', 'pause_collection[resumes_at]': String(resumesAt.getTime() / 1000) },
    ]);
    expect(paused[0]?.headers['idempotency-key']).toBe('key-pause');
    expect(unpaused.map((r) => r.form)).toEqual([{ pause_collection: '' }]);
    expect(unpaused[0]?.headers['idempotency-key']).toBe('key-unpause');
    expect((await stripe.subscriptions.retrieve(id)).pause_collection).toBeNull();
  });

  it('pause without a resume date sends only the behavior', async () => {
    const requests = await recorded(() => processor.pause(purchase(), null, 'key-pause-open'));

    expect(requests.map((r) => r.form)).toEqual([{ 'pause_collection[behavior]': 'void' }]);
  });

  it('refund: finds the latest paid invoice, refunds its PaymentIntent, returns the refund', async () => {
    const p = purchase();

    let refund: Awaited<ReturnType<BillingProcessor['refund']>> | undefined;
    const requests = await recorded(async () => {
      refund = await processor.refund(p, 500, 'key-refund');
    });

    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/invoices', 'POST /v1/refunds']);
    expect(requests[0]?.query).toEqual({
      subscription: p.processorSubscriptionId,
      status: 'paid',
      limit: '1',
      'expand[0]': 'data.payments',
    });
    expect(requests[1]?.form).toMatchObject({ payment_intent: expect.stringMatching(/^pi_/), amount: '500' });
    expect(requests[1]?.headers['idempotency-key']).toBe('key-refund');
    expect(refund).toEqual({ processorRefundId: expect.stringMatching(/^re_/), amount: 500, currency: 'usd' });
  });

  it('refund with amount null refunds in full (no amount sent)', async () => {
    const p = purchase();

    const requests = await recorded(async () => {
      await expect(processor.refund(p, null, 'key-full')).resolves.toMatchObject({ amount: 2000 });
    });

    expect(requests[1]?.form).not.toHaveProperty('amount');
  });

  it('the same idempotency key replays the first refund instead of refunding twice', async () => {
    const p = purchase();
    const first = await processor.refund(p, 300, 'key-once');

    const second = await processor.refund(p, 300, 'key-once');

    expect(second).toEqual(first);
    // Had it refunded twice, 1700 would remain; a full refund now returns 1700 only if the replay did not act.
    await expect(processor.refund(p, null, 'key-rest')).resolves.toMatchObject({ amount: 1700 });
  });

  it('a purchase without a subscription id is a ProcessorError, and nothing is sent', async () => {
    const p = purchase({ processorSubscriptionId: null });

    let error: unknown;
    const requests = await recorded(async () => {
      error = await failure(processor.cancelNow(p, 'key-none'));
    });

    expect(requests).toHaveLength(0);
    expect(error).toBeInstanceOf(ProcessorError);
    expect((error as ProcessorError).processor).toBe('stripe');
  });

  it.each([402, 400])('a %i from Stripe → ProcessorError with the status, not retried', async (status) => {
    const p = purchase();
    sandbox.setFailure({ status, message: 'Your card was declined.' });

    let error: unknown;
    const requests = await recorded(async () => {
      error = await failure(processor.scheduleCancellation(p, 'period_end', '2026-12-01T00:00:00.000Z', 'k'));
    });

    expect(requests).toHaveLength(1);
    expect(error).toBeInstanceOf(ProcessorError);
    expect(error).toMatchObject({ processor: 'stripe', status });
    expect((error as Error).message).toMatch(/^stripe: schedule cancellation failed: Your card was declined\./);
  });

  it('a 5xx is retried (twice, with the same key) before it fails', async () => {
    sandbox.setFailure({ status: 500, message: 'An unknown error occurred' });

    let error: unknown;
    const requests = await recorded(async () => {
      error = await failure(processor.unpause(purchase(), 'key-retried'));
    });

    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set(['key-retried']));
    expect(error).toMatchObject({ processor: 'stripe', status: 500 });
  }, 120_000);

  it('the native processor names itself in errors', async () => {
    const native = createStripeProcessor({ stripe, processor: 'native' });
    sandbox.setFailure({ status: 402, message: 'declined' });

    const error = await failure(native.refund(purchase({ processor: 'native' }), null, 'key-native'));

    expect(error).toMatchObject({ processor: 'native', status: 402 });
  });

  it('an unreachable API is a ProcessorError without a status', async () => {
    const closed = await startStripeSandbox();
    await closed.stop();
    const offline = createStripeProcessor({
      stripe: stripeClient({ secretKey: 'sk_test_local', apiBase: closed.url }),
    });

    const error = await failure(offline.unpause(purchase(), 'key-offline'));

    expect(error).toBeInstanceOf(ProcessorError);
    expect(error).toMatchObject({ processor: 'stripe', status: undefined });
  }, 120_000);
});
