import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { type CfnElement, Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ALARM_THRESHOLDS, APP_METRICS } from '../../infra/constructs/operations.ts';
import { PROCESSOR_SECRET_KEYS } from '../../infra/constructs/stateful.ts';
import { STACK_CONTEXT } from '../../infra/context.ts';
import { FUNCTION_DEFINITIONS, PUBLISHER_FUNCTION } from '../../infra/definitions.ts';
import type { MembergateStack } from '../../infra/stack.ts';
import { METRICS_NAMESPACE, MetricName } from '../../shared/metrics.ts';
import {
  cdkJsonContext,
  type Json,
  logicalIdIn,
  ofType,
  type Resource,
  synthesize,
} from '../support/unbundled-stack.ts';

// Operations on AWS (issue 12 §5): the alarm topic, an alarm on every function and dead-letter queue with the
// topic as its action, the alarms of their own (API 5xx rate, rejected processor webhooks), the dashboard, API
// throttling from the context, the Scheduler role's confused-deputy guard, and cdk.json's feature flags.
// Functions are not bundled here (`aws:cdk:bundling-stacks`: none): test/infra/stack.test.ts bundles them.

interface AlarmProperties {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: { Id: string; Expression?: string; MetricStat?: { Metric: Json } }[];
  Threshold: number;
  ComparisonOperator: string;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
}

let stack: MembergateStack;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  ({ stack, template, resources } = synthesize());
});

const logicalId = (construct: { node: { defaultChild?: unknown } }) => logicalIdIn(stack, construct);
const alarmsOf = (all: Record<string, Resource>) =>
  ofType(all, 'AWS::CloudWatch::Alarm').map(
    ([id, alarm]) => [id, alarm.Properties as unknown as AlarmProperties] as const,
  );
const dimension = (alarm: AlarmProperties, name: string) => alarm.Dimensions?.find((d) => d.Name === name)?.Value;
const topicRef = () => ({ Ref: logicalId(stack.operations.topic) });

/** The alarms on a queue's visible messages (its depth). */
function depthAlarms(all: Record<string, Resource>, queueId: string) {
  return alarmsOf(all).filter(
    ([, alarm]) =>
      alarm.Namespace === 'AWS/SQS' &&
      alarm.MetricName === 'ApproximateNumberOfMessagesVisible' &&
      JSON.stringify(dimension(alarm, 'QueueName')) === JSON.stringify({ 'Fn::GetAtt': [queueId, 'QueueName'] }),
  );
}

/** The alarms on one metric of a Lambda function. */
function functionAlarms(all: Record<string, Resource>, functionId: string, metricName: string) {
  return alarmsOf(all).filter(
    ([, alarm]) =>
      alarm.Namespace === 'AWS/Lambda' &&
      alarm.MetricName === metricName &&
      JSON.stringify(dimension(alarm, 'FunctionName')) === JSON.stringify({ Ref: functionId }),
  );
}

describe('the alarm topic', () => {
  it('is encrypted with a key of its own that rotates, and refuses publishing without TLS', () => {
    const topic = resources[logicalId(stack.operations.topic)]!.Properties;
    const keyId = logicalId(stack.operations.topicKey);

    expect(topic.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(resources[keyId]!.Properties.EnableKeyRotation).toBe(true);
    const policy = ofType(resources, 'AWS::SNS::TopicPolicy').map(([, p]) => p.Properties);
    expect(policy).toHaveLength(1);
    expect(policy[0]!.Topics).toEqual([topicRef()]);
    expect((policy[0]!.PolicyDocument as { Statement: Json[] }).Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('lets CloudWatch publish and use the key, for alarms of this account only', () => {
    const guard = {
      ArnLike: { 'aws:SourceArn': expect.objectContaining({ 'Fn::Join': expect.anything() }) },
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    };
    const cloudWatch = { Service: 'cloudwatch.amazonaws.com' };
    const topicPolicy = ofType(resources, 'AWS::SNS::TopicPolicy')[0]![1].Properties.PolicyDocument as {
      Statement: Json[];
    };
    const keyPolicy = resources[logicalId(stack.operations.topicKey)]!.Properties.KeyPolicy as { Statement: Json[] };

    expect(topicPolicy.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Principal: cloudWatch, Action: 'sns:Publish', Condition: guard }),
    );
    expect(keyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: cloudWatch,
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Condition: guard,
      }),
    );
    expect(JSON.stringify(topicPolicy)).toContain(':alarm:*');
  });

  it('is a stack output', () => {
    template.hasOutput('AlarmTopicArn', { Value: topicRef() });
  });

  it('has no subscription unless the alarmEmail context names one', () => {
    expect(ofType(resources, 'AWS::SNS::Subscription')).toEqual([]);
  });

  it('subscribes the alarmEmail address by email', () => {
    const { stack: withEmail, resources: withEmailResources } = synthesize({ alarmEmail: 'ops@example.com' });
    const subscriptions = ofType(withEmailResources, 'AWS::SNS::Subscription');

    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]![1].Properties).toMatchObject({
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: withEmail.getLogicalId(withEmail.operations.topic.node.defaultChild as CfnElement) },
    });
  });

  it('refuses an alarmEmail that is no address', () => {
    expect(() => synthesize({ alarmEmail: 'ops-at-example' })).toThrow(/alarmEmail/);
  });
});

