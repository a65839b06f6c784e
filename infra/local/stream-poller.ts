import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  type ShardIteratorType,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StreamBatch, StreamBatchResponse } from '../../functions/publisher/app.ts';
import { createDocumentClient } from '../../shared/store/client.ts';
import { matchesFilter, OUTBOX_STREAM_FILTER } from '../../shared/store/outbox.ts';
import { LocalCheckpointStore } from './checkpoint-store.ts';

/** Like Lambda's event source mapping: a bounded number of redeliveries with backoff, then a dead letter. */
export interface PollerRetryPolicy {
  /** Deliveries of a failing batch, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface StreamPollerOptions {
  /** DynamoDB Local's endpoint. */
  endpoint: string;
  tableName: string;
  /**
   * Where positions are kept. @default a store on a client of the poller's own, so that its checkpoint writes
   * never mingle with the API's (a test may give one that fails on purpose).
   */
  checkpoints?: LocalCheckpointStore;
  /** The function the records go to: the publisher Lambda's handler. */
  handler: (batch: StreamBatch) => Promise<StreamBatchResponse>;
  /** Names the checkpoints, so two consumers of one stream keep separate positions. @default 'publisher' */
  consumer?: string;
  /** Records not matching are dropped before the handler, as Lambda's filter criteria do. @default OUTBOX_STREAM_FILTER */
  filter?: Parameters<typeof matchesFilter>[0];
  /** How long an idle poll waits before the next; a poll that found records is followed at once. @default 200 */
  pollIntervalMs?: number;
  /** Records per GetRecords and per handler call (the mapping's batch size). @default 100 */
  batchSize?: number;
  retry?: Partial<PollerRetryPolicy>;
  /** How often the shard list is read again (new shards appear when DynamoDB splits or rolls them). @default 1000 */
  shardRefreshMs?: number;
}

export interface DeadLetter {
  shardId: string;
  sequenceNumbers: string[];
  reason: string;
  at: string;
}

export interface ShardStatus {
  shardId: string;
  parentShardId: string | null;
  /** The last sequence number persisted as handled. */
  checkpoint: string | null;
  /** Closed and read to its end. */
  done: boolean;
}

interface ShardState {
  shardId: string;
  parentShardId: string | null;
  /** undefined: not read yet; null: none stored. */
  checkpoint: string | null | undefined;
  /** undefined: to be fetched; null: the shard is closed and read to its end. */
  iterator: string | null | undefined;
  done: boolean;
}

const DEFAULT_RETRY: PollerRetryPolicy = { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 5_000 };
const MAX_DEAD_LETTERS = 1_000;

/** Thrown inside a delivery when `stop()` interrupts its retries: nothing after it is acknowledged. */
class Interrupted extends Error {}

/**
 * The local stand-in for Lambda's DynamoDB event source mapping (`npm start`): polls DynamoDB Local's stream
 * (DescribeStream, GetShardIterator, GetRecords) every ~200 ms and hands each batch of matching records to
 * the publisher's handler, shard by shard, parents before children, in sequence order.
 *
 * Nothing is lost across restarts: after a batch is handled, the last sequence number is checkpointed in
 * DynamoDB Local (`LOCAL#STREAM` items), and a restart resumes AFTER_SEQUENCE_NUMBER it (TRIM_HORIZON for a
 * shard never checkpointed; with DATA_DIR, DynamoDB Local keeps the stream across restarts). Delivery is at
 * least once: a crash between the publish and the checkpoint publishes those events again, with the same ids.
 *
 * The handler's `batchItemFailures` are honoured as Lambda does: the earliest one reported is where the
 * batch resumes (records before it are checkpointed), after a backoff, up to `maxAttempts`; then the rest is
 * dead-lettered (logged, kept in `deadLetters`) and the shard moves on, like an on-failure destination.
 *
 * A checkpoint is written only after a batch that had records for the handler: the checkpoint item is itself
 * a write on the stream, and checkpointing a batch of nothing but that write would feed the loop forever.
 */
export class LocalStreamPoller {
  readonly deadLetters: DeadLetter[] = [];
  private readonly dynamodb: DynamoDBClient;
  private readonly streams: DynamoDBStreamsClient;
  /** Set when the poller made its own checkpoint store (and so owns its client). */
  private readonly ownDocumentClient: DynamoDBDocumentClient | null;
  private readonly checkpoints: LocalCheckpointStore;
  private readonly consumer: string;
  private readonly filter: Parameters<typeof matchesFilter>[0];
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly retry: PollerRetryPolicy;
  private readonly shardRefreshMs: number;
  private readonly shards = new Map<string, ShardState>();
  private streamArn: string | null = null;
  private lastRefresh = 0;
  private refreshNeeded = true;
  private running: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private consecutiveErrors = 0;
  private counters = { polls: 0, records: 0, handled: 0, batches: 0, redeliveries: 0 };

