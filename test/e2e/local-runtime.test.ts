import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.ts';
import { ROUTES, routeKey } from '../../shared/http/routes.ts';
import { documentedFetch } from '../support/e2e-http.ts';

/**
 * The local runtime over real HTTP, as a user following the README would drive it: `fetch` against the
 * server that `npm start` runs, tokens from `POST /local/tokens`, DynamoDB Local underneath (the one the
 * integration project's globalSetup started).
 */

interface Reply {
  status: number;
  contentType: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected field by field
  body: any;
}

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
    // A table of its own: the runtime's stream publisher starts at this table's first record, not at every earlier test's.
    tableName: `e2e-local-runtime-${randomUUID().slice(0, 8)}`,
  });
});

afterAll(async () => {
  await runtime?.stop();
});

const newSiteId = () => `site-${randomUUID()}`;

async function http(
  method: string,
  path: string,
  init: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.rawBody !== undefined) body = init.rawBody;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await documentedFetch(`${runtime.url}${path}`, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: text === '' ? undefined : JSON.parse(text),
  };
}

async function adminToken(siteId: string, email = 'owner@example.com'): Promise<string> {
  const reply = await http('POST', '/local/tokens', { body: { role: 'admin', siteId, email } });
  expect(reply.status).toBe(201);
  expect(typeof reply.body.token).toBe('string');
  return reply.body.token as string;
}

/** Fails with the response in the message, so a broken step says which one and why. */
async function ok(method: string, path: string, token: string, body?: unknown, expected = 200) {
  const reply = await http(method, path, { token, body });
  if (reply.status !== expected) {
    throw new Error(`${method} ${path} → ${reply.status} (expected ${expected}) ${JSON.stringify(reply.body)}`);
  }
  return reply.body;
}

function expectErrorBody(reply: Reply, status: number) {
  expect(reply.status).toBe(status);
  expect(reply.contentType).toMatch(/application\/json/);
  expect(reply.body).toEqual({
    error: { code: expect.any(String), message: expect.any(String), details: expect.any(Array) },
  });
}

