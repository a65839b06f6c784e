import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../shared/ports/event-bus.ts';
import { backlogAlarm, deadLetterAlarm } from './queue-alarms.ts';

/**
 * Lambda's advice for SQS event sources: a visibility timeout of at least six times the function's timeout,
 * so a message whose batch is being retried is not handed to a second invocation meanwhile.
 */
const VISIBILITY_PER_TIMEOUT = 6;
/** Receives before a message goes to its dead-letter queue: only errors of our own (DynamoDB, SQS, the bus) count. */
const MAX_RECEIVE_COUNT = 5;

/** How many fan-out invocations may run at once: each reads one site's endpoints and writes a job per endpoint. */
export const FANOUT_MAX_CONCURRENCY = 10;
/**
 * How many deliveries may be in flight at once (one message per invocation): the bound on what membergate
 * asks of integrators' servers and of the account's Lambda concurrency. 100 × ~0.5 s covers DESIGN §6's
 * 200 deliveries/s, and a dead endpoint holds one slot for its 10 s timeout, never another job's.
 */
export const DELIVERY_MAX_CONCURRENCY = 100;

export interface WebhooksProps {
  /** The stack's event bus: a rule on it sends every membergate event to the fan-out queue. */
  readonly bus: IEventBus;
  /** Fan-out: one job per (event, endpoint), queued on the delivery queue. */
  readonly fanout: IFunction;
  readonly fanoutTimeout: Duration;
  /** Delivery: one attempt per message. */
  readonly delivery: IFunction;
  readonly deliveryTimeout: Duration;
}

/**
 * Integrator webhooks, the asynchronous half (DESIGN.md §5, §6: every job fans out over a queue):
 *
 *   bus ──rule (source membergate)──▶ fan-out queue ──▶ fan-out λ ──▶ delivery queue ──▶ delivery λ ──▶ integrator
 *
 * Each queue has a dead-letter queue and an alarm on it, and an alarm on the age of its oldest message
 * (a backlog). The functions report partial batch failures, so only the failed message is retried. The
 * delivery function takes one message per invocation with bounded concurrency: a slow endpoint holds up
 * only its own job. Queues use SQS-managed encryption and refuse plain-HTTP access.
 *
 * The fan-out and delivery functions send to the delivery queue through `ApiFunction.bindDeliveryQueue`.
 */
export class Webhooks extends Construct {
  readonly fanoutQueue: Queue;
  readonly fanoutDeadLetterQueue: Queue;
  readonly deliveryQueue: Queue;
  readonly deliveryDeadLetterQueue: Queue;
  readonly rule: Rule;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: WebhooksProps) {
    super(scope, id);
    const queueProps = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;
    const deadLetterQueue = (name: string) =>
      // The SQS maximum: two weeks for someone to look before a dead letter is gone.
      new Queue(this, name, { ...queueProps, retentionPeriod: Duration.days(14) });

    this.fanoutDeadLetterQueue = deadLetterQueue('FanoutDeadLetterQueue');
    this.fanoutQueue = new Queue(this, 'FanoutQueue', {
      ...queueProps,
      visibilityTimeout: Duration.seconds(props.fanoutTimeout.toSeconds() * VISIBILITY_PER_TIMEOUT),
      deadLetterQueue: { queue: this.fanoutDeadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    this.deliveryDeadLetterQueue = deadLetterQueue('DeliveryDeadLetterQueue');
    this.deliveryQueue = new Queue(this, 'DeliveryQueue', {
      ...queueProps,
      visibilityTimeout: Duration.seconds(props.deliveryTimeout.toSeconds() * VISIBILITY_PER_TIMEOUT),
      deadLetterQueue: { queue: this.deliveryDeadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.rule = new Rule(this, 'FanoutRule', {
      eventBus: props.bus,
      description: 'Every membergate event, to the integrator webhooks fan-out queue',
      eventPattern: { source: [EVENT_SOURCE] },
      targets: [
        new SqsQueue(this.fanoutQueue, {
          // Events EventBridge could not put on the queue (throttling, a policy change) land with the fan-out's.
          deadLetterQueue: this.fanoutDeadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    props.fanout.addEventSource(
      new SqsEventSource(this.fanoutQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: FANOUT_MAX_CONCURRENCY,
      }),
    );
    props.delivery.addEventSource(
      new SqsEventSource(this.deliveryQueue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: DELIVERY_MAX_CONCURRENCY,
      }),
    );

    this.alarms = [
      deadLetterAlarm(
        this,
        'FanoutDeadLetterAlarm',
        this.fanoutDeadLetterQueue,
        'An event could not be fanned out to webhook jobs (or EventBridge could not queue it). Read the message ' +
          'in the webhook fan-out dead-letter queue and send it back to the fan-out queue once fixed.',
      ),
      deadLetterAlarm(
        this,
        'DeliveryDeadLetterAlarm',
        this.deliveryDeadLetterQueue,
        'A webhook delivery job failed on errors of our own (DynamoDB, SQS or the bus), not of the endpoint. ' +
          'Read the message in the webhook delivery dead-letter queue; the job stays pending until it is redriven.',
      ),
      backlogAlarm(
        this,
        'FanoutBacklogAlarm',
        this.fanoutQueue,
        'Events wait more than 5 minutes to be fanned out to webhook jobs.',
        300,
      ),
      backlogAlarm(
        this,
        'DeliveryBacklogAlarm',
        this.deliveryQueue,
        // A delayed retry is re-sent every 15 min (the SQS delay limit), so a healthy message is never older.
        'Webhook deliveries wait more than 30 minutes past their due time: the delivery function is not keeping up.',
        1_800,
      ),
    ];
  }
}
