import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createWebhookDeliveryHandler } from '../../functions/webhook-delivery/app.ts';
import { createWebhookFanoutHandler } from '../../functions/webhook-fanout/app.ts';
import { httpWebhookSender, systemResolver } from '../../shared/adapters/webhook-sender.ts';
import type { Clock } from '../../shared/domain/time.ts';
import { DELIVERY_TIMEOUT_MS } from '../../shared/domain/webhook-endpoints.ts';
import { type DeliveryQueue, queuedDelivery } from '../../shared/ports/delivery-queue.ts';
import type { BusEvent, EventBus } from '../../shared/ports/event-bus.ts';
import type { HostResolver, WebhookSender } from '../../shared/ports/outbound-http.ts';
import type { WebhookStore } from '../../shared/ports/webhook-endpoints.ts';
import type { DeliveryDeps } from '../../shared/usecases/webhook-delivery.ts';
import { LocalQueue, LocalQueueStore } from './local-queue.ts';

/** `source` of membergate's events, as the EventBridge rule matches it. */
const EVENT_SOURCE = 'membergate';

/** A bus local consumers can subscribe to (infra/local/event-bus.ts). */
export interface SubscribableBus extends EventBus {
  subscribe(listener: (events: BusEvent[]) => Promise<void>): () => void;
}

export interface LocalWebhooksOptions {
  db: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  webhooks: WebhookStore;
  bus: SubscribableBus;
  /** Injected by tests; the system resolver and the real HTTP sender otherwise. */
  resolveHost?: HostResolver;
  sender?: WebhookSender;
  timeoutMs?: number;
}

export interface LocalWebhooks {
  fanoutQueue: LocalQueue;
  deliveryQueue: LocalQueue;
  deps: DeliveryDeps;
  start(): void;
  stop(): Promise<void>;
  /** Resolves once both queues have nothing in flight and nothing due. */
  idle(): Promise<void>;
}

/**
 * Integrator webhooks on the local runtime, shaped like the stack's (infra/constructs/webhooks.ts): the local
 * bus stands for the EventBridge rule (every event, as an EventBridge-shaped message, to the fan-out queue),
 * two local queues persisted in DynamoDB Local stand for SQS, and the same fan-out and delivery handlers the
 * Lambdas run consume them, with the delivery queue's bounded concurrency. The SSRF guard accepts
 * `http://localhost` and `http://127.0.0.1` here, and only here.
 */
export function startLocalWebhooks(options: LocalWebhooksOptions): LocalWebhooks {
  const { db, tableName, clock } = options;
  const fanoutQueue = new LocalQueue(new LocalQueueStore(db, tableName, 'webhook-fanout'), clock, {
    batchSize: 10,
    maxConcurrency: 4,
    visibilityTimeoutMs: 5_000,
    maxReceiveCount: 5,
  });
  const deliveryQueue = new LocalQueue(new LocalQueueStore(db, tableName, 'webhook-delivery'), clock, {
    batchSize: 1,
    maxConcurrency: 16,
    // Longer than a delivery may take (the request's timeout and the writes around it).
    visibilityTimeoutMs: (options.timeoutMs ?? DELIVERY_TIMEOUT_MS) + 5_000,
    maxReceiveCount: 5,
  });
  const queue: DeliveryQueue = {
    send: async (message, delaySeconds) => {
      await deliveryQueue.send(JSON.stringify(queuedDelivery(message, delaySeconds, clock())), delaySeconds);
    },
  };
  const deps: DeliveryDeps = {
    webhooks: options.webhooks,
    clock,
    resolveHost: options.resolveHost ?? systemResolver,
    allowLocalHttp: true,
    queue,
    sender: options.sender ?? httpWebhookSender,
    bus: options.bus,
    random: Math.random,
    timeoutMs: options.timeoutMs ?? DELIVERY_TIMEOUT_MS,
  };
  fanoutQueue.setHandler(createWebhookFanoutHandler(deps));
  deliveryQueue.setHandler(createWebhookDeliveryHandler(deps));

  // The EventBridge rule: every membergate event, as the SQS target would deliver it.
  const unsubscribe = options.bus.subscribe(async (events) => {
    for (const event of events) {
      await fanoutQueue.send(JSON.stringify({ source: EVENT_SOURCE, 'detail-type': event.type, detail: event }));
    }
  });

  return {
    fanoutQueue,
    deliveryQueue,
    deps,
    start() {
      fanoutQueue.start();
      deliveryQueue.start();
    },
    async stop() {
      unsubscribe();
      await Promise.all([fanoutQueue.stop(), deliveryQueue.stop()]);
    },
    async idle() {
      await fanoutQueue.idle();
      await deliveryQueue.idle();
    },
  };
}
