import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { readsProcessorSecret } from '../shared/function-needs.ts';
import { ROUTES, type RouteAccess, type RouteDefinition } from '../shared/http/routes.ts';
import { ApiFunction } from './constructs/api-function.ts';
import { Auth } from './constructs/auth.ts';
import { BulkJobs, Reconciliations } from './constructs/bulk-jobs.ts';
import { type DomainEvents, OutboxPublishing } from './constructs/events.ts';
import { Operations } from './constructs/operations.ts';
import { PROCESSOR_SECRET_KEYS, Stateful } from './constructs/stateful.ts';
import { Timers } from './constructs/timers.ts';
import { Webhooks } from './constructs/webhooks.ts';
import { stackSettings } from './context.ts';
import {
  BULK_WORKER_FUNCTION,
  FUNCTION_DEFINITIONS,
  PUBLISHER_FUNCTION,
  RECONCILIATION_WORKER_FUNCTION,
  SWEEPER_FUNCTION,
  TIMER_FUNCTION,
  WEBHOOK_DELIVERY_FUNCTION,
  WEBHOOK_FANOUT_FUNCTION,
} from './definitions.ts';
import { acknowledgeNagFindings } from './nag-suppressions.ts';

/** Lambda's limit for a function name. */
const MAX_FUNCTION_NAME = 64;

/** One API Gateway route and the spec in `ROUTES` it was made from. */
export interface ApiRoute {
  readonly spec: RouteDefinition;
  readonly route: HttpRoute;
}

/**
 * membergate: the table, schedule group, timer dead-letter queue, processor secret and event bus (stateful),
 * one Lambda per function definition (granted and configured with exactly what `FUNCTION_NEEDS` declares), the
 * Scheduler and sweeper wiring (`Timers`), the outbox publisher on the table's stream (`OutboxPublishing`), the
 * HTTP API with exactly the routes of `ROUTES` (throttled by the context's `apiThrottleRate`/`apiThrottleBurst`,
 * ./context.ts), the Cognito pool its JWT authorizer trusts, and operations (./constructs/operations.ts: the
 * alarm topic every alarm notifies, an alarm on every function and dead-letter queue, the dashboard). Environment-agnostic: no lookups, so `cdk synth` runs
 * offline without credentials.
 */
export class MembergateStack extends Stack {
  readonly stateful: Stateful;
  readonly auth: Auth;
  /** Functions by definition name (`catalog`, `purchases`, `access`, …). */
  readonly functions: ReadonlyMap<string, ApiFunction>;
  readonly timers: Timers;
  /** The domain events' bus (`events.bus`: add rules to it), archive and dead-letter queue; `stateful.events`. */
  readonly events: DomainEvents;
  /** The publisher's event source on the table's stream, and its lag alarm. */
  readonly outbox: OutboxPublishing;
  /** Integrator webhooks: the bus rule, the fan-out and delivery queues, their dead-letter queues and alarms. */
  readonly webhooks: Webhooks;
  /** Bulk revocation jobs: the job queue, its dead-letter queue and alarms, the worker's event source. */
  readonly bulkJobs: BulkJobs;
  /** Drift reconciliations: their page queue, its dead-letter queue and alarms, the worker's event source. */
  readonly reconciliations: Reconciliations;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly routes: readonly ApiRoute[];
  /** The alarm topic, the alarms no other construct owns, the dashboard; every alarm of the stack notifies the topic. */
  readonly operations: Operations;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const settings = stackSettings(this.node);

    this.stateful = new Stateful(this, 'Stateful');
    this.auth = new Auth(this, 'Auth');

    // The timer target gets a fixed name so that its ARN can be known without a reference (see Timers).
    const timerFunctionName = `${this.stackName}-${TIMER_FUNCTION.name}`;
    if (timerFunctionName.length > MAX_FUNCTION_NAME) {
      throw new Error(`function name ${timerFunctionName} is longer than ${MAX_FUNCTION_NAME} characters`);
    }