describe('alarm coverage', () => {
  it('has every alarm of the stack notify the topic on alarm and on recovery', () => {
    const alarms = alarmsOf(resources);

    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect({ id, actions: alarm.AlarmActions, ok: alarm.OKActions }).toEqual({
        id,
        actions: [topicRef()],
        ok: [topicRef()],
      });
    }
  });

  it('has exactly one depth alarm, at the first message, on every queue without a dead-letter queue of its own', () => {
    const deadLetterQueues = ofType(resources, 'AWS::SQS::Queue').filter(([, q]) => !q.Properties.RedrivePolicy);

    // Timers, publisher on-failure, webhook fan-out and delivery, bulk jobs.
    expect(deadLetterQueues.length).toBeGreaterThanOrEqual(5);
    for (const [id] of deadLetterQueues) {
      const alarms = depthAlarms(resources, id);
      expect({ id, count: alarms.length }).toEqual({ id, count: 1 });
      expect(alarms[0]![1]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  it('sends every other queue to one of those dead-letter queues', () => {
    for (const [id, queue] of ofType(resources, 'AWS::SQS::Queue').filter(([, q]) => q.Properties.RedrivePolicy)) {
      const target = (queue.Properties.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string] } })
        .deadLetterTargetArn['Fn::GetAtt'][0];
      expect({ id, alarms: depthAlarms(resources, target).length }).toEqual({ id, alarms: 1 });
    }
  });

  it('has an errors and a throttles alarm on every function', () => {
    const functions = ofType(resources, 'AWS::Lambda::Function');

    expect(functions).toHaveLength(FUNCTION_DEFINITIONS.length);
    for (const [id] of functions) {
      for (const metric of ['Errors', 'Throttles']) {
        const alarms = functionAlarms(resources, id, metric);
        expect({ id, metric, count: alarms.length }).toEqual({ id, metric, count: 1 });
        expect(alarms[0]![1]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      }
    }
  });

  it('covers a queue and a function added after the stack was built, the way a new construct would be', () => {
    const { resources: extended } = synthesize({}, (built) => {
      new Queue(built, 'LateDeadLetterQueue', { enforceSSL: true });
      new LambdaFunction(built, 'LateFunction', {
        code: Code.fromInline('export const handler = async () => {};'),
        handler: 'index.handler',
        runtime: Runtime.NODEJS_22_X,
        timeout: Duration.seconds(3),
      });
    });
    const lateQueue = ofType(extended, 'AWS::SQS::Queue').find(([id]) => id.startsWith('LateDeadLetterQueue'))!;
    const lateFunction = ofType(extended, 'AWS::Lambda::Function').find(([id]) => id.startsWith('LateFunction'))!;

    expect(depthAlarms(extended, lateQueue[0])).toHaveLength(1);
    expect(functionAlarms(extended, lateFunction[0], 'Errors')).toHaveLength(1);
    expect(functionAlarms(extended, lateFunction[0], 'Throttles')).toHaveLength(1);
  });

  it('keeps the alarms the constructs made themselves instead of adding copies (timer, publisher, webhooks, jobs)', () => {
    for (const [queue, alarm] of [
      [stack.stateful.timerDeadLetterQueue, stack.stateful.timerDeadLetterAlarm],
      [stack.events.deadLetterQueue, stack.events.deadLetterAlarm],
      [stack.webhooks.fanoutDeadLetterQueue, stack.webhooks.alarms[0]!],
      [stack.webhooks.deliveryDeadLetterQueue, stack.webhooks.alarms[1]!],
      [stack.bulkJobs.deadLetterQueue, stack.bulkJobs.alarms[0]!],
    ] as const) {
      expect(depthAlarms(resources, logicalId(queue)).map(([id]) => id)).toEqual([logicalId(alarm)]);
    }
  });

  it("alarms on the publisher's stream iterator age", () => {
    const publisher = logicalId(stack.functions.get(PUBLISHER_FUNCTION.name)!.function);
    const [alarm] = functionAlarms(resources, publisher, 'IteratorAge');

    expect(alarm?.[0]).toBe(logicalId(stack.outbox.lagAlarm));
    expect(alarm?.[1].AlarmActions).toEqual([topicRef()]);
  });
});

describe('alarms of their own', () => {
  const verifiers = FUNCTION_DEFINITIONS.filter((d) => d.needs.verifiesWebhooks);

  it('reads the metrics shared/metrics.ts writes', () => {
    expect(APP_METRICS).toEqual({
      namespace: METRICS_NAMESPACE,
      webhookDelivery: MetricName.webhookDelivery,
      timerLateness: MetricName.timerLateness,
      eventsPublished: MetricName.eventsPublished,
      eventsRedelivered: MetricName.eventsRedelivered,
      jobPurchases: MetricName.jobPurchases,
    });
  });

  it.each(verifiers.map((d) => [d.name, d.needs.verifiesWebhooks!] as const))(
    'alarms when %s rejects more webhooks than the threshold (service, processor, outcome rejected)',
    (name, processor) => {
      const fn = resources[logicalId(stack.functions.get(name)!.function)]!.Properties;
      const service = (fn.Environment as { Variables: Json }).Variables.POWERTOOLS_SERVICE_NAME;
      const rejections = alarmsOf(resources).filter(
        ([, alarm]) => alarm.Namespace === METRICS_NAMESPACE && alarm.MetricName === MetricName.webhookDelivery,
      );
      const mine = rejections.filter(([, alarm]) => dimension(alarm, 'processor') === processor);

      expect(mine).toHaveLength(1);
      expect(mine[0]![1]).toMatchObject({
        Dimensions: expect.arrayContaining([
          { Name: 'service', Value: service },
          { Name: 'processor', Value: processor },
          { Name: 'outcome', Value: 'rejected' },
        ]),
        Statistic: 'Sum',
        Period: 300,
        Threshold: ALARM_THRESHOLDS.webhookRejections,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [topicRef()],
      });
      expect(mine[0]![1].Dimensions).toHaveLength(3);
    },
  );

  it('alarms on the share of 5xx responses of the HTTP API', () => {
    const alarm = resources[logicalId(stack.operations.apiServerErrorAlarm)]!.Properties as unknown as AlarmProperties;
    const stat = (id: string) => alarm.Metrics?.find((m) => m.Id === id)?.MetricStat?.Metric;
    const api = [{ Name: 'ApiId', Value: { Ref: logicalId(stack.api) } }];

    expect(stat('errors')).toEqual({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Dimensions: api });
    expect(stat('requests')).toEqual({ Namespace: 'AWS/ApiGateway', MetricName: 'Count', Dimensions: api });
    expect(alarm.Metrics?.find((m) => m.Expression)?.Expression).toBe(
      `IF(requests >= ${ALARM_THRESHOLDS.apiServerErrorMinRequests}, 100 * errors / requests, 0)`,
    );
    expect(alarm).toMatchObject({
      Threshold: ALARM_THRESHOLDS.apiServerErrorPercent,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topicRef()],
    });
  });
});

