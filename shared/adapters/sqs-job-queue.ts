import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { JobQueueConfig } from '../config.ts';
import type { JobMessage } from '../domain/bulk-jobs.ts';
import type { JobQueue } from '../ports/bulk-jobs.ts';

/**
 * The queue of bulk job pages on SQS. Standard queue (not FIFO): pages of a job need no order (each is counted
 * once, whichever finishes first), and a duplicate is harmless (the page's markers and `counted` flag).
 */
export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: JobMessage): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) }));
  }
}

/** The adapter with its own client, as the production wiring builds it (shared/wiring.ts). */
export function sqsJobQueue(config: JobQueueConfig): JobQueue {
  return new SqsJobQueue(new SQSClient({}), config.queueUrl);
}
