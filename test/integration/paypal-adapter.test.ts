import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type PayPalSandbox, startPayPalSandbox } from '../../infra/local/paypal-sandbox.ts';
import { createPayPalProcessor, payPalCancelRedirectUrl } from '../../shared/adapters/paypal.ts';
import { type BillingProcessor, ProcessorError } from '../../shared/ports/processor.ts';
import { aPurchase } from '../unit/fixtures.ts';

let sandbox: PayPalSandbox;
let paypal: BillingProcessor;

beforeAll(async () => {
  sandbox = await startPayPalSandbox();
});

afterAll(async () => {
  await sandbox.stop();
});

beforeEach(() => {
  sandbox.requests.length = 0;
  sandbox.setFailure(null);
  paypal = createPayPalProcessor({
    apiBase: sandbox.url,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
  });
});

let counter = 0;
function purchaseOf(subscriptionId = `I-${++counter}X${Date.now()}`) {
  return aPurchase({ processor: 'paypal', processorSubscriptionId: subscriptionId });
}

const apiCalls = () => sandbox.requests.filter((r) => r.path !== '/v1/oauth2/token');
const tokenCalls = () => sandbox.requests.filter((r) => r.path === '/v1/oauth2/token');

async function failure(promise: Promise<unknown>): Promise<ProcessorError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProcessorError);
  return error as ProcessorError;
}

