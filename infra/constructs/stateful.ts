import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import {
  AttributeType,
  Billing,
  type GlobalSecondaryIndexPropsV2,
  ProjectionType,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GLOBAL_INDEXES, projectionOf, TABLE_SCHEMA } from '../../shared/store/schema.ts';
import { DomainEvents } from './events.ts';
import { deadLetterAlarm } from './queue-alarms.ts';

/**
 * The attribute DynamoDB expires items by (epoch seconds): the store sets it on processor-event dedup records
 * (kept 90 days), and on nothing that must last.
 */
export const TIME_TO_LIVE_ATTRIBUTE = 'ttl';

/**
 * The keys of the processor secret's JSON, the names `processorSettingsFrom` (shared/processor-settings.ts)
 * reads. The operator fills them in after the first deploy; an infra test keeps this list in step with it.
 *
 * - `STRIPE_SECRET_KEY`: the sites' Stripe (Connect) secret key (`sk_…` or a restricted `rk_…`).
 * - `NATIVE_STRIPE_SECRET_KEY`: the platform's own Stripe account, for processor `native`.
 * - `STRIPE_WEBHOOK_SECRET`: the signing secret (`whsec_…`) of the `POST /webhooks/stripe` endpoint.
 * - `STRIPE_API_BASE`: optional; only to point at a Stripe stand-in (leave unset on AWS).
 * - `PAYPAL_CLIENT_ID`, `PAYPAL_CLIENT_SECRET`: the PayPal REST app's credentials.
 * - `PAYPAL_API_BASE`: optional; `https://api-m.sandbox.paypal.com` for sandbox (default: live).
 * - `PAYPAL_WEBHOOK_ID`: the id PayPal gave the `POST /webhooks/paypal` listener.
 * - `PAYPAL_WEBHOOK_CERT`: optional; a PEM to verify PayPal webhooks with instead of downloading PayPal's.
 */
export const PROCESSOR_SECRET_KEYS = [
  'STRIPE_SECRET_KEY',
  'NATIVE_STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_API_BASE',
  'PAYPAL_CLIENT_ID',
  'PAYPAL_CLIENT_SECRET',
  'PAYPAL_API_BASE',
  'PAYPAL_WEBHOOK_ID',
  'PAYPAL_WEBHOOK_CERT',
] as const;

/** Scheduler's limit for a schedule group name. */
const MAX_SCHEDULE_GROUP_NAME = 64;

/**
 * Everything that holds data and must outlive a deploy: the single-table-design table, the schedule group
 * (its schedules are the pending timers), the timers' dead-letter queue (failed deliveries waiting for
 * a human) and the processor secret (credentials an operator typed in). Kept apart from the functions so that replacing stateless resources can never replace them, and
 * handed to them as typed props. What only wires functions to these (the role Scheduler assumes, the
 * sweeper's rule) is stateless and lives in `Timers` (./timers.ts): it depends on a function, and nothing
 * here may.
 */
export class Stateful extends Construct {
  /** The single table. Its key schema and indexes come from `TABLE_SCHEMA`, like the local table's. */
  readonly table: TableV2;
  /**
   * The group every timer schedule is created in, named `<stack name>-timers`: a concrete name, so IAM
   * policies can scope schedule permissions to `schedule/<group>/*` without a token.
   */
  readonly scheduleGroup: ScheduleGroup;
  /** Where Scheduler (and the timer function's failed async invocations) park timers that could not run. */
  readonly timerDeadLetterQueue: Queue;
  /** In alarm as soon as one dead letter is waiting. */
  readonly timerDeadLetterAlarm: Alarm;
  /**
   * Stripe and PayPal credentials and webhook secrets, one JSON object with the keys of
   * `PROCESSOR_SECRET_KEYS`. Created with placeholders; the operator puts the real values
   * (`aws secretsmanager put-secret-value`). Functions get it through `ApiFunction.bindProcessorSecret`.
   */
  readonly processorSecret: Secret;
  /** The event bus, its archive, and the publisher's dead-letter queue with its alarm (./events.ts). */
  readonly events: DomainEvents;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    const globalSecondaryIndexes: GlobalSecondaryIndexPropsV2[] = GLOBAL_INDEXES.map((index) => {
      const projected = projectionOf(index);
      return {
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        ...(projected === 'ALL'
          ? { projectionType: ProjectionType.ALL }
          : { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...projected] }),
      };
    });

    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      globalSecondaryIndexes,
      billing: Billing.onDemand(),
      // The outbox: domain events are published from the stream, so it needs both images.
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The aws/dynamodb key: encryption at rest with CloudTrail-visible key use and no key to manage.
      encryption: TableEncryptionV2.awsManagedKey(),
      // Belt and braces: CloudFormation keeps the table when it leaves the stack, and DynamoDB refuses
      // a DeleteTable from anywhere until someone turns protection off on purpose.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      timeToLiveAttribute: TIME_TO_LIVE_ATTRIBUTE,
    });

    const scheduleGroupName = `${Stack.of(this).stackName}-timers`;
    if (scheduleGroupName.length > MAX_SCHEDULE_GROUP_NAME) {
      throw new Error(`schedule group name ${scheduleGroupName} is longer than ${MAX_SCHEDULE_GROUP_NAME} characters`);
    }
    this.scheduleGroup = new ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName,
      // Not RETAIN (the L2's default), unlike the table: the name is fixed, so a retained group would make
      // re-creating the stack fail with "already exists", and its schedules are derived data: each purchase's
      // due instants are in the table and the sweeper applies anything overdue. Losing them costs minutes.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.timerDeadLetterQueue = new Queue(this, 'TimerDeadLetterQueue', {
      // SQS-managed keys: Scheduler and Lambda can send to it without a customer key policy to maintain.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The SQS maximum: two weeks for someone to look before a dead letter is gone.
      retentionPeriod: Duration.days(14),
    });

    this.timerDeadLetterAlarm = deadLetterAlarm(
      this,
      'TimerDeadLetterAlarm',
      this.timerDeadLetterQueue,
      'A timer could not be delivered or failed every attempt; its purchase waits for the sweeper. ' +
        'Read the message in the timer dead-letter queue.',
    );

    // No secret value in the template. CloudFormation generates the JSON once, at creation, and never again
    // while `generateSecretString` is unchanged, so what the operator puts later is kept across deploys (and
    // a change to `generateSecretString` would generate it anew, overwriting the real values: leave it be).
    // The placeholders fail closed and let the webhook functions work (their first invocation stops without
    // a signing secret or webhook id): STRIPE_WEBHOOK_SECRET is random, so no one can sign a Stripe event that
    // passes (a fixed placeholder would be a published HMAC key); PAYPAL_WEBHOOK_ID is a placeholder no
    // PayPal webhook has, and PayPal's signature covers it. The processor API keys are absent until set.
    this.processorSecret = new Secret(this, 'ProcessorSecret', {
      description:
        `membergate Stripe and PayPal credentials (JSON; keys ${PROCESSOR_SECRET_KEYS.join(', ')}). ` +
        'Placeholders until an operator puts the real values.',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ PAYPAL_WEBHOOK_ID: 'set-me' }),
        generateStringKey: 'STRIPE_WEBHOOK_SECRET',
        excludePunctuation: true,
        passwordLength: 48,
      },
      // Like the table: credentials typed in by hand are not thrown away with the stack. The name is
      // generated, so re-creating the stack next to a retained secret does not collide.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.events = new DomainEvents(this, 'Events');
  }
}
