import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { MAX_ATTEMPTS } from '../../../shared/domain/webhook-endpoints.ts';
import type { DeliveryMessage } from '../../../shared/ports/delivery-queue.ts';
import type { BusEvent, SiteEvent } from '../../../shared/ports/event-bus.ts';
import type { WebhookRequest, WebhookResponse } from '../../../shared/ports/outbound-http.ts';
import { type DeliveryDeps, deliver, fanOut } from '../../../shared/usecases/webhook-delivery.ts';
import { deleteEndpoint, putEndpoint } from '../../../shared/usecases/webhook-endpoints.ts';
import { FakeDns } from '../../support/fake-dns.ts';
import { FixedClock } from '../../support/memory-deps.ts';
import { MemoryWebhookStore } from '../../support/memory-webhook-store.ts';

// The delivery rules on the in-memory store, with a scripted sender: no network, a clock moved by hand.

const SITE = 'site-1';
const ADMIN = { type: 'admin', email: 'owner@example.com' } as const;

const event = (id = 'evt_1', type = 'access.revoked'): BusEvent =>
  ({ id, type, siteId: SITE, occurredAt: '2026-11-21T10:00:00.000Z', actor: ADMIN, data: {} }) as SiteEvent;

let clock: FixedClock;
const advance = (ms: number) => clock.set(new Date(clock.now().getTime() + ms).toISOString());
let sent: WebhookRequest[];
let answer: (request: WebhookRequest) => WebhookResponse;
let queued: { message: DeliveryMessage; delaySeconds: number }[];
let published: BusEvent[];
let deps: DeliveryDeps;

beforeEach(() => {
  clock = new FixedClock();
  sent = [];
  queued = [];
  published = [];
  answer = () => ({ responseCode: 200, durationMs: 3, error: null });
  deps = {
    webhooks: new MemoryWebhookStore(),
    clock: clock.now,
    resolveHost: new FakeDns().set('hooks.example.com', '93.184.215.14').resolve,
    allowLocalHttp: false,
    queue: { send: async (message, delaySeconds) => void queued.push({ message, delaySeconds }) },
    sender: {
      post: async (request) => {
        sent.push(request);
        return answer(request);
      },
    },
    bus: {
      publish: async (events) => {
        published.push(...events);
        return { failed: [] };
      },
    },
    random: () => 0,
    timeoutMs: 10_000,
  };
});

async function register(endpointId = 'main', eventTypes?: string[]) {
  const endpointDeps = { ...deps, randomBytes };
  return putEndpoint(endpointDeps, SITE, endpointId, { url: 'https://hooks.example.com/in', eventTypes }, ADMIN);
}

const take = () => queued.splice(0, queued.length);

describe('fan-out', () => {
  it('makes one job per endpoint that wants the type, each queued at once', async () => {
    await register('all');
    await register('refunds', ['refund.created']);

    expect(await fanOut(deps, event())).toBe(1);
    expect(take()).toEqual([
      { message: { siteId: SITE, endpointId: 'all', eventId: 'evt_1', attempt: 1 }, delaySeconds: 0 },
    ]);
  });
});

describe('deliver', () => {
  it('connects to the address the guard resolved, with the Standard Webhooks headers', async () => {
    await register();
    await fanOut(deps, event());

    expect(await deliver(deps, take()[0]!.message)).toBe('succeeded');
    expect(sent[0]).toMatchObject({ address: '93.184.215.14', family: 4, timeoutMs: 10_000 });
    expect(Object.keys(sent[0]!.headers)).toEqual(
      expect.arrayContaining(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type']),
    );
  });

  it('a message that comes early is queued again for the rest of its wait', async () => {
    await register();
    await fanOut(deps, event());
    answer = () => ({ responseCode: 500, durationMs: 3, error: null });
    await deliver(deps, take()[0]!.message);
    const [retry] = take();
    advance(10_000);

    expect(await deliver(deps, retry!.message)).toBe('not_due');
    expect(take()).toEqual([{ message: retry!.message, delaySeconds: 20 }]);
    expect(sent).toHaveLength(1);
  });

  it('a message for an attempt already made is dropped', async () => {
    await register();
    await fanOut(deps, event());
    const [first] = take();
    await deliver(deps, first!.message);

    expect(await deliver(deps, first!.message)).toBe('duplicate');
    expect(sent).toHaveLength(1);
  });

  it('a job whose endpoint was deleted ends without a request', async () => {
    await register();
    await fanOut(deps, event());
    await deleteEndpoint({ ...deps, randomBytes }, SITE, 'main');

    expect(await deliver(deps, take()[0]!.message)).toBe('canceled');
    expect(sent).toHaveLength(0);
    expect(await deps.webhooks.getJob(SITE, 'main', 'evt_1')).toMatchObject({
      status: 'failed',
      lastError: 'endpoint deleted; not sent',
    });
  });

  it('a network error is a failed attempt like a 5xx, with its reason in the log', async () => {
    await register();
    await fanOut(deps, event());
    answer = () => ({ responseCode: null, durationMs: 2, error: 'ECONNREFUSED: connect ECONNREFUSED' });

    expect(await deliver(deps, take()[0]!.message)).toBe('retry_scheduled');
    const log = await deps.webhooks.listAttempts(SITE, 'main', 10, null);
    expect(log.items.map((row) => [row.attempt, row.status, row.error])).toEqual([
      [2, 'pending', null],
      [1, 'failed', 'ECONNREFUSED: connect ECONNREFUSED'],
    ]);
  });

  it('after the last attempt the endpoint is disabled and the event is published once, even if the message comes again', async () => {
    await register();
    await fanOut(deps, event());
    answer = () => ({ responseCode: 503, durationMs: 3, error: null });
    let last: DeliveryMessage | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const [next] = take();
      last = next!.message;
      advance(next!.delaySeconds * 1000);
      await deliver(deps, last);
    }

    await deliver(deps, last!);

    expect(sent).toHaveLength(MAX_ATTEMPTS);
    expect(published.map((e) => e.type)).toEqual(['webhook_endpoint.disabled']);
    expect(await deps.webhooks.getEndpoint(SITE, 'main')).toMatchObject({
      enabled: false,
      disabledReason: expect.stringContaining(`could not be delivered in ${MAX_ATTEMPTS} attempts`),
    });
  });
});