describe('PayPal adapter against the local sandbox', () => {
  it('cannot schedule a cancellation itself', () => {
    expect(paypal.schedulesCancellation).toBe(false);
  });

  it('fetches a token once with client credentials and reuses it', async () => {
    await paypal.cancelNow(purchaseOf(), 'key-a');
    await paypal.pause(purchaseOf(), null, 'key-b');

    expect(tokenCalls()).toHaveLength(1);
    const [token] = tokenCalls();
    expect(token?.method).toBe('POST');
    expect(token?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${sandbox.clientId}:${sandbox.clientSecret}`).toString('base64')}`,
    );
    expect(token?.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(token?.rawBody).toBe('grant_type=client_credentials');
  });

  it('cancelNow: exactly one POST …/cancel with the bearer token, a reason and PayPal-Request-Id = key', async () => {
    await paypal.cancelNow(purchaseOf('I-X'), 'cancel-key-1');

    expect(apiCalls()).toHaveLength(1);
    const [call] = apiCalls();
    expect(call?.method).toBe('POST');
    expect(call?.path).toBe('/v1/billing/subscriptions/I-X/cancel');
    expect(call?.headers.authorization).toMatch(/^Bearer A21AA/);
    expect(call?.headers['paypal-request-id']).toBe('cancel-key-1');
    expect(call?.headers['content-type']).toContain('application/json');
    expect(call?.body).toEqual({ reason: expect.any(String) });
    expect(sandbox.subscriptions.get('I-X')?.status).toBe('CANCELLED');
  });

  it('a retried command with the same key is answered from PayPal’s idempotency store', async () => {
    const purchase = purchaseOf();
    await paypal.cancelNow(purchase, 'same-key');
    await paypal.cancelNow(purchase, 'same-key');

    expect(apiCalls().map((r) => r.path)).toEqual([
      `/v1/billing/subscriptions/${purchase.processorSubscriptionId}/cancel`,
      `/v1/billing/subscriptions/${purchase.processorSubscriptionId}/cancel`,
    ]);
  });

  it('cancelNow on a subscription already canceled in PayPal succeeds (the goal is met)', async () => {
    sandbox.addSubscription({ id: 'I-GONE', status: 'CANCELLED' });
    await paypal.cancelNow(purchaseOf('I-GONE'), 'timer-key');
    expect(apiCalls().map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/billing/subscriptions/I-GONE/cancel',
      'GET /v1/billing/subscriptions/I-GONE',
    ]);
  });

  it('pause suspends and unpause activates', async () => {
    const purchase = purchaseOf('I-PAUSE');
    await paypal.pause(purchase, '2027-01-01T00:00:00.000Z', 'pause-key');
    expect(sandbox.subscriptions.get('I-PAUSE')?.status).toBe('SUSPENDED');
    await paypal.unpause(purchase, 'unpause-key');
    expect(sandbox.subscriptions.get('I-PAUSE')?.status).toBe('ACTIVE');

    expect(apiCalls().map((r) => [r.path, r.headers['paypal-request-id']])).toEqual([
      ['/v1/billing/subscriptions/I-PAUSE/suspend', 'pause-key'],
      ['/v1/billing/subscriptions/I-PAUSE/activate', 'unpause-key'],
    ]);
  });

  it('scheduleCancellation and stopCancellation make no request (membergate keeps the timer)', async () => {
    const purchase = purchaseOf();
    await paypal.scheduleCancellation(purchase, 'period_end', '2026-12-31T00:00:00.000Z', 'k1');
    await paypal.stopCancellation(purchase, 'k2');
    expect(sandbox.requests).toHaveLength(0);
  });

  it('partial refund: refunds that amount of the latest completed payment', async () => {
    const now = Date.now();
    sandbox.addSubscription({
      id: 'I-REFUND',
      transactions: [
        { id: 'SALE-OLD', amount: 2900, time: new Date(now - 40 * 86_400_000).toISOString() },
        { id: 'SALE-NEW', amount: 2900, time: new Date(now - 5 * 86_400_000).toISOString() },
      ],
    });

    const refund = await paypal.refund(purchaseOf('I-REFUND'), 1000, 'refund-key-1');

    expect(refund).toEqual({ processorRefundId: expect.stringMatching(/^REFUND/), amount: 1000, currency: 'usd' });
    const [list, post] = apiCalls();
    expect(list?.method).toBe('GET');
    expect(list?.path).toBe('/v1/billing/subscriptions/I-REFUND/transactions');
    expect(list?.query).toEqual({ start_time: expect.any(String), end_time: expect.any(String) });
    expect(post?.path).toBe('/v1/payments/sale/SALE-NEW/refund');
    expect(post?.headers['paypal-request-id']).toBe('refund-key-1');
    expect(post?.body).toEqual({ amount: { total: '10.00', currency: 'USD' } });
  });

  it('full refund: an empty body refunds what is left of the latest payment', async () => {
    sandbox.addSubscription({ id: 'I-FULL', transactions: [{ id: 'SALE-FULL', amount: 4900, currency: 'EUR' }] });

    const refund = await paypal.refund(purchaseOf('I-FULL'), null, 'refund-key-2');

    expect(refund).toEqual({ processorRefundId: expect.any(String), amount: 4900, currency: 'eur' });
    expect(apiCalls().at(-1)?.body).toEqual({});
    expect(sandbox.subscriptions.get('I-FULL')?.transactions[0]?.status).toBe('REFUNDED');
  });

  it('a refund retried with the same key refunds once', async () => {
    sandbox.addSubscription({ id: 'I-TWICE', transactions: [{ id: 'SALE-TWICE', amount: 2900 }] });
    const first = await paypal.refund(purchaseOf('I-TWICE'), 500, 'refund-key-3');
    const again = await paypal.refund(purchaseOf('I-TWICE'), 500, 'refund-key-3');

    expect(again.processorRefundId).toBe(first.processorRefundId);
    expect(sandbox.subscriptions.get('I-TWICE')?.transactions[0]?.refunded).toBe(500);
  });

  it('a subscription without a completed payment cannot be refunded', async () => {
    sandbox.addSubscription({ id: 'I-NOPAY', transactions: [] });
    const error = await failure(paypal.refund(purchaseOf('I-NOPAY'), null, 'refund-key-4'));
    expect(error.processor).toBe('paypal');
  });

  it('a PayPal failure becomes a ProcessorError naming paypal, with the status and PayPal’s message', async () => {
    sandbox.setFailure({ status: 503, message: 'Service is temporarily unavailable' });

    const error = await failure(paypal.cancelNow(purchaseOf(), 'failing-key'));

    expect(error.processor).toBe('paypal');
    expect(error.status).toBe(503);
    expect(error.message).toContain('paypal');
    expect(error.message).toContain('Service is temporarily unavailable');
  });

  it('a refused state change (422) is a ProcessorError', async () => {
    sandbox.addSubscription({ id: 'I-ENDED', status: 'CANCELLED' });
    const error = await failure(paypal.pause(purchaseOf('I-ENDED'), null, 'k'));
    expect(error.status).toBe(422);
    expect(error.message).toContain('SUBSCRIPTION_STATUS_INVALID');
  });

  it('wrong client credentials: ProcessorError 401', async () => {
    const wrong = createPayPalProcessor({ apiBase: sandbox.url, clientId: sandbox.clientId, clientSecret: 'nope' });
    const error = await failure(wrong.cancelNow(purchaseOf(), 'k'));
    expect(error.status).toBe(401);
    expect(error.message).toContain('Client Authentication failed');
  });

  it('a token revoked early is replaced once and the call retried', async () => {
    await paypal.cancelNow(purchaseOf(), 'k-1');
    sandbox.revokeTokens();
    await paypal.cancelNow(purchaseOf(), 'k-2');
    expect(tokenCalls()).toHaveLength(2);
  });

  it('PayPal unreachable: ProcessorError without a status', async () => {
    const offline = createPayPalProcessor({
      apiBase: 'http://127.0.0.1:9',
      clientId: 'x',
      clientSecret: 'y',
    });
    const error = await failure(offline.cancelNow(purchaseOf(), 'k'));
    expect(error.processor).toBe('paypal');
    expect(error.status).toBeUndefined();
  });

  it('a purchase without a PayPal subscription id is refused before any call', async () => {
    await failure(paypal.cancelNow(aPurchase({ processor: 'paypal', processorSubscriptionId: null }), 'k'));
    expect(sandbox.requests).toHaveLength(0);
  });

  it('customers cancel in PayPal: the redirect URL', () => {
    expect(payPalCancelRedirectUrl('I-BW452GLLEP1G', 'live')).toBe(
      'https://www.paypal.com/myaccount/autopay/connect/I-BW452GLLEP1G',
    );
    expect(payPalCancelRedirectUrl('I-BW452GLLEP1G', 'sandbox')).toBe(
      'https://www.sandbox.paypal.com/myaccount/autopay/connect/I-BW452GLLEP1G',
    );
  });
});
