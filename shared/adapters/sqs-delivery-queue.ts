import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryQueueConfig } from '../config.ts';
import type { Clock } from '../domain/time.ts';
import { type DeliveryMessage, type DeliveryQueue, queuedDelivery } from '../ports/delivery-queue.ts';

/** SQS's longest message delay. */
export const SQS_MAX_DELAY_SECONDS = 900;

/**
 * The delivery queue on SQS. A delay longer than SQS allows is sent as 900 s with the real due instant in the
 * body (`notBefore`); the delivery function sends an early message again with what is left (untilDue), so a
 * 6 h retry is 24 hops of 15 min. Standard queue (not FIFO): deliveries need no order across jobs, and
 * duplicates are harmless (the job's conditional claim).
 */
export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly clock: Clock,
  ) {}

  async send(message: DeliveryMessage, delaySeconds: number): Promise<void> {
    const delay = Math.max(0, Math.ceil(delaySeconds));
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(queuedDelivery(message, delay, this.clock())),
        DelaySeconds: Math.min(delay, SQS_MAX_DELAY_SECONDS),
      }),
    );
  }
}

/** The adapter with its own client, as the production wiring builds it (shared/wiring.ts). */
export function sqsDeliveryQueue(config: DeliveryQueueConfig, clock: Clock): DeliveryQueue {
  return new SqsDeliveryQueue(new SQSClient({}), config.queueUrl, clock);
}
