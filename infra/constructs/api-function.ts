import { AssetHashType, DockerImage, Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, Code, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TableAccess } from '../../shared/function-needs.ts';
import { PROJECT_ROOT } from '../definitions.ts';
import { ENTRY_NAME, FunctionBundling } from './bundling.ts';
import type { Timers } from './timers.ts';

/**
 * The levels a function may log at. Lambda reads a line without a `level` (the metrics' EMF lines) as INFO
 * and drops it below the application log level, so a stricter level (WARN, ERROR) would silently lose
 * every metric: INFO is the quietest level that keeps them.
 */
export type FunctionLogLevel = 'TRACE' | 'DEBUG' | 'INFO';

export interface ApiFunctionProps {
  /** Absolute path of the TypeScript entry file. */
  readonly entry: string;
  /** The `service` of its log lines and metrics (`POWERTOOLS_SERVICE_NAME`): its definition's name. */
  readonly serviceName: string;
  /**
   * `LOG_LEVEL`, which the logger reads, and Lambda's own application log level, set to the same value so
   * that the two never disagree (Powertools defers to Lambda's when both are set). @default 'INFO'
   */
  readonly logLevel?: FunctionLogLevel;
  /** Exported handler name in `entry`. @default 'handler' */
  readonly handler?: string;
  readonly description?: string;
  /**
   * An explicit physical name, for a function whose ARN must be known without referencing it (the timer
   * target: see `TimersProps.targetFunctionName`). @default a name CloudFormation generates
   */
  readonly functionName?: string;
  /** Extra environment; merged with what the construct and its `bind*` helpers set, never replaced. */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
}

/**
 * The house Lambda function: Node.js 22 on arm64, an ESM bundle built by the local esbuild (minified, split
 * so that what only some requests need loads when first needed, with source maps Node applies to stack
 * traces: ./bundling.ts), X-Ray active, JSON logs (Powertools writes one JSON object
 * per line, Lambda's own records follow suit) in a log group of its own kept one month, and a role of its own
 * that starts with nothing but write access to that log group.
 *
 * Permissions come from intent-named helpers (`bindTable`, `bindTimers`, `bindProcessorSecret`, `bindEventBus`) that set the matching environment variable and
 * grant exactly that access, so a function's env and its IAM policy cannot disagree.
 */
