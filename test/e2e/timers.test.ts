import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.ts';
import { timerName } from '../../shared/ports/scheduler.ts';
import { httpClient } from '../support/e2e-http.ts';

/**
 * Timed billing actions against the local runtime (`npm start`) over real HTTP: the local scheduler fires
 * a dated cancellation by itself, a stopped cancellation leaves no timer, and a timer that came due while
 * the runtime was down is applied at the next start-up (on-disk data). How late timers fire is a budget
 * checked by `npm run bench` (timers section), not here: these tests only wait with generous deadlines.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newSiteId = () => `site-timers-${randomUUID()}`;
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

/** An HTTP client for one runtime's base URL. */
function client(base: () => string) {
  const { http, ok } = httpClient(base);

  async function adminToken(siteId: string, email: string): Promise<string> {
    const reply = await http('POST', '/local/tokens', { body: { role: 'admin', siteId, email } });
    expect(reply.status).toBe(201);
    return reply.body.token as string;
  }

  /** A site with one product, a monthly subscription offer, and one customer. */
  async function monthlySite(siteId: string, token: string) {
    const site = `/sites/${siteId}`;
    await ok('PUT', `${site}/products/course`, token, { name: 'Course' });
    await ok('PUT', `${site}/products/community`, token, { name: 'Community' });
    await ok('PUT', `${site}/offers/monthly`, token, {
      name: 'Monthly membership',
      productIds: ['course', 'community'],
      price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
    });
    await ok('PUT', `${site}/customers/cus-1`, token, { email: 'ada@example.com', name: 'Ada' });
    return site;
  }

  async function grant(site: string, token: string, currentPeriodEnd: string): Promise<string> {
    const purchase = await ok(
      'POST',
      `${site}/purchases`,
      token,
      { customerId: 'cus-1', offerId: 'monthly', currentPeriodEnd },
      201,
    );
    return purchase.purchaseId as string;
  }

  async function hasAccess(site: string, token: string, productId = 'course'): Promise<boolean> {
    return (await ok('GET', `${site}/customers/cus-1/access/${productId}`, token)).hasAccess as boolean;
  }

  /** Reads the purchase (a GET, nothing else) until it has `status` or `withinMs` has passed. */
  async function waitForStatus(site: string, token: string, purchaseId: string, status: string, withinMs: number) {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const purchase = await ok('GET', `${site}/purchases/${purchaseId}`, token);
      if (purchase.status === status || Date.now() > deadline) return purchase;
      await sleep(100);
    }
  }

  return { http, ok, adminToken, monthlySite, grant, hasAccess, waitForStatus };
}

