import { randomUUID } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Clock } from '../../shared/domain/time.ts';
import { keys } from '../../shared/store/keys.ts';
import { Table } from '../../shared/store/table.ts';

/** One message as the local queue keeps it. */
export interface LocalQueueMessage {
  messageId: string;
  body: string;
  /** Not handed out before this instant (the send's delay, then the visibility timeout while in flight). */
  visibleAt: string;
  receiveCount: number;
  sentAt: string;
}

/**
 * Where a local queue keeps its messages: in DynamoDB Local beside the data (`LOCAL#QUEUE#<name>` items), so
 * a delivery waiting for its retry survives a restart of `npm start`, as it would in SQS. Local runtime only.
 * The sort key starts with the instant a message becomes visible, so the due messages are one Query in
 * order, however many retries wait for later.
 */
export class LocalQueueStore {
  private readonly table: Table;

  constructor(
    db: DynamoDBDocumentClient,
    tableName: string,
    readonly queueName: string,
  ) {
    this.table = new Table(db, tableName);
  }

  async put(message: LocalQueueMessage): Promise<void> {
    await this.table.db.send(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...this.key(message), entity: 'localQueueMessage', ...message },
      }),
    );
  }

  async delete(message: LocalQueueMessage): Promise<void> {
    await this.table.db.send(new DeleteCommand({ TableName: this.table.name, Key: this.key(message) }));
  }

  /** Moves a message to another visibility instant (its key changes with it). */
  async move(message: LocalQueueMessage, next: LocalQueueMessage): Promise<void> {
    await this.put(next);
    await this.delete(message);
  }

  /** Up to `limit` messages visible at `now`, the longest-waiting first. */
  async due(now: Date, limit: number): Promise<LocalQueueMessage[]> {
    const result = await this.table.db.send(
      new QueryCommand({
        TableName: this.table.name,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': keys.localQueuePartition(this.queueName),
          ':from': keys.localQueueMessage(this.queueName, '', '').sk,
          ':to': keys.localQueueMessage(this.queueName, now.toISOString(), '\uffff').sk,
        },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map(messageOf);
  }

  async list(): Promise<LocalQueueMessage[]> {
    const found = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.localQueuePartition(this.queueName) },
      ConsistentRead: true,
    });
    return found.map(messageOf);
  }

  private key(message: LocalQueueMessage) {
    return keys.localQueueMessage(this.queueName, message.visibleAt, message.messageId);
  }
}

function messageOf(item: Record<string, unknown>): LocalQueueMessage {
  return {
    messageId: String(item.messageId),
    body: String(item.body),
    visibleAt: String(item.visibleAt),
    receiveCount: Number(item.receiveCount),
    sentAt: String(item.sentAt),
  };
}

export interface LocalQueueOptions {
  /** Messages per handler call (the event source's `batchSize`). */
  batchSize: number;
  /** Handler calls in flight at once (the event source's `maxConcurrency`). */
  maxConcurrency: number;
  /** How long a received message stays hidden before a failure makes it visible again. */
  visibilityTimeoutMs: number;
  /** Receives before a message is dead-lettered (the redrive policy's `maxReceiveCount`). */
  maxReceiveCount: number;
  /** How often the queue looks for due messages when nothing wakes it. */
  pollIntervalMs?: number;
}

export type QueueHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  deadLetteredAt: string;
}

/**
 * The local stand-in for an SQS queue and its Lambda event source: `send` with a delay (any length: no
 * 900 s limit here), batches of `batchSize` handed to the same handler the Lambda runs, at most
 * `maxConcurrency` batches at once (so one slow batch never holds up the others), partial batch failures
 * retried after the visibility timeout, and dead-lettered after `maxReceiveCount` receives.
 */
export class LocalQueue {
  private handler: QueueHandler = async () => undefined;
  private readonly inFlight = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = true;
  readonly deadLetters: DeadLetter[] = [];
  handled = 0;

  constructor(
    private readonly store: LocalQueueStore,
    private readonly clock: Clock,
    private readonly options: LocalQueueOptions,
  ) {}

  get name(): string {
    return this.store.queueName;
  }

