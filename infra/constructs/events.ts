import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { FilterCriteria, type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../shared/ports/event-bus.ts';
import { OUTBOX_STREAM_FILTER } from '../../shared/store/outbox.ts';
import { deadLetterAlarm } from './queue-alarms.ts';

/** How long the archive keeps every event for replay (`aws events start-replay`). */
export const EVENT_ARCHIVE_RETENTION = Duration.days(30);

/** EventBridge's limit for an event bus name. */
const MAX_EVENT_BUS_NAME = 256;

/**
 * How the table's stream feeds the publisher (Lambda's event source mapping). The local poller
 * (infra/local/stream-poller.ts) mirrors the batch size and the filter; its retries are local and quicker.
 */
export const OUTBOX_STREAM_CONSUMER = {
  /** Lambda's default; a batch of events is published in requests of 10 entries. */
  batchSize: 100,
  /**
   * Redeliveries of a failing batch before its description goes to the dead-letter queue. Each delivery
   * already retries failed entries inside the function, so this many means EventBridge has been refusing
   * for minutes; splits by `bisectBatchOnError` do not count. The shard waits meanwhile (events stay in
   * order per purchase), which is why the count is bounded at all.
   */
  retryAttempts: 20,
  /**
   * Older records go to the dead-letter queue without another try. Well inside the stream's 24 h retention,
   * so that a dead letter (which names a shard and a sequence-number range) can still be read and replayed.
   */
  maxRecordAge: Duration.hours(6),
  /** How far behind the stream the publisher may fall (its oldest record's age) before the alarm. */
  lagAlarmThreshold: Duration.minutes(1),
} as const;

/**
 * The outbound half of DESIGN.md §5 that holds data or outlives a deploy: the stack's event bus (a custom bus,
 * named `<stack>-events`, never the account's default), its archive (every membergate event, kept
 * `EVENT_ARCHIVE_RETENTION`, for replay to a rule that missed them), and the publisher's dead-letter queue
 * (descriptions of stream batches that could not be published) with its alarm. `Stateful` owns it; the
 * wiring to the publisher is `OutboxPublishing`.
 *
 * Consumers add rules on `bus` (e.g. `new Rule(stack, 'Revoked', { eventBus: stack.events.bus, eventPattern:
 * { source: ['membergate'], detailType: ['access.revoked'] } })`; README, Events).
 */
export class DomainEvents extends Construct {
  readonly bus: EventBus;
  readonly archive: Archive;
  /** Lambda's on-failure destination for the publisher's event source: batches it gave up on. */
  readonly deadLetterQueue: Queue;
  /** In alarm as soon as one dead letter is waiting. */
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    const eventBusName = `${Stack.of(this).stackName}-events`;
    if (eventBusName.length > MAX_EVENT_BUS_NAME) {
      throw new Error(`event bus name ${eventBusName} is longer than ${MAX_EVENT_BUS_NAME} characters`);
    }
    this.bus = new EventBus(this, 'Bus', {
      eventBusName,
      description: 'membergate domain events (source membergate, detail-type = event type, detail = envelope)',
    });
    this.archive = this.bus.archive('Archive', {
      description: 'Every membergate domain event, for replay',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: EVENT_ARCHIVE_RETENTION,
    });

    this.deadLetterQueue = new Queue(this, 'PublisherDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The SQS maximum. The messages describe stream ranges (readable for 24 h); the events themselves stay
      // in the table's history for good and can be republished from there after that.
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterAlarm = deadLetterAlarm(
      this,
      'PublisherDeadLetterAlarm',
      this.deadLetterQueue,
      'Domain events could not be published after every retry; consumers are missing them. The message in ' +
        'the publisher dead-letter queue names the stream shard and sequence numbers (README, Events).',
    );
  }
}

export interface OutboxPublishingProps {
  /** The table whose stream is the outbox. */
  readonly table: ITable;
  /** The publisher function (functions/publisher). */
  readonly publisher: IFunction;
  readonly events: DomainEvents;
}

/**
 * The stateless half of the outbox: the publisher's event source mapping on the table's stream, and an alarm
 * when it falls behind. Lambda invokes the function only for history inserts (the `OUTBOX_STREAM_FILTER`
 * criteria, shared with the publisher's own check and the local poller), one batch per shard at a time
 * (events stay in order per purchase), starting at the oldest record the first time so nothing written
 * before the deploy finished is skipped. The function reports the records to redeliver; a batch that still
 * fails after `retryAttempts` or `maxRecordAge` is described in the dead-letter queue.
 */
export class OutboxPublishing extends Construct {
  readonly eventSource: DynamoEventSource;
  /** The publisher is more than `lagAlarmThreshold` behind the stream. */
  readonly lagAlarm: Alarm;

  constructor(scope: Construct, id: string, props: OutboxPublishingProps) {
    super(scope, id);

    this.eventSource = new DynamoEventSource(props.table, {
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: OUTBOX_STREAM_CONSUMER.batchSize,
      filters: [FilterCriteria.filter(OUTBOX_STREAM_FILTER)],
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: OUTBOX_STREAM_CONSUMER.retryAttempts,
      maxRecordAge: OUTBOX_STREAM_CONSUMER.maxRecordAge,
      onFailure: new SqsDlq(props.events.deadLetterQueue),
      // One batch per shard at a time: parallelization would reorder a purchase's events.
      parallelizationFactor: 1,
    });
    props.publisher.addEventSource(this.eventSource);

    this.lagAlarm = new Alarm(this, 'LagAlarm', {
      alarmDescription:
        'The outbox publisher is behind the table stream: events reach consumers late (EventBridge refusing, ' +
        'or the publisher failing). Read the publisher logs.',
      metric: new Metric({
        namespace: 'AWS/Lambda',
        metricName: 'IteratorAge',
        dimensionsMap: { FunctionName: props.publisher.functionName },
        period: Duration.minutes(1),
        statistic: Stats.MAXIMUM,
      }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: OUTBOX_STREAM_CONSUMER.lagAlarmThreshold.toMilliseconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