export class ApiFunction extends Construct {
  readonly function: NodejsFunction;
  /** The function's own log group (one month retention). */
  readonly logGroup: LogGroup;
  /** The execution role. Only this construct's helpers should add to it. */
  readonly role: Role;
  private boundTimers: Timers | undefined;
  private boundProcessorSecret: ISecret | undefined;
  private boundEventBus: IEventBus | undefined;

  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'LogGroup', { retention: RetentionDays.ONE_MONTH });
    // A role of our own instead of the default one: the default attaches the AWSLambdaBasicExecutionRole
    // managed policy (logs:CreateLogGroup/PutLogEvents on every log group of the account); this one can
    // write to its own log group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}`,
    });
    this.logGroup.grantWrite(this.role);

    const callerNodeOptions = props.environment?.NODE_OPTIONS;
    const logLevel = props.logLevel ?? 'INFO';
    this.function = new NodejsFunction(this, 'Function', {
      // Bundled by `FunctionBundling` (split into chunks; see ./bundling.ts) rather than NodejsFunction's
      // single-file esbuild run. OUTPUT: the asset's hash is the bundle's, so a change that does not alter
      // the code deploys nothing.
      code: Code.fromAsset(PROJECT_ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never pulled: local bundling either succeeds or stops synthesis with esbuild's errors.
          image: DockerImage.fromRegistry('local-bundling-only'),
          local: new FunctionBundling(props.entry),
        },
      }),
      handler: `${ENTRY_NAME}.${props.handler ?? 'handler'}`,
      functionName: props.functionName,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[logLevel],
      role: this.role,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        LOG_LEVEL: logLevel,
        NODE_OPTIONS: ['--enable-source-maps', callerNodeOptions].filter(Boolean).join(' '),
      },
    });
  }

  /**
   * Gives the function the table: sets `TABLE_NAME` (keeping every other variable) and grants exactly
   * `access` — `read` is GetItem/Query/Scan/BatchGetItem and friends, `readWrite` adds the writes.
   */
  bindTable(table: ITable, access: TableAccess): this {
    this.function.addEnvironment('TABLE_NAME', table.tableName);
    if (access === 'read') table.grantReadData(this.function);
    else table.grantReadWriteData(this.function);
    return this;
  }

  /**
   * Lets the function arm, move and remove timers: sets the four variables `loadSchedulerConfig` requires
   * (`SCHEDULE_GROUP`, `TIMER_FUNCTION_ARN`, `SCHEDULER_ROLE_ARN`, `TIMER_DLQ_ARN`; every other variable is
   * kept) and grants exactly what `EventBridgeTimerScheduler` calls: Create/Update/DeleteSchedule on the
   * schedules of the one group, and iam:PassRole on the one role Scheduler assumes, for Scheduler only.
   */
  bindTimers(timers: Timers): this {
    this.function.addEnvironment('SCHEDULE_GROUP', timers.groupName);
    this.function.addEnvironment('TIMER_FUNCTION_ARN', timers.targetArn);
    this.function.addEnvironment('SCHEDULER_ROLE_ARN', timers.schedulerRole.roleArn);
    this.function.addEnvironment('TIMER_DLQ_ARN', timers.deadLetterQueue.queueArn);

    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ManageTimerSchedules',
        actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
        // Schedule names are per purchase and purpose, known only at run time: the wildcard stays in the group.
        resources: [timers.scheduleArns],
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'PassSchedulerRole',
        actions: ['iam:PassRole'],
        resources: [timers.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    this.boundTimers = timers;
    return this;
  }

  /** What `bindTimers` gave this function; undefined for a function that never arms timers. */
  get timers(): Timers | undefined {
    return this.boundTimers;
  }

  /**
   * Lets the function read the processor credentials: sets `PROCESSOR_SECRET_ARN`, which
   * `loadProcessorSettings` reads on the function's first invocation (every other variable is kept), and
   * grants exactly what it calls: secretsmanager:GetSecretValue on this one secret (not `grantRead`, which
   * adds DescribeSecret).
   * A secret encrypted with a customer managed key would also need kms:Decrypt; the stack's uses aws/secretsmanager.
   */
  bindProcessorSecret(secret: ISecret): this {
    if (secret.encryptionKey) {
      throw new Error('bindProcessorSecret: a secret with a customer managed key also needs kms:Decrypt');
    }
    this.function.addEnvironment('PROCESSOR_SECRET_ARN', secret.secretArn);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadProcessorSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secret.secretArn],
      }),
    );
    this.boundProcessorSecret = secret;
    return this;
  }

  /** What `bindProcessorSecret` gave this function; undefined for a function that never calls a processor. */
  get processorSecret(): ISecret | undefined {
    return this.boundProcessorSecret;
  }

  /**
   * Lets the function publish domain events: sets `EVENT_BUS_NAME`, which `loadEventBusConfig` reads (every
   * other variable is kept), and grants exactly what the EventBridge bus adapter calls: events:PutEvents on
   * this one bus (not the account's default bus, nor any other).
   */
  bindEventBus(bus: IEventBus): this {
    this.function.addEnvironment('EVENT_BUS_NAME', bus.eventBusName);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ sid: 'PutDomainEvents', actions: ['events:PutEvents'], resources: [bus.eventBusArn] }),
    );
    this.boundEventBus = bus;
    return this;
  }

  /** What `bindEventBus` gave this function; undefined for a function that publishes no events. */
  get eventBus(): IEventBus | undefined {
    return this.boundEventBus;
  }

  /**
   * Lets the function queue webhook deliveries: sets `DELIVERY_QUEUE_URL`, which `loadDeliveryQueueConfig`
   * reads at cold start (every other variable is kept), and grants exactly what `SqsDeliveryQueue` calls:
   * sqs:SendMessage on this one queue (not `grantSendMessages`, which adds GetQueueAttributes and GetQueueUrl).
   * The queue uses SQS-managed encryption, so no kms:GenerateDataKey is needed.
   */
  bindDeliveryQueue(queue: IQueue): this {
    if (queue.encryptionMasterKey) {
      throw new Error('bindDeliveryQueue: a queue with a customer managed key also needs kms:GenerateDataKey');
    }
    this.function.addEnvironment('DELIVERY_QUEUE_URL', queue.queueUrl);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ sid: 'SendWebhookDeliveries', actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
    );
    return this;
  }

  /**
   * Lets the function queue bulk job pages: sets `JOB_QUEUE_URL`, which `loadJobQueueConfig` reads at cold start
   * (every other variable is kept), and grants exactly what `SqsJobQueue` calls: sqs:SendMessage on this one
   * queue. The queue uses SQS-managed encryption, so no kms:GenerateDataKey is needed.
   */
  /**
   * Lets the function send pages to a job queue: bulk job pages (`JOB_QUEUE_URL`) by default, or reconciliation
   * pages (`RECONCILIATION_QUEUE_URL`). sqs:SendMessage on that one queue.
   */
  bindJobQueue(
    queue: IQueue,
    variable: 'JOB_QUEUE_URL' | 'RECONCILIATION_QUEUE_URL' = 'JOB_QUEUE_URL',
    sid = 'SendBulkJobPages',
  ): this {
    if (queue.encryptionMasterKey) {
      throw new Error('bindJobQueue: a queue with a customer managed key also needs kms:GenerateDataKey');
    }
    this.function.addEnvironment(variable, queue.queueUrl);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ sid, actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
    );
    return this;
  }
}