describe('the dashboard', () => {
  function body(): string {
    const dashboards = ofType(resources, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const value = dashboards[0]![1].Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
    return value['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
  }

  it('has the request rate, latency, webhook outcomes, timer lateness and job progress', () => {
    const text = body();
    for (const title of [
      'Requests',
      'Latency',
      'Webhook outcomes',
      'Timer lateness',
      'Job progress',
      'Job purchases',
    ]) {
      expect(text).toContain(`"title":"${title}"`);
    }
  });

  it('charts latency at p50, p90 and p99, and every webhook outcome and timer purpose', () => {
    const text = body();
    for (const percentile of ['p50', 'p90', 'p99']) expect(text).toContain(`"stat":"${percentile}"`);
    for (const outcome of ['applied', 'duplicate', 'ignored', 'rejected']) expect(text).toContain(`"${outcome}"`);
    for (const purpose of ['cancellation', 'access_period', 'pause_end']) expect(text).toContain(`"${purpose}"`);
    expect(text).toContain(`"${MetricName.timerLateness}"`);
    expect(text).toContain(`"${MetricName.webhookDelivery}"`);
    expect(text).toContain(JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.bulkJobs.queue), 'QueueName'] }));
  });
});

describe('API throttling', () => {
  const routeSettings = (all: Record<string, Resource>) =>
    ofType(all, 'AWS::ApiGatewayV2::Stage')[0]![1].Properties.DefaultRouteSettings;

  it('defaults to the documented rate and burst', () => {
    expect(routeSettings(resources)).toMatchObject({
      ThrottlingRateLimit: STACK_CONTEXT.apiThrottleRate,
      ThrottlingBurstLimit: STACK_CONTEXT.apiThrottleBurst,
    });
  });

  it('takes the rate and burst from the context, as -c gives them (strings)', () => {
    const { resources: configured } = synthesize({ apiThrottleRate: '25.5', apiThrottleBurst: '40' });

    expect(routeSettings(configured)).toMatchObject({ ThrottlingRateLimit: 25.5, ThrottlingBurstLimit: 40 });
  });

  it.each([
    ['apiThrottleRate', '0'],
    ['apiThrottleRate', 'fast'],
    ['apiThrottleBurst', '-1'],
    ['apiThrottleBurst', '2.5'],
  ])('refuses %s=%s', (key, value) => {
    expect(() => synthesize({ [key]: value })).toThrow(new RegExp(key));
  });
});

