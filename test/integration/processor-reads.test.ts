import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createPayPalProcessor } from '../../shared/adapters/paypal.ts';
import { retryRateLimited, type ThrottleTime } from '../../shared/adapters/processor-throttle.ts';
import { createStripeProcessor, stripeClient } from '../../shared/adapters/stripe.ts';
import { ProcessorError } from '../../shared/ports/processor.ts';
import { aPurchase } from '../unit/fixtures.ts';

/**
 * The adapters' `fetchSubscription` against a local HTTP server that rate limits: a 429 surfaces as a
 * ProcessorError carrying the processor's Retry-After (the SDK does not retry it on its own), and the
 * reconciliation's retry waits exactly that long, then reads the subscription normalised as webhooks are.
 */
jest.setTimeout(30_000);

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const fakeTime = (): ThrottleTime & { sleeps: number[] } => {
  const sleeps: number[] = [];
  return { sleeps, now: () => 0, sleep: async (ms) => void sleeps.push(ms) };
};

describe('fetchSubscription under rate limiting', () => {
  it('Stripe: 429 with Retry-After, then the subscription on the connected account, period from its items', async () => {
    const seen: { path: string; account: string | undefined }[] = [];
    let calls = 0;
    const base = await serve((req, res) => {
      seen.push({ path: req.url ?? '', account: req.headers['stripe-account'] as string | undefined });
      calls += 1;
      if (calls === 1) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
        res.end(
          JSON.stringify({
            error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'sub_1',
          object: 'subscription',
          status: 'active',
          cancel_at: 1_780_000_000,
          cancel_at_period_end: false,
          pause_collection: null,
          items: { object: 'list', data: [{ current_period_start: 1_770_000_000, current_period_end: 1_772_000_000 }] },
        }),
      );
    });
    const stripe = createStripeProcessor({ stripe: stripeClient({ secretKey: 'sk_test_x', apiBase: base }) });
    const purchase = aPurchase({ processorSubscriptionId: 'sub_1', processorAccount: 'acct_A' });

    const first = await stripe.fetchSubscription(purchase).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(ProcessorError);
    expect(first).toMatchObject({ status: 429, retryAfterMs: 2_000 });
    expect(calls).toBe(1);

    calls = 0;
    const time = fakeTime();
    const state = await retryRateLimited(() => stripe.fetchSubscription(purchase), time);
    expect(time.sleeps).toEqual([2_000]);
    expect(state).toEqual({
      status: 'active',
      currentPeriodStart: new Date(1_770_000_000_000).toISOString(),
      currentPeriodEnd: new Date(1_772_000_000_000).toISOString(),
      cancelAt: new Date(1_780_000_000_000).toISOString(),
      cancelAtPeriodEnd: false,
      accessEnds: 'now',
      resumesAt: null,
    });
    expect(seen.every((request) => request.path === '/v1/subscriptions/sub_1' && request.account === 'acct_A')).toBe(
      true,
    );
  });

  it('Stripe: a subscription the account does not have is null', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such subscription' },
        }),
      );
    });
    const stripe = createStripeProcessor({ stripe: stripeClient({ secretKey: 'sk_test_x', apiBase: base }) });
    expect(await stripe.fetchSubscription(aPurchase())).toBeNull();
  });

  it('PayPal: 429 with Retry-After, then the subscription for the merchant (PayPal-Auth-Assertion)', async () => {
    let reads = 0;
    const assertions: (string | undefined)[] = [];
    const base = await serve((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/oauth2/token') {
        res.end(JSON.stringify({ access_token: 'token', expires_in: 32_400 }));
        return;
      }
      assertions.push(req.headers['paypal-auth-assertion'] as string | undefined);
      reads += 1;
      if (reads === 1) {
        res.writeHead(429, { 'retry-after': '3' });
        res.end(JSON.stringify({ name: 'RATE_LIMIT_REACHED', message: 'Too many requests' }));
        return;
      }
      res.end(
        JSON.stringify({
          id: 'I-1',
          status: 'SUSPENDED',
          billing_info: { next_billing_time: '2026-04-01T00:00:00Z', last_payment: { time: '2026-03-01T00:00:00Z' } },
        }),
      );
    });
    const paypal = createPayPalProcessor({ apiBase: base, clientId: 'client', clientSecret: 'secret' });
    const purchase = aPurchase({ processor: 'paypal', processorSubscriptionId: 'I-1', processorAccount: 'MERCHANT1' });
    const time = fakeTime();
    const state = await retryRateLimited(() => paypal.fetchSubscription(purchase), time);
    expect(time.sleeps).toEqual([3_000]);
    expect(state).toMatchObject({
      status: 'paused',
      currentPeriodEnd: '2026-04-01T00:00:00Z',
      currentPeriodStart: '2026-03-01T00:00:00Z',
      cancelAt: null,
    });
    const claims = JSON.parse(Buffer.from(assertions[1]!.split('.')[1]!, 'base64url').toString('utf8'));
    expect(claims).toEqual({ iss: 'client', payer_id: 'MERCHANT1' });
  });
});
