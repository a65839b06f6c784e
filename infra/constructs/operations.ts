import { ArnFormat, Aspects, Duration, type IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import type { TimerPurpose } from '../../shared/domain/billing.ts';
import type { WebhookOutcomeClass } from '../../shared/metrics.ts';
import type { PageResult } from '../../shared/usecases/bulk-revocations.ts';
import type { ReconciliationPageResult } from '../../shared/usecases/reconciliations.ts';
import { deadLetterAlarm } from './queue-alarms.ts';

/**
 * The application metrics the dashboard and alarms read, as shared/metrics.ts writes them (CloudWatch embedded
 * metric format through Powertools). Spelled out here rather than imported: that module builds the logger and
 * the metrics instance when loaded, which synthesis has no use for. An infra test holds them equal.
 */
export const APP_METRICS = {
  namespace: 'membergate',
  webhookDelivery: 'WebhookDelivery',
  timerLateness: 'TimerLateness',
  eventsPublished: 'EventsPublished',
  eventsRedelivered: 'EventsRedelivered',
  jobPurchases: 'JobPurchases',
} as const;

/** The outcomes a job page's result counts (`{counted: {...}}`), as the worker records them in `JobPurchases`. */
type CountedOutcome<Result> = Result extends { counted: infer Counts } ? keyof Counts : never;
type BulkOutcome = CountedOutcome<PageResult>;
type ReconciliationOutcome = CountedOutcome<ReconciliationPageResult>;
/** Every `job` and `outcome` of `JobPurchases`; held to the page results' counts like the lists below. */
export const JOB_OUTCOMES = {
  bulk_revocation: ['done', 'skipped', 'failed'] as const satisfies readonly BulkOutcome[],
  reconciliation: [
    'in_sync',
    'drifted',
    'repaired',
    'skipped',
    'failed',
  ] as const satisfies readonly ReconciliationOutcome[],
};

/** Every `outcome` of `WebhookDelivery`; the compiler rejects the list when `WebhookOutcomeClass` gains a value. */
export const WEBHOOK_OUTCOMES = [
  'applied',
  'duplicate',
  'ignored',
  'rejected',
] as const satisfies readonly WebhookOutcomeClass[];
/** Every `purpose` of `TimerLateness`; likewise held to `TimerPurpose`. */
export const TIMER_PURPOSES = ['cancellation', 'access_period', 'pause_end'] as const satisfies readonly TimerPurpose[];
const exhaustive: [
  Exclude<WebhookOutcomeClass, (typeof WEBHOOK_OUTCOMES)[number]>,
  Exclude<TimerPurpose, (typeof TIMER_PURPOSES)[number]>,
  Exclude<BulkOutcome, (typeof JOB_OUTCOMES.bulk_revocation)[number]>,
  Exclude<ReconciliationOutcome, (typeof JOB_OUTCOMES.reconciliation)[number]>,
] extends [never, never, never, never]
  ? true
  : never = true;
void exhaustive;

/** What pages: the thresholds of the alarms this construct and its aspect create. */
export const ALARM_THRESHOLDS = {
  /** Rejected processor webhooks (forged, stale or malformed) per 5 minutes and processor. */
  webhookRejections: 10,
  /** Share of API responses that are 5xx, in percent, over 5 minutes (two periods in a row). */
  apiServerErrorPercent: 5,
  /** Below this many requests in 5 minutes the 5xx rate is not judged: 1 of 3 is no outage. */
  apiServerErrorMinRequests: 20,
} as const;

/** A function that verifies a processor's webhooks: its Powertools service name is the metric's `service`. */
export interface WebhookVerifier {
  readonly service: string;
  readonly processor: 'stripe' | 'paypal';
}

export interface OperationsProps {
  readonly api: IHttpApi;
  /** Subscribed to the alarm topic by email when given (context `alarmEmail`). */
  readonly alarmEmail?: string;
  /** The functions behind `POST /webhooks/<processor>`: one signature-failure alarm and outcome line each. */
  readonly webhookVerifiers: readonly WebhookVerifier[];
  /** The Powertools service name of the timer target, the one function that records `TimerLateness`. */
  readonly timerService: string;
  /** The Powertools service names of the job page workers, which record `JobPurchases`. */
  readonly jobWorkerServices: Readonly<Record<keyof typeof JOB_OUTCOMES, string>>;
  /** The Powertools service name of the outbox publisher (`EventsPublished`, `EventsRedelivered`). */
  readonly publisherService: string;
  /** The bulk job queue and its dead-letter queue: job progress is pages queued, done and parked. */
  readonly jobQueue: Queue;
  readonly jobDeadLetterQueue: Queue;
}

/**
 * Operations: the SNS topic every alarm of the stack notifies (alarm and OK), the alarms nothing else owns
 * (API 5xx rate, rejected processor webhooks), and the dashboard.
 *
 * Coverage is structural: `AlarmCoverage`, an aspect on the whole stack, runs at synthesis over every
 * construct, whenever and by whom it was added. It gives every Lambda function an errors and a throttles alarm,
 * every queue without a dead-letter queue of its own (that is, every dead-letter queue: cdk-nag's SQS3 refuses
 * any other queue without one) a depth alarm unless one already watches it, and every alarm the topic as its
 * alarm and OK action. A new function or queue therefore pages without anyone remembering to wire it.
 */
export class Operations extends Construct {
  readonly topic: Topic;
  /** Encrypts the topic; CloudWatch may use it to publish, nothing else outside the account's own principals. */
  readonly topicKey: Key;
  readonly apiServerErrorAlarm: Alarm;
  /** One per webhook verifier, in the order given. */
  readonly webhookRejectionAlarms: readonly Alarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // A key of our own: CloudWatch cannot publish to a topic under the AWS managed aws/sns key, whose policy
    // cannot be changed to let it in (SNS developer guide, "compatibility between event sources from AWS
    // services and encrypted topics").
    this.topicKey = new Key(this, 'TopicKey', {
      description: `Encrypts the membergate alarm topic (${this.node.path})`,
      enableKeyRotation: true,
      // It protects notifications in flight only, nothing kept: it goes with the stack (after KMS's waiting period).
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: 'membergate alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
    });

    // CloudWatch, for alarms of this account and region only (confused-deputy guard), may publish and use the key.
    const alarmsOfThisAccount = {
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
      StringEquals: { 'aws:SourceAccount': stack.account },
    };
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: alarmsOfThisAccount,
      }),
    );
    this.topicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsEncrypt',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: alarmsOfThisAccount,
      }),
    );
    if (props.alarmEmail !== undefined) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    // 5xx share of the API's responses (HTTP API metrics: `5xx` and `Count`, per ApiId).
    const fiveMinutes = Duration.minutes(5);
    const requests = props.api.metricCount({ period: fiveMinutes, statistic: Stats.SUM });
    const serverErrors = props.api.metricServerError({ period: fiveMinutes, statistic: Stats.SUM });
    this.apiServerErrorAlarm = new Alarm(this, 'ApiServerErrorRateAlarm', {
      alarmDescription:
        `More than ${ALARM_THRESHOLDS.apiServerErrorPercent}% of API responses were 5xx for 10 minutes. Read the ` +
        'API access log group (status, integrationError) and the function errors alarms; then the functions logs.',
      metric: new MathExpression({
        label: 'API 5xx %',
        expression: `IF(requests >= ${ALARM_THRESHOLDS.apiServerErrorMinRequests}, 100 * errors / requests, 0)`,
        usingMetrics: { requests, errors: serverErrors },
        period: fiveMinutes,
      }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: ALARM_THRESHOLDS.apiServerErrorPercent,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const webhookDeliveries = (verifier: WebhookVerifier, outcome: WebhookOutcomeClass, label?: string) =>
      new Metric({
        namespace: APP_METRICS.namespace,
        metricName: APP_METRICS.webhookDelivery,
        // Powertools adds `service` to every metric: the alarm must name the full dimension set.
        dimensionsMap: { service: verifier.service, processor: verifier.processor, outcome },
        statistic: Stats.SUM,
        period: fiveMinutes,
        label,
      });
    this.webhookRejectionAlarms = props.webhookVerifiers.map(
      (verifier) =>
        new Alarm(this, `WebhookRejections${verifier.processor[0]!.toUpperCase()}${verifier.processor.slice(1)}Alarm`, {
          alarmDescription:
            `More than ${ALARM_THRESHOLDS.webhookRejections} ${verifier.processor} webhooks in 5 minutes failed ` +
            'verification (bad signature, stale or malformed). A rotated signing secret not yet put in the ' +
            `processor secret, or someone probing POST /webhooks/${verifier.processor}. Read the ${verifier.service} ` +
            "function's `request refused` log lines and compare the secret with the processor's dashboard.",
          metric: webhookDeliveries(verifier, 'rejected'),
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: ALARM_THRESHOLDS.webhookRejections,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
    );

    const oneMinute = Duration.minutes(1);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      // Dashboards are global to the account: the region keeps one stack name deployable in several regions.
      dashboardName: `${stack.stackName}-${stack.region}`,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new TextWidget({
            markdown:
              '# membergate\nAlarms notify the alarm topic (stack output `AlarmTopicArn`); README, Operations, ' +
              'says what each one means and where to look first.',
            width: 24,
            height: 2,
          }),
        ],
        [
          new GraphWidget({
            title: 'Requests',
            left: [
              props.api.metricCount({ period: oneMinute, statistic: Stats.SUM, label: 'requests' }),
              props.api.metricClientError({ period: oneMinute, statistic: Stats.SUM, label: '4xx' }),
              props.api.metricServerError({ period: oneMinute, statistic: Stats.SUM, label: '5xx' }),
            ],
            leftYAxis: { label: 'per minute', showUnits: false, min: 0 },
            width: 12,
          }),
          new GraphWidget({
            title: 'Latency',
            left: [Stats.p(50), Stats.p(90), Stats.p(99)].map((statistic) =>
              props.api.metricLatency({ period: oneMinute, statistic, label: statistic }),
            ),
            leftYAxis: { label: 'ms', showUnits: false, min: 0 },
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Webhook outcomes',
            left: props.webhookVerifiers.flatMap((verifier) =>
              WEBHOOK_OUTCOMES.map((outcome) =>
                webhookDeliveries(verifier, outcome, `${verifier.processor} ${outcome}`),
              ),
            ),
            leftYAxis: { label: 'per 5 minutes', showUnits: false, min: 0 },
            stacked: true,
            width: 12,
          }),
          new GraphWidget({
            title: 'Timer lateness',
            left: TIMER_PURPOSES.flatMap((purpose) =>
              [Stats.p(50), Stats.MAXIMUM].map(
                (statistic) =>
                  new Metric({
                    namespace: APP_METRICS.namespace,
                    metricName: APP_METRICS.timerLateness,
                    dimensionsMap: { service: props.timerService, purpose },
                    statistic,
                    period: fiveMinutes,
                    label: `${purpose} ${statistic}`,
                  }),
              ),
            ),
            leftYAxis: { label: 'ms after due', showUnits: false, min: 0 },
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Job progress',
            left: [
              props.jobQueue.metricApproximateNumberOfMessagesVisible({
                period: fiveMinutes,
                statistic: Stats.MAXIMUM,
                label: 'pages waiting',
              }),
              props.jobQueue.metricNumberOfMessagesDeleted({
                period: fiveMinutes,
                statistic: Stats.SUM,
                label: 'pages done',
              }),
              props.jobDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
                period: fiveMinutes,
                statistic: Stats.MAXIMUM,
                label: 'pages dead-lettered',
              }),
            ],
            right: [
              props.jobQueue.metricApproximateAgeOfOldestMessage({
                period: fiveMinutes,
                statistic: Stats.MAXIMUM,
                label: 'oldest page waiting (s)',
              }),
            ],
            leftYAxis: { label: 'pages', showUnits: false, min: 0 },
            rightYAxis: { label: 'seconds', showUnits: false, min: 0 },
            width: 12,
          }),
          new GraphWidget({
            title: 'Job purchases',
            left: (Object.keys(JOB_OUTCOMES) as (keyof typeof JOB_OUTCOMES)[]).flatMap((job) =>
              JOB_OUTCOMES[job].map(
                (outcome) =>
                  new Metric({
                    namespace: APP_METRICS.namespace,
                    metricName: APP_METRICS.jobPurchases,
                    dimensionsMap: { service: props.jobWorkerServices[job], job, outcome },
                    statistic: Stats.SUM,
                    period: fiveMinutes,
                    label: `${job} ${outcome}`,
                  }),
              ),
            ),
            leftYAxis: { label: 'purchases per 5 minutes', showUnits: false, min: 0 },
            stacked: true,
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Event publishing',
            left: [APP_METRICS.eventsPublished, APP_METRICS.eventsRedelivered].map(
              (metricName) =>
                new Metric({
                  namespace: APP_METRICS.namespace,
                  metricName,
                  dimensionsMap: { service: props.publisherService },
                  statistic: Stats.SUM,
                  period: fiveMinutes,
                }),
            ),
            leftYAxis: { label: 'events per 5 minutes', showUnits: false, min: 0 },
            width: 12,
          }),
        ],
      ],
    });

    Aspects.of(stack).add(new AlarmCoverage(this.topic));
  }
}