describe('the role Scheduler assumes', () => {
  it("trusts Scheduler only for this account's timer schedule group", () => {
    const trust = resources[logicalId(stack.timers.schedulerRole)]!.Properties.AssumeRolePolicyDocument as {
      Statement: { Condition: { StringEquals: Record<string, unknown> } }[];
    };
    const conditions = trust.Statement[0]!.Condition.StringEquals;
    const sourceArn = JSON.stringify(conditions['aws:SourceArn']);

    expect(conditions['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(sourceArn).toContain(':scheduler:');
    expect(sourceArn).toContain(`:schedule-group/${stack.timers.groupName}"`);
  });
});

describe('cdk.json', () => {
  it('carries exactly the feature flags cdk init of the installed aws-cdk-lib writes', () => {
    const require = createRequire(import.meta.url);
    const recommended = JSON.parse(
      readFileSync(require.resolve('aws-cdk-lib/recommended-feature-flags.json'), 'utf8'),
    ) as Json;

    expect(cdkJsonContext).toEqual(recommended);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('reports nothing unacknowledged with the alarm email subscribed', () => {
    const { app } = synthesize({ alarmEmail: 'ops@example.com' });
    const report = new AwsSolutionsChecks().validateScope(app);

    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath)}`)).toEqual(
      [],
    );
  });
});

describe('README', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

  const row = (key: string) => new RegExp(`\\|\\s*\`${key}\`\\s*\\|`);

  it.each(Object.keys(STACK_CONTEXT))('documents the context value %s in a Configuration table', (key) => {
    expect(readme).toMatch(row(key));
  });

  it.each(PROCESSOR_SECRET_KEYS)('documents the processor key %s in a Configuration table', (key) => {
    expect(readme).toMatch(row(key));
  });

  it('documents every environment variable the stack sets on a function in a Configuration table', () => {
    const variables = new Set(
      ofType(resources, 'AWS::Lambda::Function').flatMap(([, fn]) =>
        Object.keys((fn.Properties.Environment as { Variables: Json }).Variables),
      ),
    );

    expect(variables.size).toBeGreaterThan(5);
    expect([...variables].filter((name) => !row(name).test(readme))).toEqual([]);
  });

  it('names every alarm of its own and every construct alarm in Operations', () => {
    const operations = readme.slice(readme.indexOf('## Operations'), readme.indexOf('## Tests'));
    const named = [
      stack.stateful.timerDeadLetterAlarm,
      stack.events.deadLetterAlarm,
      stack.outbox.lagAlarm,
      ...stack.webhooks.alarms,
      ...stack.bulkJobs.alarms,
      stack.operations.apiServerErrorAlarm,
    ].map((alarm) => stack.getLogicalId(alarm.node.defaultChild as CfnElement).slice(0, -8));

    expect(named.filter((id) => !operations.includes(id))).toEqual([]);
  });
});