    const functions = new Map<string, ApiFunction>();
    for (const definition of FUNCTION_DEFINITIONS) {
      const fn = new ApiFunction(this, constructId(definition.name), {
        entry: definition.entry,
        handler: definition.handler,
        serviceName: definition.name,
        description: `membergate ${definition.name}`,
        functionName: definition.name === TIMER_FUNCTION.name ? timerFunctionName : undefined,
        timeout: definition.timeoutSeconds === undefined ? undefined : Duration.seconds(definition.timeoutSeconds),
      });
      // A stream consumer (the publisher) gets no table access: its event source reads the stream.
      if (definition.needs.table !== 'stream') fn.bindTable(this.stateful.table, definition.needs.table);
      functions.set(definition.name, fn);
    }
    this.functions = functions;
    const functionNamed = (name: string): ApiFunction => {
      const fn = functions.get(name);
      if (!fn) throw new Error(`no function definition named "${name}"`);
      return fn;
    };

    this.timers = new Timers(this, 'Timers', {
      scheduleGroup: this.stateful.scheduleGroup,
      deadLetterQueue: this.stateful.timerDeadLetterQueue,
      target: functionNamed(TIMER_FUNCTION.name).function,
      targetFunctionName: timerFunctionName,
      sweeper: functionNamed(SWEEPER_FUNCTION.name).function,
    });
    // Exactly what each function declares it needs (shared/function-needs.ts), which its wiring builds.
    for (const { name, needs } of FUNCTION_DEFINITIONS) {
      if (needs.timers) functionNamed(name).bindTimers(this.timers);
      if (readsProcessorSecret(needs)) functionNamed(name).bindProcessorSecret(this.stateful.processorSecret);
      if (needs.publishesEvents) functionNamed(name).bindEventBus(this.stateful.events.bus);
    }

    // The transactional outbox (DESIGN.md §5): the table's stream → the publisher → the bus.
    this.events = this.stateful.events;
    this.outbox = new OutboxPublishing(this, 'Outbox', {
      table: this.stateful.table,
      publisher: functionNamed(PUBLISHER_FUNCTION.name).function,
      events: this.events,
    });

    // Integrator webhooks (DESIGN.md §5): bus rule → fan-out queue → fan-out λ → delivery queue → delivery λ.
    this.webhooks = new Webhooks(this, 'Webhooks', {
      bus: this.events.bus,
      fanout: functionNamed(WEBHOOK_FANOUT_FUNCTION.name).function,
      fanoutTimeout: Duration.seconds(WEBHOOK_FANOUT_FUNCTION.timeoutSeconds ?? 10),
      delivery: functionNamed(WEBHOOK_DELIVERY_FUNCTION.name).function,
      deliveryTimeout: Duration.seconds(WEBHOOK_DELIVERY_FUNCTION.timeoutSeconds ?? 10),
    });
    for (const { name, needs } of FUNCTION_DEFINITIONS) {
      if (needs.deliveryQueue) functionNamed(name).bindDeliveryQueue(this.webhooks.deliveryQueue);
    }

    // Bulk revocation jobs (rule 13): job queue → worker λ (one page per message, bounded concurrency).
    this.bulkJobs = new BulkJobs(this, 'BulkJobs', {
      worker: functionNamed(BULK_WORKER_FUNCTION.name).function,
      workerTimeout: Duration.seconds(BULK_WORKER_FUNCTION.timeoutSeconds ?? 10),
    });
    for (const { name, needs } of FUNCTION_DEFINITIONS) {
      if (needs.bulkJobs) functionNamed(name).bindJobQueue(this.bulkJobs.queue);
    }

    // Drift reconciliations (§2.1): the same shape, a queue of its own (its pace is the processors' limits).
    this.reconciliations = new Reconciliations(this, 'ReconciliationJobs', {
      worker: functionNamed(RECONCILIATION_WORKER_FUNCTION.name).function,
      workerTimeout: Duration.seconds(RECONCILIATION_WORKER_FUNCTION.timeoutSeconds ?? 10),
    });
    for (const { name, needs } of FUNCTION_DEFINITIONS) {
      if (needs.reconciliations) {
        functionNamed(name).bindJobQueue(
          this.reconciliations.queue,
          'RECONCILIATION_QUEUE_URL',
          'SendReconciliationPages',
        );
      }
    }

