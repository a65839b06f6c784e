import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RECONCILIATION_WORKER_MAX_CONCURRENCY } from '../../shared/domain/reconciliation.ts';
import { backlogAlarm, deadLetterAlarm } from './queue-alarms.ts';

/** Lambda's advice for SQS event sources: a visibility timeout of at least six times the function's timeout. */
const VISIBILITY_PER_TIMEOUT = 6;
/** Receives before a page goes to the dead-letter queue: only errors of our own (DynamoDB, SQS) fail a page. */
const MAX_RECEIVE_COUNT = 5;
/**
 * How many pages may run at once, across every job of every site: 5 pages × 8 purchases in flight is at most
 * ~40 transactions at a time, a small and fixed share of the table's capacity (DESIGN §6), so a 1 M-purchase
 * job cannot starve the API or other sites. Jobs share the slots: a second job's pages interleave with the first's.
 */
export const BULK_WORKER_MAX_CONCURRENCY = 5;

export interface BulkJobsProps {
  /** The worker: one page per message. */
  readonly worker: IFunction;
  readonly workerTimeout: Duration;
}

/** A queue of job pages, its worker and alarms: what differs between kinds of jobs. */
export interface JobPagesProps extends BulkJobsProps {
  /** How many pages run at once, across every job of every site (the event source's `maxConcurrency`). */
  readonly maxConcurrency: number;
  /** What the alarms say, naming the kind of job. */
  readonly deadLetterDescription: string;
  readonly backlogDescription: string;
}

/**
 * Bulk revocation jobs, the asynchronous half (rule 13; DESIGN §6: every job fans out over a queue):
 *
 *   POST /bulk-revocations ──▶ job queue ──▶ worker λ (page n: queue page n+1, revoke its purchases, count) ──┐
 *                                  ▲─────────────────────────────────────────────────────────────────────┘
 *
 * The queue has a dead-letter queue with an alarm on its depth, and an alarm on the age of the oldest page (a
 * backlog). The worker takes one message per invocation (`batchSize: 1`) and reports failures per message.
 * The API function and the worker send to the queue through `ApiFunction.bindJobQueue`.
 */
export class JobPages extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: JobPagesProps) {
    super(scope, id);
    const queueProps = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;
    // The SQS maximum: two weeks for someone to redrive a page before it is gone.
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', { ...queueProps, retentionPeriod: Duration.days(14) });
    this.queue = new Queue(this, 'Queue', {
      ...queueProps,
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * VISIBILITY_PER_TIMEOUT),
      // A 1 M-purchase job is 10 000 pages; at worst they wait days behind other jobs, never lost before 14.
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    props.worker.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );
    this.alarms = [
      deadLetterAlarm(this, 'DeadLetterAlarm', this.deadLetterQueue, props.deadLetterDescription),
      backlogAlarm(this, 'BacklogAlarm', this.queue, props.backlogDescription, 3_600),
    ];
  }
}

/** Bulk revocation jobs' pages (rule 13). */
export class BulkJobs extends JobPages {
  constructor(scope: Construct, id: string, props: BulkJobsProps) {
    super(scope, id, {
      ...props,
      maxConcurrency: BULK_WORKER_MAX_CONCURRENCY,
      deadLetterDescription:
        'A bulk job page failed five times on errors of our own (DynamoDB, SQS, the scheduler). Its job stays ' +
        'running until the page is redriven from the bulk job dead-letter queue; a redriven page redoes only ' +
        'what is missing.',
      backlogDescription: 'Bulk job pages wait more than an hour: the worker is not keeping up.',
    });
  }
}

/**
 * Drift reconciliations' pages (DESIGN.md §2.1), the same shape: at most
 * `RECONCILIATION_WORKER_MAX_CONCURRENCY` pages at once, since the processors' read limits are what bounds
 * them (each page's reads are paced to its share, shared/adapters/processor-throttle.ts).
 */
export class Reconciliations extends JobPages {
  constructor(scope: Construct, id: string, props: BulkJobsProps) {
    super(scope, id, {
      ...props,
      maxConcurrency: RECONCILIATION_WORKER_MAX_CONCURRENCY,
      deadLetterDescription:
        'A reconciliation page failed five times (a processor unreachable or rate limiting past every retry, or ' +
        'an error of our own). Its job stays running until the page is redriven from the reconciliation ' +
        'dead-letter queue; a redriven page reads again and never repairs twice.',
      backlogDescription: 'Reconciliation pages wait more than an hour: the worker is not keeping up.',
    });
  }
}
