import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { httpWebhookSender } from '../../shared/adapters/webhook-sender.ts';
import { SITE_EVENT_CATALOG } from '../../shared/domain/event-catalog.ts';
import { MAX_ATTEMPTS } from '../../shared/domain/webhook-endpoints.ts';
import { log } from '../../shared/log.ts';
import type { BusEvent } from '../../shared/ports/event-bus.ts';
import { fanOut } from '../../shared/usecases/webhook-delivery.ts';
import { admin, apiHarness, seedSite, TestClock } from '../support/harness.ts';
import { deliveryHarness, startReceiver } from '../support/webhook-harness.ts';

// Issue 9 item 3: every published event of a site is POSTed, signed the Standard Webhooks way, to each of the
// site's endpoints that wants it; failures are retried for more than a day, then the endpoint is disabled
// (DESIGN.md §5). The bus is played by hand here: the site's events are read from GET /events and fanned out.

// Twelve attempts against DynamoDB Local take a few seconds when the machine is busy.

let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.stop();
});

async function setup(options: { clock?: TestClock; timeoutMs?: number } = {}) {
  const api = apiHarness(options.clock ? { clock: options.clock } : {});
  const site = await seedSite(api);
  const delivery = deliveryHarness(api.clock, api.dns, options);
  const register = async (endpointId: string, body: Record<string, unknown>) => {
    const result = await api.call('PUT', `/sites/${site.siteId}/webhook-endpoints/${endpointId}`, {
      claims: site.claims,
      body,
    });
    if (result.status !== 201) throw new Error(`register ${endpointId}: ${JSON.stringify(result.body)}`);
    return result.body as { secret: string };
  };
  const events = async (): Promise<BusEvent[]> =>
    (await api.call('GET', `/sites/${site.siteId}/events?limit=50`, { claims: site.claims })).body.items;
  const deliveries = async (endpointId: string) =>
    (
      await api.call('GET', `/sites/${site.siteId}/webhook-endpoints/${endpointId}/deliveries?limit=100`, {
        claims: admin(site.siteId),
      })
    ).body.items;
  const endpoint = async (endpointId: string) =>
    (await api.call('GET', `/sites/${site.siteId}/webhook-endpoints/${endpointId}`, { claims: site.claims })).body;
  return { api, ...site, ...delivery, register, events, deliveries, endpoint };
}

