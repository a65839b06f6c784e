import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSEvent } from 'aws-lambda';
import { createWebhookDeliveryHandler } from '../../functions/webhook-delivery/app.ts';
import { httpWebhookSender } from '../../shared/adapters/webhook-sender.ts';
import { type DeliveryMessage, type DeliveryQueue, queuedDelivery } from '../../shared/ports/delivery-queue.ts';
import type { BusEvent, EventBus } from '../../shared/ports/event-bus.ts';
import type { WebhookRequest, WebhookSender } from '../../shared/ports/outbound-http.ts';
import type { DeliveryDeps } from '../../shared/usecases/webhook-delivery.ts';
import type { FakeDns } from './fake-dns.ts';
import { type TestClock, testWebhookStore } from './harness.ts';

/** A queue that keeps what it was sent: tests run the messages by hand, moving the clock by their delays. */
export class RecordingQueue implements DeliveryQueue {
  messages: { message: DeliveryMessage; delaySeconds: number }[] = [];
  failNext = 0;
  async send(message: DeliveryMessage, delaySeconds: number): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('SQS is down');
    }
    this.messages.push({ message, delaySeconds });
  }
  take() {
    const taken = this.messages;
    this.messages = [];
    return taken;
  }
}

/** The bus as the delivery function sees it: what was published. */
export class RecordingBus implements EventBus {
  readonly published: BusEvent[] = [];
  async publish(events: BusEvent[]) {
    this.published.push(...events);
    return { failed: [] };
  }
}

/** The real sender, counting the requests it is asked to make. */
export class CountingSender implements WebhookSender {
  readonly requests: WebhookRequest[] = [];
  async post(request: WebhookRequest) {
    this.requests.push(request);
    return httpWebhookSender.post(request);
  }
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * An integrator's server on 127.0.0.1: `/ok…` answers 200, `/fail…` 500, `/hang…` never answers. Records
 * every request it gets.
 */
export async function startReceiver() {
  const received: ReceivedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      if (path.startsWith('/hang')) {
        hanging.push(response);
        return;
      }
      response.writeHead(path.startsWith('/fail') ? 500 : 200, { 'content-type': 'text/plain' });
      response.end('thanks');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    on: (path: string) => received.filter((request) => request.path === path),
    async stop() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Delivery dependencies on the shared DynamoDB Local table, with recording queue and bus. */
export function deliveryHarness(clock: TestClock, dns: FakeDns, options: { timeoutMs?: number } = {}) {
  const queue = new RecordingQueue();
  const bus = new RecordingBus();
  const sender = new CountingSender();
  const deps: DeliveryDeps = {
    webhooks: testWebhookStore(),
    clock: clock.now,
    resolveHost: dns.resolve,
    allowLocalHttp: true,
    queue,
    sender,
    bus,
    random: () => 0,
    timeoutMs: options.timeoutMs ?? 10_000,
  };
  const handler = createWebhookDeliveryHandler(deps);
  let n = 0;
  /** Runs the given messages as one SQS batch through the delivery function. */
  const runBatch = (messages: { message: DeliveryMessage; delaySeconds: number }[]) => {
    const event = {
      Records: messages.map(({ message }) => ({
        messageId: `m-${++n}`,
        // Due now: the test has moved the clock by the delay already.
        body: JSON.stringify(queuedDelivery(message, 0, clock.now())),
      })),
    } as unknown as SQSEvent;
    return handler(event);
  };
  return { deps, queue, bus, sender, runBatch };
}
