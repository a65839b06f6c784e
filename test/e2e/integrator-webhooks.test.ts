import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.ts';
import { documentedFetch } from '../support/e2e-http.ts';
import { startReceiver } from '../support/webhook-harness.ts';

/**
 * Integrator webhooks end to end on the local runtime (`npm start`) over HTTP, as the README's curl does: an
 * endpoint on localhost is registered, a change made through the API goes through the outbox, the local bus,
 * the fan-out and delivery queues, and arrives at the receiver as a signed POST that `standardwebhooks`
 * verifies; the endpoint's delivery log shows it.
 */

let runtime: LocalRuntime;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  // A table of its own on the shared DynamoDB Local: its stream carries only this file's writes, so the
  // publisher does not first work through every other test's events (it starts a new shard at its horizon).
  runtime = await startLocalRuntime({
    port: 0,
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
    tableName: `integrator-webhooks-${randomUUID().slice(0, 8)}`,
  });
});

afterAll(async () => {
  await runtime?.stop();
  await receiver?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function http(method: string, path: string, token?: string, body?: unknown) {
  const response = await documentedFetch(`${runtime.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected field by field
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as any };
}

async function until<T>(read: () => T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(50);
  }
}

describe('integrator webhooks on the local runtime', () => {
  it('a grant reaches an endpoint on localhost as a Standard Webhooks POST, logged as succeeded', async () => {
    const siteId = `site-${randomUUID()}`;
    const token = (
      await http('POST', '/local/tokens', undefined, { role: 'admin', siteId, email: 'owner@example.com' })
    ).body.token as string;
    const site = `/sites/${siteId}`;
    const path = `/ok-e2e-${siteId}`;
    const registered = await http('PUT', `${site}/webhook-endpoints/my-app`, token, {
      url: `http://localhost:${receiver.port}${path}`,
      eventTypes: ['purchase.granted'],
    });
    expect(registered.status).toBe(201);
    await http('PUT', `${site}/products/course`, token, { name: 'Course' });
    await http('PUT', `${site}/offers/course`, token, {
      name: 'Course',
      productIds: ['course'],
      price: { type: 'one_time', amount: 4900, currency: 'usd' },
    });
    await http('PUT', `${site}/customers/cus-1`, token, { email: 'ada@example.com' });

    const granted = await http('POST', `${site}/purchases`, token, { customerId: 'cus-1', offerId: 'course' });

    const request = await until(() => receiver.on(path)[0]);
    const event = new Webhook(registered.body.secret).verify(request.body, request.headers as Record<string, string>);
    expect(event).toMatchObject({ type: 'purchase.granted', siteId, purchaseId: granted.body.purchaseId, sequence: 1 });
    let rows: { status: string; eventType: string }[] = [];
    for (let i = 0; i < 100 && rows[0]?.status !== 'succeeded'; i++) {
      rows = (await http('GET', `${site}/webhook-endpoints/my-app/deliveries`, token)).body.items;
      await sleep(50);
    }
    expect(rows).toEqual([
      expect.objectContaining({ eventType: 'purchase.granted', attempt: 1, status: 'succeeded', responseCode: 200 }),
    ]);
  });

  it('refuses an endpoint on a private address, naming url, even locally', async () => {
    const siteId = `site-${randomUUID()}`;
    const token = (
      await http('POST', '/local/tokens', undefined, { role: 'admin', siteId, email: 'owner@example.com' })
    ).body.token as string;

    const refused = await http('PUT', `/sites/${siteId}/webhook-endpoints/x`, token, { url: 'https://10.0.0.1/hook' });

    expect(refused.status).toBe(400);
    expect(refused.body.error.details[0].field).toBe('url');
  });
});