  constructor(private readonly options: StreamPollerOptions) {
    const client = {
      endpoint: options.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    this.dynamodb = new DynamoDBClient(client);
    this.streams = new DynamoDBStreamsClient(client);
    this.ownDocumentClient = options.checkpoints ? null : createDocumentClient({ endpoint: options.endpoint });
    this.checkpoints = options.checkpoints ?? new LocalCheckpointStore(this.ownDocumentClient!, options.tableName);
    this.consumer = options.consumer ?? 'publisher';
    this.filter = options.filter ?? OUTBOX_STREAM_FILTER;
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.batchSize = options.batchSize ?? 100;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.shardRefreshMs = options.shardRefreshMs ?? 1_000;
  }

  /** Finds the table's stream and starts polling; throws if the table has no stream. */
  async start(): Promise<void> {
    if (this.running) return;
    const { Table } = await this.dynamodb.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    if (!Table?.LatestStreamArn) throw new Error(`table ${this.options.tableName} has no stream`);
    this.streamArn = Table.LatestStreamArn;
    this.running = this.loop();
  }

  /** Stops polling and waits for the batch in flight (its handler call and checkpoint) to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = null;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.dynamodb.destroy();
    this.streams.destroy();
    this.ownDocumentClient?.destroy();
  }

  /**
   * Resolves the next time a full poll finds no new record: everything written before the call has been
   * handled and checkpointed (or dead-lettered).
   */
  caughtUp(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      // Two idle polls: the first may have started before the caller's writes.
      let remaining = 2;
      const wait = () => {
        remaining--;
        if (remaining === 0 || this.stopping) resolve();
        else this.idleWaiters.push(wait);
      };
      this.idleWaiters.push(wait);
    });
  }

  status() {
    return {
      streamArn: this.streamArn,
      ...this.counters,
      deadLetters: this.deadLetters.length,
      shards: [...this.shards.values()].map(
        (shard): ShardStatus => ({
          shardId: shard.shardId,
          parentShardId: shard.parentShardId,
          checkpoint: shard.checkpoint ?? null,
          done: shard.done,
        }),
      ),
    };
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let busy = false;
      try {
        busy = await this.pollOnce();
        this.consecutiveErrors = 0;
      } catch (error) {
        if (this.stopping) break;
        this.consecutiveErrors++;
        // Once, then every 25th: DynamoDB Local being restarted should not flood the terminal.
        if (this.consecutiveErrors === 1 || this.consecutiveErrors % 25 === 0) {
          console.error(
            JSON.stringify({
              level: 'ERROR',
              message: 'stream poll failed; retrying',
              consecutive: this.consecutiveErrors,
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            }),
          );
        }
      }
      if (!busy) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        const backoff =
          this.consecutiveErrors > 0 ? Math.min(5_000, this.pollIntervalMs * 2 ** this.consecutiveErrors) : 0;
        await this.pause(Math.max(this.pollIntervalMs, backoff));
      }
    }
  }

  /** One pass over the shards that may be read now; whether any returned records. */
  private async pollOnce(): Promise<boolean> {
    this.counters.polls++;
    if (this.refreshNeeded || Date.now() - this.lastRefresh >= this.shardRefreshMs) await this.refreshShards();
    let busy = false;
    for (const shard of this.readableShards()) {
      if (this.stopping) break;
      if (await this.pollShard(shard)) busy = true;
    }
    return busy;
  }

  private async refreshShards(): Promise<void> {
    const seen = new Set<string>();
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn!, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      for (const shard of StreamDescription?.Shards ?? []) {
        if (!shard.ShardId) continue;
        seen.add(shard.ShardId);
        if (!this.shards.has(shard.ShardId)) {
          this.shards.set(shard.ShardId, {
            shardId: shard.ShardId,
            parentShardId: shard.ParentShardId ?? null,
            checkpoint: undefined,
            iterator: undefined,
            done: false,
          });
        }
      }
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    // A shard no longer listed was trimmed (older than the stream's retention): nothing more to read there.
    for (const shardId of this.shards.keys()) if (!seen.has(shardId)) this.shards.delete(shardId);
    this.lastRefresh = Date.now();
    this.refreshNeeded = false;
  }

  /** Open or unfinished shards whose parent is read to its end (or gone): per-key order survives a split. */
  private readableShards(): ShardState[] {
    return [...this.shards.values()].filter((shard) => {
      if (shard.done) return false;
      const parent = shard.parentShardId ? this.shards.get(shard.parentShardId) : undefined;
      return !parent || parent.done;
    });
  }

  private async pollShard(shard: ShardState): Promise<boolean> {
    if (shard.iterator === undefined) {
      if (shard.checkpoint === undefined) shard.checkpoint = await this.checkpoints.get(this.consumer, shard.shardId);
      shard.iterator = await this.iteratorFor(shard);
    }
    if (shard.iterator === null) {
      shard.done = true;
      return false;
    }
    let output: { Records?: _Record[]; NextShardIterator?: string };
    try {
      output = await this.streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.batchSize }));
    } catch (error) {
      if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
        shard.iterator = undefined; // fetched again from the checkpoint
        return true;
      }
      if (error instanceof ResourceNotFoundException) {
        this.shards.delete(shard.shardId);
        this.refreshNeeded = true;
        return true;
      }
      throw error;
    }
    const records = output.Records ?? [];
    if (records.length > 0) {
      this.counters.records += records.length;
      try {
        await this.deliver(shard, records);
      } catch (error) {
        if (error instanceof Interrupted) return false;
        throw error;
      }
    }
    shard.iterator = output.NextShardIterator ?? null;
    if (shard.iterator === null) {
      shard.done = true;
      this.refreshNeeded = true; // its children may be readable now
    }
    return records.length > 0;
  }

  private async iteratorFor(shard: ShardState): Promise<string | null> {
    const base = { StreamArn: this.streamArn!, ShardId: shard.shardId };
    if (shard.checkpoint) {
      try {
        const { ShardIterator } = await this.streams.send(
          new GetShardIteratorCommand({
            ...base,
            ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
            SequenceNumber: shard.checkpoint,
          }),
        );
        return ShardIterator ?? null;
      } catch (error) {
        if (!(error instanceof TrimmedDataAccessException)) throw error;
        console.error(
          JSON.stringify({
            level: 'WARN',
            message: 'stream checkpoint is older than the stream keeps records; resuming at the oldest record',
            shardId: shard.shardId,
            checkpoint: shard.checkpoint,
          }),
        );
      }
    }
    const type: ShardIteratorType = 'TRIM_HORIZON';
    const { ShardIterator } = await this.streams.send(
      new GetShardIteratorCommand({ ...base, ShardIteratorType: type }),
    );
    return ShardIterator ?? null;
  }

  /** Hands a GetRecords batch to the handler with Lambda's partial-failure semantics, then checkpoints it. */
  private async deliver(shard: ShardState, records: _Record[]): Promise<void> {
    const last = records.at(-1)!.dynamodb!.SequenceNumber!;
    const selected = records.filter((record) => matchesFilter(this.filter, record));
    if (selected.length === 0) return;
    let pending = selected;
    for (let attempt = 1; ; attempt++) {
      this.counters.batches++;
      const failedAt = await this.invoke(pending);
      if (failedAt === -1) break;
      // What precedes the failure is done: a restart now must not publish it again.
      if (failedAt > 0) await this.checkpoint(shard, pending[failedAt - 1]!.dynamodb!.SequenceNumber!);
      pending = pending.slice(failedAt);
      if (attempt >= this.retry.maxAttempts) {
        this.deadLetter(shard, pending, `still failing after ${attempt} deliveries`);
        break;
      }
      this.counters.redeliveries++;
      await this.pause(Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1)));
      if (this.stopping) throw new Interrupted();
    }
    this.counters.handled += selected.length;
    await this.checkpoint(shard, last);
  }

  /** Index of the first record to redeliver (-1: none). An identifier not in the batch fails it all, as in Lambda. */
  private async invoke(records: _Record[]): Promise<number> {
    let response: StreamBatchResponse;
    try {
      response = await this.options.handler({ Records: records });
    } catch (error) {
      console.error(
        JSON.stringify({ level: 'ERROR', message: 'publisher handler threw; redelivering', error: String(error) }),
      );
      return 0;
    }
    let first = -1;
    for (const { itemIdentifier } of response.batchItemFailures ?? []) {
      const index = records.findIndex((record) => record.dynamodb?.SequenceNumber === itemIdentifier);
      const at = index === -1 ? 0 : index;
      if (first === -1 || at < first) first = at;
    }
    return first;
  }

  private async checkpoint(shard: ShardState, sequenceNumber: string): Promise<void> {
    await this.checkpoints.put(this.consumer, shard.shardId, sequenceNumber);
    shard.checkpoint = sequenceNumber;
  }

  private deadLetter(shard: ShardState, records: _Record[], reason: string) {
    const letter: DeadLetter = {
      shardId: shard.shardId,
      sequenceNumbers: records.map((record) => record.dynamodb?.SequenceNumber ?? ''),
      reason,
      at: new Date().toISOString(),
    };
    this.deadLetters.push(letter);
    if (this.deadLetters.length > MAX_DEAD_LETTERS) this.deadLetters.shift();
    console.error(JSON.stringify({ level: 'ERROR', message: 'stream records dead-lettered', ...letter }));
  }

  /** Waits `ms`, or less if `stop()` is called. */
  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