describe('local runtime over HTTP', () => {
  it('GET /health answers 200 without a token', async () => {
    const reply = await http('GET', '/health');

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'ok' });
  });

  it('GET /openapi.json answers the committed OpenAPI document without a token, one operation per route', async () => {
    const reply = await http('GET', '/openapi.json');

    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^application\/json/);
    expect(reply.body).toEqual(JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')));
    const operations = Object.entries(reply.body.paths as Record<string, object>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  it('GET /docs renders the reference from the runtime alone: every file it loads is served here, none from the network', async () => {
    const page = await fetch(`${runtime.url}/docs`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    // Offline: nothing is loaded from another origin.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const loaded = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(loaded).toEqual(
      expect.arrayContaining(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']),
    );
    for (const path of loaded) {
      const file = await fetch(`${runtime.url}${path}`);
      const content = Buffer.from(await file.arrayBuffer());
      expect([path, file.status]).toEqual([path, 200]);
      expect(content.length).toBeGreaterThan(path.endsWith('.js') || path.endsWith('.css') ? 200 : 0);
    }
    // "Try it out" reads the document and sends requests to this runtime, with a token from /local/tokens.
    const init = await (await fetch(`${runtime.url}/docs/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain("fetch('/local/tokens'");
    const document = (await (await fetch(`${runtime.url}/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(document.servers.map((server) => server.url)).toEqual(['/']);
    expect((await fetch(`${runtime.url}/docs/../package.json`)).status).toBe(404);
    expect((await fetch(`${runtime.url}/docs/index.js`)).status).toBe(404);
  });

  it('a staff route without a token is 401', async () => {
    const reply = await http('GET', `/sites/${newSiteId()}/settings`);

    expectErrorBody(reply, 401);
  });

  it('a staff route with a bad token is 401', async () => {
    const siteId = newSiteId();
    const good = await adminToken(siteId);
    const tampered = `${good.slice(0, -4)}${good.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;

    expectErrorBody(await http('GET', `/sites/${siteId}/settings`, { token: 'not-a-jwt' }), 401);
    expectErrorBody(await http('GET', `/sites/${siteId}/settings`, { token: tampered }), 401);
  });

  it.each([
    ['siteId', { role: 'admin', email: 'owner@example.com' }],
    ['email', { role: 'admin', siteId: 'site-x' }],
    ['role', { siteId: 'site-x', email: 'owner@example.com' }],
  ])('POST /local/tokens without %s is 400 naming it', async (field, body) => {
    const reply = await http('POST', '/local/tokens', { body });

    expectErrorBody(reply, 400);
    expect(reply.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('grants, revokes one product, and resumes it: the full flow', async () => {
    const siteId = newSiteId();
    const token = await adminToken(siteId, 'owner@example.com');
    const site = `/sites/${siteId}`;

    await ok('PUT', `${site}/products/course`, token, { name: 'Course' });
    await ok('PUT', `${site}/products/community`, token, { name: 'Community' });
    await ok('PUT', `${site}/offers/bundle`, token, {
      name: 'Bundle',
      productIds: ['course', 'community'],
      price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
    });
    await ok('PUT', `${site}/customers/cus-1`, token, { email: 'ada@example.com', name: 'Ada' });
    const purchase = await ok(
      'POST',
      `${site}/purchases`,
      token,
      {
        customerId: 'cus-1',
        offerId: 'bundle',
        currentPeriodEnd: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      },
      201,
    );
    expect(purchase).toMatchObject({ siteId, customerId: 'cus-1', offerId: 'bundle', accessStatus: null });
    const purchaseId = purchase.purchaseId as string;

    const revoked = await ok('POST', `${site}/purchases/${purchaseId}/access/revoke`, token, {
      productIds: ['course'],
    });
    expect(revoked.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked by owner@example.com' });

    const page = await ok('GET', `${site}/purchases/${purchaseId}`, token);
    expect(page.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked by owner@example.com' });
    expect(page.products).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ productId: 'course', access: 'revoked', label: 'Revoked by owner@example.com' }),
        expect.objectContaining({ productId: 'community', access: 'active' }),
      ]),
    );
    expect(page.status).toBe(purchase.status);
    expect((await ok('GET', `${site}/customers/cus-1/access/course`, token)).hasAccess).toBe(false);
    expect((await ok('GET', `${site}/customers/cus-1/access/community`, token)).hasAccess).toBe(true);

    const resumed = await ok('POST', `${site}/purchases/${purchaseId}/access/resume`, token, {
      productIds: ['course'],
    });
    expect(resumed.accessStatus).toBeNull();
    expect((await ok('GET', `${site}/purchases/${purchaseId}`, token)).accessStatus).toBeNull();
    expect((await ok('GET', `${site}/customers/cus-1/access/course`, token)).hasAccess).toBe(true);
  });

  it('a site-A token on a site-B path is 403 and changes nothing there', async () => {
    const siteA = newSiteId();
    const siteB = newSiteId();
    const tokenA = await adminToken(siteA);
    const tokenB = await adminToken(siteB);

    expectErrorBody(await http('PUT', `/sites/${siteB}/products/course`, { token: tokenA, body: { name: 'X' } }), 403);
    expectErrorBody(await http('GET', `/sites/${siteB}/settings`, { token: tokenA }), 403);
    expect(await runtime.deps.catalog.getProduct(siteB, 'course')).toBeNull();
    // Site B's own token still works on site B.
    await ok('GET', `/sites/${siteB}/settings`, tokenB);
  });

  it('an unknown path is a 404 with the JSON error body', async () => {
    const token = await adminToken(newSiteId());

    expectErrorBody(await http('GET', '/no/such/route', { token }), 404);
    expectErrorBody(await http('GET', '/local/nothing-here'), 404);
  });

  it('malformed JSON is 400', async () => {
    const siteId = newSiteId();
    const token = await adminToken(siteId);

    const reply = await http('PUT', `/sites/${siteId}/products/course`, { token, rawBody: '{"name": ' });

    expectErrorBody(reply, 400);
    expect(reply.body.error.details.map((d: { field: string }) => d.field)).toContain('body');
    // Malformed JSON to the local token endpoint is a 400 too.
    expectErrorBody(await http('POST', '/local/tokens', { rawBody: '{role' }), 400);
  });
});