describe('local timers against the shared DynamoDB Local', () => {
  let runtime: LocalRuntime;
  const api = client(() => runtime.url);

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      port: 0,
      dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
      // A table of its own: the runtime's stream publisher starts at this table's first record, not at every earlier test's.
      tableName: `e2e-timers-${randomUUID().slice(0, 8)}`,
    });
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('a cancellation dated now + 10 s takes effect by itself: canceled, Revoked, no access, history', async () => {
    const siteId = newSiteId();
    const email = 'owner@example.com';
    const token = await api.adminToken(siteId, email);
    const site = await api.monthlySite(siteId, token);
    const purchaseId = await api.grant(site, token, inSeconds(30 * 86_400));

    const date = inSeconds(10);
    const pending = await api.ok('POST', `${site}/purchases/${purchaseId}/cancellation`, token, {
      when: 'date',
      date,
    });
    expect(pending.status).toBe('pending_cancellation');
    expect(pending.cancellation).toMatchObject({ when: 'date', effectiveAt: date });
    expect(await api.hasAccess(site, token)).toBe(true);
    const timers = await api.http('GET', '/local/timers');
    expect(timers.body.pending).toContain(timerName({ siteId, purchaseId, purpose: 'cancellation' }));

    // No other call that changes anything: only reads until the timer has done its work.
    const canceled = await api.waitForStatus(site, token, purchaseId, 'canceled', 40_000);

    expect(canceled.status).toBe('canceled');
    expect(canceled.products).toHaveLength(2);
    for (const grant of canceled.products) {
      expect(grant).toMatchObject({ access: 'revoked', label: 'Revoked', revokedAt: date });
    }
    expect(canceled.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked' });
    expect(await api.hasAccess(site, token, 'course')).toBe(false);
    expect(await api.hasAccess(site, token, 'community')).toBe(false);

    const { items } = await api.ok('GET', `${site}/purchases/${purchaseId}/history`, token);
    const requested = items.find((entry: { type: string }) => entry.type === 'cancellation.requested');
    const effective = items.find((entry: { type: string }) => entry.type === 'cancellation.effective');
    expect(requested).toMatchObject({
      actor: { type: 'admin', email },
      details: { when: 'date', effectiveAt: date },
    });
    expect(effective).toMatchObject({
      actor: { type: 'system', reason: 'cancellation_effective' },
      label: 'Revoked',
      details: { effectiveAt: date, requestedBy: { type: 'admin', email }, requestedAt: requested.at },
    });
    expect(Date.parse(effective.at)).toBeGreaterThanOrEqual(Date.parse(date));
    expect(items.indexOf(requested)).toBeLessThan(items.indexOf(effective));
    const fired = (await api.http('GET', '/local/timers')).body;
    expect(fired.pending).not.toContain(timerName({ siteId, purchaseId, purpose: 'cancellation' }));
    expect(fired.deadLetters).toEqual([]);
  });

  it('period_end then stop: active again, no timer left, access continues past the old date; 409s after', async () => {
    const siteId = newSiteId();
    const token = await api.adminToken(siteId, 'owner@example.com');
    const site = await api.monthlySite(siteId, token);
    const periodEnd = inSeconds(10);
    const purchaseId = await api.grant(site, token, periodEnd);
    const name = timerName({ siteId, purchaseId, purpose: 'cancellation' });

    const pending = await api.ok('POST', `${site}/purchases/${purchaseId}/cancellation`, token, {
      when: 'period_end',
    });
    expect(pending.status).toBe('pending_cancellation');
    expect(pending.cancellation.effectiveAt).toBe(periodEnd);
    expect((await api.http('GET', '/local/timers')).body.pending).toContain(name);

    const stopped = await api.ok('DELETE', `${site}/purchases/${purchaseId}/cancellation`, token);
    expect(stopped.status).toBe('active');
    expect(stopped.cancellation).toBeNull();
    expect((await api.http('GET', '/local/timers')).body.pending).not.toContain(name);
    const persisted = await runtime.scheduler.persisted();
    expect(persisted.map((item) => item.name)).not.toContain(name);

    // Past the old period end (and the date the cancellation would have taken effect).
    await sleep(Math.max(0, Date.parse(periodEnd) - Date.now()) + 1_000);
    expect(await api.hasAccess(site, token)).toBe(true);
    const later = await api.ok('GET', `${site}/purchases/${purchaseId}`, token);
    expect(later.status).toBe('active');
    expect(later.products.every((grant: { access: string }) => grant.access === 'active')).toBe(true);

    const again = await api.http('DELETE', `${site}/purchases/${purchaseId}/cancellation`, { token });
    expect(again.status).toBe(409);

    const canceled = await api.ok('POST', `${site}/purchases/${purchaseId}/cancellation`, token, { when: 'now' });
    expect(canceled.status).toBe('canceled');
    expect(await api.hasAccess(site, token)).toBe(false);

    const twice = await api.http('POST', `${site}/purchases/${purchaseId}/cancellation`, {
      token,
      body: { when: 'now' },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toContain('purchase again');
  });
});

describe('a timer that came due while the runtime was down (on-disk data)', () => {
  let dataDir: string;
  let runtime: LocalRuntime | null = null;
  const api = client(() => runtime!.url);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'membergate-timers-'));
  });

  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is applied within seconds of the next start-up', async () => {
    runtime = await startLocalRuntime({ port: 0, dataDir });
    const siteId = newSiteId();
    let token = await api.adminToken(siteId, 'owner@example.com');
    const site = await api.monthlySite(siteId, token);
    const purchaseId = await api.grant(site, token, inSeconds(30 * 86_400));
    const date = inSeconds(10);
    const pending = await api.ok('POST', `${site}/purchases/${purchaseId}/cancellation`, token, {
      when: 'date',
      date,
    });
    expect(pending.status).toBe('pending_cancellation');

    // Killed while the timer is pending; started again only after it came due.
    await runtime.stop();
    runtime = null;
    await sleep(Math.max(0, Date.parse(date) - Date.now()) + 1_000);
    const restartedAt = Date.now();
    runtime = await startLocalRuntime({ port: 0, dataDir });
    token = await api.adminToken(siteId, 'owner@example.com');

    const purchase = await api.waitForStatus(site, token, purchaseId, 'canceled', 40_000);

    expect(purchase.status).toBe('canceled');
    expect(purchase.products.every((grant: { label: string }) => grant.label === 'Revoked')).toBe(true);
    expect(await api.hasAccess(site, token)).toBe(false);
    const { items } = await api.ok('GET', `${site}/purchases/${purchaseId}/history`, token);
    const effective = items.find((entry: { type: string }) => entry.type === 'cancellation.effective');
    expect(effective.details.effectiveAt).toBe(date);
    // Applied by the restarted runtime, not before the first one stopped.
    expect(Date.parse(effective.at)).toBeGreaterThanOrEqual(restartedAt);
  });
});