  setHandler(handler: QueueHandler): void {
    this.handler = handler;
  }

  async send(body: string, delaySeconds = 0): Promise<string> {
    const now = this.clock();
    const message: LocalQueueMessage = {
      messageId: randomUUID(),
      body,
      visibleAt: new Date(now.getTime() + Math.max(0, delaySeconds) * 1000).toISOString(),
      receiveCount: 0,
      sentAt: now.toISOString(),
    };
    await this.store.put(message);
    if (delaySeconds <= 0) this.wake();
    return message.messageId;
  }

  /** Starts handing out messages, including those persisted before a restart. */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops polling and waits for the batches in flight, so their writes are not cut off. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
    await Promise.allSettled([...this.running]);
  }

  /** Resolves once nothing is in flight and nothing is due (tests and the bench wait on it). */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.allSettled([...this.running]);
      const due = await this.store.due(this.clock(), 1);
      if (this.running.size === 0 && due.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stats(): Promise<{ waiting: number; inFlight: number; handled: number; deadLetters: number }> {
    const messages = await this.store.list();
    return {
      waiting: messages.length - this.inFlight.size,
      inFlight: this.inFlight.size,
      handled: this.handled,
      deadLetters: this.deadLetters.length,
    };
  }

  private wake(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling ??= this.poll()
        .catch((error) =>
          console.error(
            JSON.stringify({
              level: 'ERROR',
              message: 'local queue poll failed',
              queue: this.name,
              error: String(error),
            }),
          ),
        )
        .finally(() => {
          this.polling = null;
          this.schedule();
        });
    }, 0);
    this.timer.unref?.();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, this.options.pollIntervalMs ?? 250);
    this.timer.unref?.();
  }

  private async poll(): Promise<void> {
    const slots = this.options.maxConcurrency - this.running.size;
    if (slots <= 0 || this.stopped) return;
    const wanted = slots * this.options.batchSize;
    const due = (await this.store.due(this.clock(), wanted + this.inFlight.size))
      .filter((message) => !this.inFlight.has(message.messageId))
      .slice(0, wanted);
    for (let i = 0; i < due.length; i += this.options.batchSize) {
      const batch = due.slice(i, i + this.options.batchSize);
      for (const message of batch) this.inFlight.add(message.messageId);
      const run = this.run(batch).finally(() => {
        this.running.delete(run);
        for (const message of batch) this.inFlight.delete(message.messageId);
        this.wake();
      });
      this.running.add(run);
    }
  }

  private async run(batch: LocalQueueMessage[]): Promise<void> {
    const receivedAt = this.clock();
    const received = batch.map((message) => ({
      ...message,
      receiveCount: message.receiveCount + 1,
      visibleAt: new Date(receivedAt.getTime() + this.options.visibilityTimeoutMs).toISOString(),
    }));
    // Hidden for the visibility timeout: if this process dies now, the message is received again after it.
    await Promise.all(received.map((message, i) => this.store.move(batch[i]!, message)));
    let failed: Set<string>;
    try {
      const response = await this.handler({
        Records: received.map((message) => ({
          messageId: message.messageId,
          receiptHandle: message.messageId,
          body: message.body,
          attributes: {
            ApproximateReceiveCount: String(message.receiveCount),
            SentTimestamp: String(Date.parse(message.sentAt)),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:local:000000000000:${this.name}`,
          awsRegion: 'local',
        })),
      } as unknown as SQSEvent);
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      console.error(
        JSON.stringify({
          level: 'ERROR',
          message: 'local queue handler failed',
          queue: this.name,
          error: String(error),
        }),
      );
      failed = new Set(received.map((message) => message.messageId));
    }
    this.handled += received.length;
    for (const message of received) {
      if (!failed.has(message.messageId)) await this.store.delete(message);
      else if (message.receiveCount >= this.options.maxReceiveCount) {
        await this.store.delete(message);
        this.deadLetters.push({
          messageId: message.messageId,
          body: message.body,
          receiveCount: message.receiveCount,
          deadLetteredAt: this.clock().toISOString(),
        });
      }
      // Otherwise it stays, hidden until its visibility timeout passes: then it is received again.
    }
  }
}
