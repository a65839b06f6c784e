import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.ts';
import { documentedFetch } from '../support/e2e-http.ts';

/**
 * Explain over real HTTP against the local runtime (`npm start`), as the README's "Try it" drives it: a product
 * granted by two purchases, one revoked by automation and one pending cancellation, then asked about now and
 * about the instant just before the revocation.
 */

// Eleven requests through the runtime and DynamoDB Local on a shared machine: more than jest's default 5 s.

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
    // A table of its own: the runtime's stream publisher starts at this table's first record, not at every earlier test's.
    tableName: `e2e-explain-${randomUUID().slice(0, 8)}`,
  });
});

afterAll(async () => {
  await runtime?.stop();
});

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected field by field
  body: any;
}

async function http(method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await documentedFetch(`${runtime.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function ok(method: string, path: string, token: string, body?: unknown, expected = 200) {
  const reply = await http(method, path, token, body);
  if (reply.status !== expected) {
    throw new Error(`${method} ${path} → ${reply.status} (expected ${expected}) ${JSON.stringify(reply.body)}`);
  }
  return reply.body;
}

async function token(role: string, siteId: string): Promise<string> {
  const reply = await http('POST', '/local/tokens', undefined, { role, siteId, email: 'owner@example.com' });
  expect(reply.status).toBe(201);
  return reply.body.token as string;
}

describe('explain over HTTP (local runtime)', () => {
  it('names both purchases, their labels and the effective time; before the revocation: hasAccess true', async () => {
    const siteId = `site-${randomUUID()}`;
    const admin = await token('admin', siteId);
    const automation = await token('automation', siteId);
    await ok('PUT', `/sites/${siteId}/products/course`, admin, { name: 'Course' });
    await ok('PUT', `/sites/${siteId}/offers/monthly`, admin, {
      name: 'Monthly',
      productIds: ['course'],
      price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
    });
    await ok('PUT', `/sites/${siteId}/customers/cus-1`, admin, { email: 'ada@example.com' });
    const grant = { customerId: 'cus-1', offerId: 'monthly' };
    const first = await ok('POST', `/sites/${siteId}/purchases`, admin, grant, 201);
    await ok('POST', `/sites/${siteId}/purchases/${first.purchaseId}/access/revoke`, automation, {});
    const second = await ok('POST', `/sites/${siteId}/purchases`, admin, grant, 201);
    const canceled = await ok('POST', `/sites/${siteId}/purchases/${second.purchaseId}/cancellation`, admin, {
      when: 'period_end',
    });
    const effectiveAt = canceled.cancellation.effectiveAt as string;
    const path = `/sites/${siteId}/customers/cus-1/access/course/explain`;

    const now = await ok('GET', path, admin);
    const revokedAt = now.grants[0].facts[1].at as string;
    const before = await ok('GET', `${path}?at=${new Date(Date.parse(revokedAt) - 1).toISOString()}`, admin);

    expect(now).toMatchObject({ hasAccess: true, until: effectiveAt, reason: 'active' });
    expect(now.grants).toEqual([
      expect.objectContaining({ purchaseId: first.purchaseId, access: 'revoked', label: 'Revoked by automation' }),
      expect.objectContaining({
        purchaseId: second.purchaseId,
        status: 'pending_cancellation',
        accessEndsAt: effectiveAt,
        cancellation: expect.objectContaining({ when: 'period_end', effectiveAt }),
      }),
    ]);
    expect(now.grants[0].facts[1]).toMatchObject({ type: 'access.revoked', label: 'Revoked by automation' });
    expect(now.pending).toEqual([{ at: effectiveAt, type: 'cancellation_effective', purchaseId: second.purchaseId }]);
    expect(before).toMatchObject({ hasAccess: true, reason: 'active' });
    expect(before.grants).toEqual([expect.objectContaining({ purchaseId: first.purchaseId, access: 'active' })]);
  });

  it('`at` that is not an instant is a 400 naming `at`; another site’s token is a 403', async () => {
    const siteId = `site-${randomUUID()}`;
    const admin = await token('admin', siteId);
    const path = `/sites/${siteId}/customers/cus-1/access/course/explain`;

    const bad = await http('GET', `${path}?at=last-tuesday`, admin);
    const otherSite = await http('GET', path, await token('admin', `site-${randomUUID()}`));

    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ field: 'at' })]);
    expect(otherSite.status).toBe(403);
  });
});