    // The default stage is declared by hand: HttpApi's automatic one takes no access log or throttle.
    this.api = new HttpApi(this, 'HttpApi', { createDefaultStage: false, description: 'membergate HTTP API' });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.ONE_MONTH });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // Steady-state and burst limits for every route (context apiThrottleRate, apiThrottleBurst).
      throttle: settings.apiThrottle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    const integrations = new Map<string, HttpLambdaIntegration>();
    const integrationFor = (fnName: string): HttpLambdaIntegration => {
      let integration = integrations.get(fnName);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${constructId(fnName)}Integration`, functionNamed(fnName).function);
        integrations.set(fnName, integration);
      }
      return integration;
    };
    const noAuthorizer = new HttpNoneAuthorizer();
    const authorizerFor = (access: RouteAccess): IHttpRouteAuthorizer => {
      switch (access) {
        case 'staff':
        case 'customer':
          return this.auth.authorizer;
        // Health is open; webhooks carry the processor's signature, not a JWT, and are verified in code.
        case 'public':
        case 'webhook':
          return noAuthorizer;
      }
    };

    this.routes = ROUTES.map((spec): ApiRoute => {
      const [route] = this.api.addRoutes({
        path: spec.path,
        methods: [HttpMethod[spec.method]],
        integration: integrationFor(spec.fn),
        authorizer: authorizerFor(spec.access),
      });
      if (!route) throw new Error(`no route created for ${spec.method} ${spec.path}`);
      return { spec, route };
    });

    this.operations = new Operations(this, 'Operations', {
      api: this.api,
      alarmEmail: settings.alarmEmail,
      webhookVerifiers: FUNCTION_DEFINITIONS.flatMap(({ name, needs }) =>
        needs.verifiesWebhooks ? [{ service: name, processor: needs.verifiesWebhooks }] : [],
      ),
      timerService: TIMER_FUNCTION.name,
      publisherService: PUBLISHER_FUNCTION.name,
      jobWorkerServices: {
        bulk_revocation: BULK_WORKER_FUNCTION.name,
        reconciliation: RECONCILIATION_WORKER_FUNCTION.name,
      },
      jobQueue: this.bulkJobs.queue,
      jobDeadLetterQueue: this.bulkJobs.deadLetterQueue,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'TableName', { value: this.stateful.table.tableName });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.auth.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'TimerDeadLetterQueueUrl', {
      value: this.stateful.timerDeadLetterQueue.queueUrl,
      description: 'Timers that could not be delivered or failed every attempt',
    });
    new CfnOutput(this, 'EventBusName', {
      value: this.events.bus.eventBusName,
      description: 'The bus of membergate domain events (source membergate): add rules here',
    });
    new CfnOutput(this, 'EventBusArn', { value: this.events.bus.eventBusArn });
    new CfnOutput(this, 'EventPublisherDeadLetterQueueUrl', {
      value: this.events.deadLetterQueue.queueUrl,
      description: 'Stream batches whose events could not be published after every retry',
    });
    new CfnOutput(this, 'WebhookDeliveryDeadLetterQueueUrl', {
      value: this.webhooks.deliveryDeadLetterQueue.queueUrl,
      description: 'Webhook delivery jobs that failed on errors of our own (not of the endpoint) every receive',
    });
    new CfnOutput(this, 'ReconciliationDeadLetterQueueUrl', {
      value: this.reconciliations.deadLetterQueue.queueUrl,
      description: 'Reconciliation pages that failed every receive; redrive them to finish the job',
    });
    new CfnOutput(this, 'BulkJobDeadLetterQueueUrl', {
      value: this.bulkJobs.deadLetterQueue.queueUrl,
      description: 'Bulk job pages that failed on errors of our own every receive; redrive them to finish the job',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.operations.topic.topicArn,
      description: 'Every alarm of the stack notifies this topic (alarm and OK): subscribe whoever must be paged',
    });
    new CfnOutput(this, 'DashboardName', {
      value: this.operations.dashboard.dashboardName,
      description: 'The CloudWatch dashboard: requests, latency, webhook outcomes, timer lateness, job progress',
    });
    new CfnOutput(this, 'ProcessorSecretArn', {
      value: this.stateful.processorSecret.secretArn,
      description:
        'Stripe and PayPal credentials, created with placeholders: put the real JSON (aws secretsmanager ' +
        `put-secret-value) with the keys ${PROCESSOR_SECRET_KEYS.join(', ')} (the optional ones may be left ` +
        'out), then redeploy or wait for cold starts: functions read it once per cold start.',
    });

    acknowledgeNagFindings(this);
  }
}

/** `purchases` → `Purchases`: construct ids (and so logical ids) stay stable and readable. */
function constructId(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
