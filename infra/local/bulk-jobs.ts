import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createBulkWorkerHandler } from '../../functions/bulk-worker/app.ts';
import type { Clock } from '../../shared/domain/time.ts';
import type { JobQueue } from '../../shared/ports/bulk-jobs.ts';
import { createDynamoBulkJobStore } from '../../shared/store/index.ts';
import type { BulkDeps } from '../../shared/usecases/bulk-revocations.ts';
import type { Dependencies } from '../../shared/usecases/deps.ts';
import { LocalQueue, LocalQueueStore, type QueueHandler } from './local-queue.ts';

/** The stack's worker concurrency (infra/constructs/bulk-jobs.ts) scaled to one laptop: two pages at once. */
const LOCAL_MAX_CONCURRENCY = 2;

export interface LocalBulkJobsOptions {
  db: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  deps: Dependencies;
  /** How long a page in flight stays hidden before a failed or crashed delivery is retried (default 30 s). */
  visibilityTimeoutMs?: number;
  /** Test seam: the worker's dependencies as the queue hands them to the handler (a fault-injecting wrapper). */
  workerDeps?: (deps: BulkDeps) => BulkDeps;
}

/** A queue of job pages on the local runtime and the worker that consumes it. */
export interface LocalPageQueue<Deps> {
  queue: LocalQueue;
  /** What the API function is wired with. */
  deps: Deps;
  start(): void;
  stop(): Promise<void>;
  /** Resolves once no page is in flight or due. */
  idle(): Promise<void>;
}

export type LocalBulkJobs = LocalPageQueue<BulkDeps>;

/**
 * A job page queue shaped like the stack's (infra/constructs/bulk-jobs.ts): a local queue persisted in DynamoDB
 * Local stands for SQS (so a job survives a restart of `npm start`), and the same worker handler the Lambda runs
 * consumes it with bounded concurrency, one page per message. `withQueue` completes the worker's dependencies.
 */
export function startLocalPageQueue<Deps>(options: {
  db: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  name: string;
  visibilityTimeoutMs?: number | undefined;
  withQueue: (queue: JobQueue) => Deps;
  worker: (deps: Deps) => QueueHandler;
}): LocalPageQueue<Deps> {
  const queue = new LocalQueue(new LocalQueueStore(options.db, options.tableName, options.name), options.clock, {
    batchSize: 1,
    maxConcurrency: LOCAL_MAX_CONCURRENCY,
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 30_000,
    maxReceiveCount: 5,
  });
  const deps = options.withQueue({
    send: async (message) => {
      await queue.send(JSON.stringify(message));
    },
  });
  queue.setHandler(options.worker(deps));
  return {
    queue,
    deps,
    start: () => queue.start(),
    stop: () => queue.stop(),
    idle: () => queue.idle(),
  };
}

/** Bulk revocation jobs on the local runtime. */
export function startLocalBulkJobs(options: LocalBulkJobsOptions): LocalBulkJobs {
  const { db, tableName } = options;
  return startLocalPageQueue<BulkDeps>({
    db,
    tableName,
    clock: options.clock,
    name: 'bulk-jobs',
    visibilityTimeoutMs: options.visibilityTimeoutMs,
    withQueue: (jobQueue) => ({ ...options.deps, jobs: createDynamoBulkJobStore(db, tableName), jobQueue }),
    worker: (deps) => createBulkWorkerHandler(options.workerDeps ? options.workerDeps(deps) : deps),
  });
}