/**
 * The aspect behind `Operations`' guarantee (see there): errors and throttles alarms for every Lambda
 * function, a depth alarm for every dead-letter queue that has none, the topic on every alarm.
 */
export class AlarmCoverage implements IAspect {
  private readonly action: SnsAction;
  private readonly wired = new WeakSet<Alarm>();

  constructor(topic: Topic) {
    this.action = new SnsAction(topic);
  }

  visit(node: IConstruct): void {
    if (node instanceof Alarm) this.wire(node);
    else if (node instanceof LambdaFunction) this.coverFunction(node);
    else if (node instanceof Queue && node.deadLetterQueue === undefined) this.coverDeadLetterQueue(node);
  }

  private wire(alarm: Alarm): Alarm {
    if (this.wired.has(alarm)) return alarm;
    alarm.addAlarmAction(this.action);
    // The all-clear too: whoever was paged learns that it recovered without opening the console.
    alarm.addOkAction(this.action);
    this.wired.add(alarm);
    return alarm;
  }

  private coverFunction(fn: LambdaFunction): void {
    // Synthesizing again (the assertions library does) visits again: what was added the first time stays.
    if (fn.node.tryFindChild('ErrorsAlarm')) return;
    const fiveMinutes = Duration.minutes(5);
    const where = `the function's log group (${fn.node.path})`;
    this.wire(
      new Alarm(fn, 'ErrorsAlarm', {
        alarmDescription:
          `${fn.node.path} failed an invocation (an uncaught error or a timeout). Read ${where}: Lambda logs ` +
          'the error with its request id; X-Ray has the trace.',
        metric: fn.metricErrors({ period: fiveMinutes, statistic: Stats.SUM }),
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    this.wire(
      new Alarm(fn, 'ThrottlesAlarm', {
        alarmDescription:
          `Lambda refused invocations of ${fn.node.path} for want of concurrency: the account's concurrent ` +
          'executions are used up. Check ConcurrentExecutions in the Lambda console and what is using them.',
        metric: fn.metricThrottles({ period: fiveMinutes, statistic: Stats.SUM }),
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  private coverDeadLetterQueue(queue: Queue): void {
    if (watchesDepth(Stack.of(queue), queue)) return;
    this.wire(
      deadLetterAlarm(
        queue,
        'DeadLetterAlarm',
        queue,
        `A message is waiting in the dead-letter queue ${queue.node.path}: something failed every attempt. ` +
          'Read the message, fix the cause, then redrive it (SQS console, "Start DLQ redrive").',
      ),
    );
  }
}

/** Whether an alarm of the stack already watches the queue's visible messages (e.g. the constructs' own). */
function watchesDepth(stack: Stack, queue: Queue): boolean {
  return stack.node.findAll().some((node) => {
    if (!(node instanceof Alarm)) return false;
    const stat = (node.metric as IMetric).toMetricConfig().metricStat;
    return (
      stat?.namespace === 'AWS/SQS' &&
      stat.metricName === 'ApproximateNumberOfMessagesVisible' &&
      (stat.dimensions ?? []).some((d) => d.name === 'QueueName' && d.value === queue.queueName)
    );
  });
}
