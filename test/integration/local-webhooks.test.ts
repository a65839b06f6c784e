import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { startLocalWebhooks } from '../../infra/local/webhooks.ts';
import type { BusEvent, EventBus } from '../../shared/ports/event-bus.ts';
import { createDocumentClient } from '../../shared/store/client.ts';
import { apiHarness, seedSite, testWebhookStore } from '../support/harness.ts';
import { startReceiver } from '../support/webhook-harness.ts';

// The local runtime's stand-ins for the EventBridge rule and the two SQS queues (persisted in DynamoDB Local),
// running the same fan-out and delivery handlers as the Lambdas.

/** The smallest bus local consumers can subscribe to. */
class TinyBus implements EventBus {
  private readonly listeners: ((events: BusEvent[]) => Promise<void>)[] = [];
  async publish(events: BusEvent[]) {
    for (const listener of this.listeners) await listener(events);
    return { failed: [] };
  }
  subscribe(listener: (events: BusEvent[]) => Promise<void>) {
    this.listeners.push(listener);
    return () => {};
  }
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
const db = createDocumentClient({ endpoint: process.env.DYNAMODB_ENDPOINT });
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.stop();
  db.destroy();
});

async function setup(timeoutMs = 10_000) {
  const api = apiHarness();
  const site = await seedSite(api);
  const bus = new TinyBus();
  const local = startLocalWebhooks({
    db,
    tableName: process.env.TABLE_NAME!,
    clock: () => new Date(),
    webhooks: testWebhookStore(),
    bus,
    resolveHost: api.dns.resolve,
    timeoutMs,
  });
  local.start();
  const events: BusEvent[] = (await api.call('GET', `/sites/${site.siteId}/events`, { claims: site.claims })).body
    .items;
  return { api, ...site, bus, local, events };
}

describe('local webhooks (bus → fan-out queue → delivery queue)', () => {
  it('a published event reaches a receiver on localhost as a signed POST', async () => {
    const t = await setup();
    const path = `/ok-local-${t.siteId}`;
    const created = await t.api.call('PUT', `/sites/${t.siteId}/webhook-endpoints/main`, {
      claims: t.claims,
      body: { url: receiver.url(path) },
    });

    await t.bus.publish(t.events);
    await t.local.idle();
    await t.local.stop();

    const [request] = receiver.on(path);
    expect(new Webhook(created.body.secret).verify(request!.body, request!.headers as Record<string, string>)).toEqual(
      t.events[0],
    );
  });

  it('a hanging endpoint does not hold up a live one', async () => {
    const t = await setup(3_000);
    for (const [id, path] of [
      ['dead', `/hang-local-${t.siteId}`],
      ['live', `/ok-live-local-${t.siteId}`],
    ] as const) {
      await t.api.call('PUT', `/sites/${t.siteId}/webhook-endpoints/${id}`, {
        claims: t.claims,
        body: { url: receiver.url(path) },
      });
    }
    const started = Date.now();

    await t.bus.publish(t.events);
    await t.local.idle();
    await t.local.stop();

    const [live] = receiver.on(`/ok-live-local-${t.siteId}`);
    const [hung] = receiver.on(`/hang-local-${t.siteId}`);
    expect(hung).toBeDefined();
    expect(live!.at).toBeLessThan(hung!.at + 3_000);
    expect(live!.at - started).toBeLessThan(3_000);
  });
});