describe('webhook delivery', () => {
  it('POSTs the event envelope to a local receiver with Standard Webhooks headers that verify', async () => {
    // A clock at real time: `verify` checks the timestamp against the wall clock (5 min tolerance).
    const t = await setup({ clock: new TestClock(new Date()) });
    const { secret } = await t.register('main', { url: receiver.url(`/ok-verify-${t.siteId}`) });
    const [granted] = await t.events();

    expect(await fanOut(t.deps, granted!)).toBe(1);
    await t.runBatch(t.queue.take());

    const [request] = receiver.on(`/ok-verify-${t.siteId}`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['webhook-id']).toBe(granted!.id);
    expect(Number(request!.headers['webhook-timestamp'])).toBe(Math.floor(t.api.clock.now().getTime() / 1000));
    const verified = new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>);
    expect(verified).toEqual(granted);
    expect(await t.deliveries('main')).toEqual([
      {
        eventId: granted!.id,
        eventType: 'purchase.granted',
        attempt: 1,
        status: 'succeeded',
        scheduledFor: expect.any(String),
        attemptedAt: expect.any(String),
        responseCode: 200,
        durationMs: expect.any(Number),
        error: null,
        nextAttemptAt: null,
      },
    ]);
  });

  it('sends only the types an endpoint selected, and skips disabled endpoints', async () => {
    const t = await setup();
    await t.register('revocations', { url: receiver.url('/ok'), eventTypes: ['access.revoked'] });
    await t.register('everything', { url: receiver.url('/ok') });
    await t.register('off', { url: receiver.url('/ok'), enabled: false });
    const [granted] = await t.events();

    await fanOut(t.deps, granted!);

    expect(t.queue.messages.map(({ message }) => message.endpointId)).toEqual(['everything']);
  });

  it('a redelivered event creates no second job (one per event id and endpoint)', async () => {
    const t = await setup();
    await t.register('main', { url: receiver.url('/ok') });
    const [granted] = await t.events();

    const first = await fanOut(t.deps, granted!);
    const again = await Promise.all([fanOut(t.deps, granted!), fanOut(t.deps, granted!)]);

    expect([first, ...again]).toEqual([1, 0, 0]);
    expect(t.queue.messages).toHaveLength(1);
  });

  it('a duplicate queue message makes one POST, not two', async () => {
    const t = await setup();
    await t.register('main', { url: receiver.url(`/ok-dup-${t.siteId}`) });
    const [granted] = await t.events();
    await fanOut(t.deps, granted!);
    const [message] = t.queue.take();

    await Promise.all([t.runBatch([message!]), t.runBatch([message!]), t.runBatch([message!])]);

    expect(receiver.on(`/ok-dup-${t.siteId}`)).toHaveLength(1);
  });

  it('a failing receiver is retried on the schedule for more than a day, then the endpoint is disabled and that is published', async () => {
    const t = await setup();
    await t.register('flaky', { url: receiver.url(`/fail-${t.siteId}`) });
    await t.register('watcher', { url: receiver.url('/ok'), eventTypes: ['webhook_endpoint.disabled'] });
    const [granted] = await t.events();
    const start = t.api.clock.now().getTime();
    await fanOut(t.deps, granted!);

    const waits: number[] = [];
    for (let round = 0; round < 2 * MAX_ATTEMPTS && t.queue.messages.length > 0; round++) {
      const batch = t.queue.take();
      const wait = Math.max(...batch.map((m) => m.delaySeconds));
      if (wait > 0) waits.push(wait);
      t.api.clock.advance(wait * 1000);
      await t.runBatch(batch);
    }

    expect(receiver.on(`/fail-${t.siteId}`)).toHaveLength(MAX_ATTEMPTS);
    expect(waits).toEqual([30, 120, 600, 1800, 3600, 7200, 14400, 21600, 21600, 21600, 21600]);
    expect(t.api.clock.now().getTime() - start).toBeGreaterThanOrEqual(24 * 3_600_000);
    const log = await t.deliveries('flaky');
    expect(log).toHaveLength(MAX_ATTEMPTS);
    expect(log.map((row: { attempt: number }) => row.attempt)).toEqual(
      Array.from({ length: MAX_ATTEMPTS }, (_, i) => MAX_ATTEMPTS - i),
    );
    expect(
      log.every((row: { status: string; responseCode: number }) => row.status === 'failed' && row.responseCode === 500),
    ).toBe(true);
    expect(log[0].nextAttemptAt).toBeNull();
    expect(log[1].nextAttemptAt).toBe(log[0].scheduledFor);
    const disabled = await t.endpoint('flaky');
    expect(disabled).toMatchObject({
      enabled: false,
      disabledAt: t.api.clock.now().toISOString(),
      disabledReason: expect.stringContaining('HTTP 500'),
    });
    expect(t.bus.published).toEqual([
      {
        id: expect.stringMatching(/^evt_/),
        type: 'webhook_endpoint.disabled',
        siteId: t.siteId,
        occurredAt: disabled.disabledAt,
        actor: { type: 'system', reason: 'webhook_deliveries_failed' },
        data: { endpoint: disabled, causeEventId: granted!.id },
      },
    ]);
    expect(SITE_EVENT_CATALOG['webhook_endpoint.disabled'].schema.safeParse(t.bus.published[0]).error).toBeUndefined();
    // The site event is itself delivered to the site's other endpoints that want it.
    expect(await fanOut(t.deps, t.bus.published[0]!)).toBe(1);
    expect(t.queue.messages.map(({ message }) => message.endpointId)).toEqual(['watcher']);
  });

  it('one dead endpoint does not delay another: each job has its own timeout', async () => {
    const timeoutMs = 2_000;
    const t = await setup({ timeoutMs });
    await t.register('dead', { url: receiver.url(`/hang-${t.siteId}`) });
    await t.register('live', { url: receiver.url(`/ok-live-${t.siteId}`) });
    const [granted] = await t.events();
    await fanOut(t.deps, granted!);
    const batch = t.queue.take();
    expect(batch).toHaveLength(2);

    const started = Date.now();
    await t.runBatch(batch);
    const finished = Date.now();

    const [live] = receiver.on(`/ok-live-${t.siteId}`);
    const [hung] = receiver.on(`/hang-${t.siteId}`);
    // The live endpoint got its delivery while the dead one was still hanging, not after its timeout.
    expect(live!.at).toBeLessThan(hung!.at + timeoutMs);
    expect(finished - started).toBeGreaterThanOrEqual(timeoutMs - 100);
    const dead = await t.deliveries('dead');
    expect(dead.find((row: { attempt: number }) => row.attempt === 1)).toMatchObject({
      status: 'failed',
      error: 'no response within 2000 ms',
    });
    expect((await t.deliveries('live'))[0]).toMatchObject({ status: 'succeeded' });
  });

  it('a URL that later resolves to a private address is not called', async () => {
    const t = await setup();
    t.api.dns.set('rebind.example.com', '93.184.215.14');
    await t.register('rebinding', { url: 'https://rebind.example.com/hook' });
    const [granted] = await t.events();
    await fanOut(t.deps, granted!);
    t.api.dns.set('rebind.example.com', '10.0.0.1');

    await t.runBatch(t.queue.take());

    expect(t.sender.requests).toHaveLength(0);
    const [pending, first] = await t.deliveries('rebinding');
    expect(first).toMatchObject({ attempt: 1, status: 'failed', error: expect.stringContaining('10.0.0.1') });
    expect(pending).toMatchObject({ attempt: 2, status: 'pending' });
  });

  it('the connection goes to the checked address, not to what DNS says at connect time', async () => {
    // `rebind.invalid` resolves nowhere; the request still reaches the checked address (127.0.0.1).
    const response = await httpWebhookSender.post({
      url: new URL(`http://rebind.invalid:${receiver.port}/ok-pinned`),
      address: '127.0.0.1',
      family: 4,
      headers: { 'content-type': 'application/json' },
      body: '{}',
      timeoutMs: 2_000,
    });

    expect(response).toMatchObject({ responseCode: 200, error: null });
    expect(receiver.on('/ok-pinned')[0]!.headers.host).toBe(`rebind.invalid:${receiver.port}`);
  });

  it('a job waiting for an endpoint that was disabled meanwhile ends unsent', async () => {
    const t = await setup();
    await t.register('main', { url: receiver.url(`/ok-off-${t.siteId}`) });
    const [granted] = await t.events();
    await fanOut(t.deps, granted!);
    await t.api.call('PUT', `/sites/${t.siteId}/webhook-endpoints/main`, {
      claims: t.claims,
      body: { url: receiver.url(`/ok-off-${t.siteId}`), enabled: false },
    });

    await t.runBatch(t.queue.take());

    expect(receiver.on(`/ok-off-${t.siteId}`)).toHaveLength(0);
    expect(await t.deliveries('main')).toEqual([
      expect.objectContaining({ attempt: 1, status: 'failed', error: 'endpoint disabled; not sent' }),
    ]);
    expect(t.queue.messages).toHaveLength(0);
  });

  it('a worker that dies before queueing the retry is recovered by the message redelivery, once', async () => {
    const t = await setup();
    await t.register('main', { url: receiver.url(`/fail-recover-${t.siteId}`) });
    const [granted] = await t.events();
    await fanOut(t.deps, granted!);
    const [message] = t.queue.take();
    t.queue.failNext = 1;
    const logged = jest.spyOn(log, 'error').mockImplementation(() => undefined);

    const crashed = await t.runBatch([message!]);
    const loggedMessages = logged.mock.calls.map(([text]) => text);
    logged.mockRestore();
    const redelivered = await t.runBatch([message!]);
    const again = await t.runBatch([message!]);

    expect(crashed.batchItemFailures).toHaveLength(1);
    expect(loggedMessages).toEqual(['webhook delivery failed']);
    expect(redelivered.batchItemFailures).toHaveLength(0);
    expect(again.batchItemFailures).toHaveLength(0);
    expect(receiver.on(`/fail-recover-${t.siteId}`)).toHaveLength(1);
    expect(t.queue.messages.map(({ message: m, delaySeconds }) => [m.attempt, delaySeconds])).toEqual([[2, 30]]);
  });
});
