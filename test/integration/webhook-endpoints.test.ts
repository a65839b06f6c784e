import { describe, expect, it } from '@jest/globals';
import { admin, apiHarness, automation, customer, support, uniqueId } from '../support/harness.ts';

// Issue 9 item 3: integrator webhook endpoints — registration, the secret shown once, rotation, tenancy,
// and the SSRF guard at registration (DESIGN.md §5).

const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;

function setup() {
  const api = apiHarness();
  api.dns.set('hooks.example.com', '93.184.215.14');
  const siteId = uniqueId('site');
  const path = `/sites/${siteId}/webhook-endpoints`;
  return { api, siteId, claims: admin(siteId), path };
}

describe('webhook endpoints', () => {
  it('a creating PUT answers 201 with the signing secret; reads never show it again', async () => {
    const { api, siteId, claims, path } = setup();

    const created = await api.call('PUT', `${path}/main`, {
      claims,
      body: { url: 'https://hooks.example.com/membergate', eventTypes: ['access.revoked', 'purchase.granted'] },
    });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      siteId,
      endpointId: 'main',
      url: 'https://hooks.example.com/membergate',
      eventTypes: ['access.revoked', 'purchase.granted'],
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      secretRotatedAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      secret: expect.stringMatching(SECRET),
    });
    const read = await api.call('GET', `${path}/main`, { claims });
    const list = await api.call('GET', path, { claims });
    const { secret: _secret, ...view } = created.body;
    expect(read.body).toEqual(view);
    expect(list.body).toEqual({ items: [view], nextCursor: null });
    expect(JSON.stringify([read.body, list.body])).not.toContain('whsec_');
  });

  it('at most 20 endpoints per site, also when creates race: the 21st is a 409; a delete frees a place', async () => {
    const { api, claims, path } = setup();
    for (let i = 0; i < 18; i++) {
      const created = await api.call('PUT', `${path}/e${i}`, { claims, body: { url: 'https://hooks.example.com/a' } });
      expect(created.status).toBe(201);
    }

    const racing = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api.call('PUT', `${path}/race${i}`, { claims, body: { url: 'https://hooks.example.com/a' } }),
      ),
    );

    expect(racing.map((reply) => reply.status).sort()).toEqual([201, 201, 409, 409, 409, 409]);
    for (const refused of racing.filter((reply) => reply.status === 409)) {
      expect(refused.body.error.message).toContain('at most 20 webhook endpoints');
    }
    const listed = await api.call('GET', `${path}?limit=100`, { claims });
    expect(listed.body.items).toHaveLength(20);
    expect((await api.call('DELETE', `${path}/e0`, { claims })).status).toBe(204);
    expect(
      (await api.call('PUT', `${path}/late`, { claims, body: { url: 'https://hooks.example.com/a' } })).status,
    ).toBe(201);
  });

  it('a PUT on an existing endpoint answers 200 without a secret and keeps the fields it leaves out', async () => {
    const { api, claims, path } = setup();
    await api.call('PUT', `${path}/main`, {
      claims,
      body: { url: 'https://hooks.example.com/a', eventTypes: ['access.revoked'] },
    });

    const updated = await api.call('PUT', `${path}/main`, { claims, body: { url: 'https://hooks.example.com/b' } });

    expect(updated.status).toBe(200);
    expect(updated.body.secret).toBeUndefined();
    expect(updated.body).toMatchObject({ url: 'https://hooks.example.com/b', eventTypes: ['access.revoked'] });
    const all = await api.call('PUT', `${path}/main`, {
      claims,
      body: { url: 'https://hooks.example.com/b', eventTypes: null },
    });
    expect(all.body.eventTypes).toBeNull();
  });

  it('disabling records who did it and when; enabling clears both', async () => {
    const { api, claims, path } = setup();
    await api.call('PUT', `${path}/main`, { claims, body: { url: 'https://hooks.example.com/a' } });

    const disabled = await api.call('PUT', `${path}/main`, {
      claims,
      body: { url: 'https://hooks.example.com/a', enabled: false },
    });
    const enabled = await api.call('PUT', `${path}/main`, {
      claims,
      body: { url: 'https://hooks.example.com/a', enabled: true },
    });

    expect(disabled.body).toMatchObject({
      enabled: false,
      disabledReason: 'disabled by owner@example.com',
      disabledAt: api.clock.now().toISOString(),
    });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
  });

  it('rotate-secret answers a new secret once; DELETE removes the endpoint', async () => {
    const { api, claims, path } = setup();
    const created = await api.call('PUT', `${path}/main`, { claims, body: { url: 'https://hooks.example.com/a' } });

    const rotated = await api.call('POST', `${path}/main/rotate-secret`, { claims });

    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(SECRET);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(rotated.body.secretRotatedAt).toBe(api.clock.now().toISOString());
    expect((await api.call('GET', `${path}/main`, { claims })).body.secret).toBeUndefined();
    expect((await api.call('DELETE', `${path}/main`, { claims })).status).toBe(204);
    expect((await api.call('GET', `${path}/main`, { claims })).status).toBe(404);
    expect((await api.call('DELETE', `${path}/main`, { claims })).status).toBe(404);
    expect((await api.call('POST', `${path}/main/rotate-secret`, { claims })).status).toBe(404);
  });

  it('only an admin of the site may manage endpoints: support, automation, customers and other sites get 403', async () => {
    const { api, siteId, claims, path } = setup();
    await api.call('PUT', `${path}/main`, { claims, body: { url: 'https://hooks.example.com/a' } });
    const body = { url: 'https://hooks.example.com/b' };

    for (const who of [support(siteId), automation(siteId), customer(siteId, 'cus-1'), admin('another-site')]) {
      expect((await api.call('PUT', `${path}/main`, { claims: who, body })).status).toBe(403);
      expect((await api.call('GET', `${path}/main`, { claims: who })).status).toBe(403);
      expect((await api.call('GET', path, { claims: who })).status).toBe(403);
      expect((await api.call('POST', `${path}/main/rotate-secret`, { claims: who })).status).toBe(403);
      expect((await api.call('GET', `${path}/main/deliveries`, { claims: who })).status).toBe(403);
      expect((await api.call('DELETE', `${path}/main`, { claims: who })).status).toBe(403);
    }
    expect((await api.call('GET', `${path}/main`, { claims })).body.url).toBe('https://hooks.example.com/a');
  });

  it.each([
    ['a host resolving to a private address', 'https://internal.example.com/hook', 'private'],
    ['the metadata service', 'https://169.254.169.254/latest/meta-data', 'metadata'],
    ['an IPv4-mapped private address', 'https://[::ffff:10.0.0.1]/hook', 'private'],
    ['a unique-local IPv6 address', 'https://[fd00::1]/hook', 'unique-local'],
    ['a carrier-grade NAT address', 'https://100.64.0.1/hook', 'carrier-grade NAT'],
    ['plain http to a public host', 'http://hooks.example.com/hook', 'https'],
    ['a host that does not resolve', 'https://nowhere.example.com/hook', 'does not resolve'],
    ['credentials in the URL', 'https://user:pw@hooks.example.com/hook', 'user name or password'],
  ])('refuses %s with a 400 naming url, and stores nothing', async (_what, url, words) => {
    const { api, claims, path } = setup();
    api.dns.set('internal.example.com', '93.184.215.14', '10.1.2.3');

    const refused = await api.call('PUT', `${path}/bad`, { claims, body: { url } });

    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ field: 'url', message: expect.stringContaining(words) }]);
    expect((await api.call('GET', `${path}/bad`, { claims })).status).toBe(404);
  });

  it('refuses unknown event types and unknown fields, naming them', async () => {
    const { api, claims, path } = setup();

    const refused = await api.call('PUT', `${path}/main`, {
      claims,
      body: { url: 'https://hooks.example.com/a', eventTypes: ['access.revoked', 'nope'], secret: 'mine' },
    });

    expect(refused.status).toBe(400);
    expect(refused.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['body', 'eventTypes[1]']);
  });

  it('the delivery log of an unknown endpoint is a 404; of a new one, empty', async () => {
    const { api, claims, path } = setup();
    expect((await api.call('GET', `${path}/none/deliveries`, { claims })).status).toBe(404);
    await api.call('PUT', `${path}/main`, { claims, body: { url: 'https://hooks.example.com/a' } });

    const log = await api.call('GET', `${path}/main/deliveries?limit=10`, { claims });

    expect(log).toEqual({ status: 200, body: { items: [], nextCursor: null } });
  });
});
