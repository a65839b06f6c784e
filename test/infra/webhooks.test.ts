import { beforeAll, describe, expect, it } from '@jest/globals';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DELIVERY_MAX_CONCURRENCY, FANOUT_MAX_CONCURRENCY } from '../../infra/constructs/webhooks.ts';
import { FUNCTION_DEFINITIONS, WEBHOOK_DELIVERY_FUNCTION, WEBHOOK_FANOUT_FUNCTION } from '../../infra/definitions.ts';
import type { MembergateStack } from '../../infra/stack.ts';
import { EVENT_SOURCE } from '../../shared/ports/event-bus.ts';
import {
  getAtt,
  type Json,
  logicalIdIn,
  type Resource,
  ofType as resourcesOfType,
  type Statement,
  synthesize,
} from '../support/unbundled-stack.ts';

// Issue 9 item 3, the AWS side of integrator webhooks: a rule on the stack's bus → the fan-out queue → the
// fan-out function → the delivery queue → the delivery function (one message per invocation, bounded
// concurrency); a dead-letter queue and alarms for each queue; least-privilege IAM. Functions are not bundled
// here: test/infra/stack.test.ts bundles and loads every function, the webhook ones included.

let app: App;
let stack: MembergateStack;
let resources: Record<string, Resource>;

beforeAll(() => {
  ({ app, stack, resources } = synthesize());
});

const logicalId = (construct: { node: { defaultChild?: unknown } }) => logicalIdIn(stack, construct);
const ofType = (type: string) => resourcesOfType(resources, type);
const queue = (name: 'fanoutQueue' | 'fanoutDeadLetterQueue' | 'deliveryQueue' | 'deliveryDeadLetterQueue') =>
  logicalId(stack.webhooks[name]);

function functionId(name: string): string {
  const fn = stack.functions.get(name);
  if (!fn) throw new Error(`no function ${name}`);
  return logicalId(fn.function);
}

function statementsOf(name: string): Statement[] {
  const role = (resources[functionId(name)]!.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === role))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actions = (statement: Statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);

function mappingOf(queueId: string) {
  const found = ofType('AWS::Lambda::EventSourceMapping').filter(
    ([, mapping]) => JSON.stringify(mapping.Properties.EventSourceArn) === JSON.stringify(getAtt(queueId, 'Arn')),
  );
  expect(found).toHaveLength(1);
  return found[0]![1].Properties;
}

describe('the bus rule', () => {
  it("sends every membergate event on the stack's bus to the fan-out queue, with the fan-out DLQ for failures", () => {
    const rule = resources[logicalId(stack.webhooks.rule)]!.Properties;

    expect(rule.EventBusName).toEqual({ Ref: logicalId(stack.events.bus) });
    expect(rule.EventPattern).toEqual({ source: [EVENT_SOURCE] });
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        Arn: getAtt(queue('fanoutQueue'), 'Arn'),
        DeadLetterConfig: { Arn: getAtt(queue('fanoutDeadLetterQueue'), 'Arn') },
      }),
    ]);
  });

  it('may send to the fan-out queue (its queue policy names the rule)', () => {
    const policies = ofType('AWS::SQS::QueuePolicy').filter(([, policy]) =>
      (policy.Properties.Queues as { Ref: string }[]).some((ref) => ref.Ref === queue('fanoutQueue')),
    );
    const statements = policies.flatMap(
      ([, policy]) => (policy.Properties.PolicyDocument as { Statement: (Statement & Json)[] }).Statement,
    );

    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['sqs:SendMessage']),
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': getAtt(logicalId(stack.webhooks.rule), 'Arn') } },
      }),
    );
  });
});

describe('the queues', () => {
  it.each([
    ['fanoutQueue', 'fanoutDeadLetterQueue', WEBHOOK_FANOUT_FUNCTION.timeoutSeconds!],
    ['deliveryQueue', 'deliveryDeadLetterQueue', WEBHOOK_DELIVERY_FUNCTION.timeoutSeconds!],
  ] as const)(
    '%s redrives to its dead-letter queue and hides a message six function timeouts',
    (name, dlq, timeout) => {
      expect(resources[queue(name)]!.Properties).toMatchObject({
        VisibilityTimeout: 6 * timeout,
        RedrivePolicy: { deadLetterTargetArn: getAtt(queue(dlq), 'Arn'), maxReceiveCount: 5 },
        SqsManagedSseEnabled: true,
      });
    },
  );

  it('keeps dead letters 14 days, encrypted', () => {
    for (const dlq of ['fanoutDeadLetterQueue', 'deliveryDeadLetterQueue'] as const) {
      expect(resources[queue(dlq)]!.Properties).toMatchObject({
        MessageRetentionPeriod: 14 * 86_400,
        SqsManagedSseEnabled: true,
      });
    }
  });

  it('raises an alarm on a dead letter of either queue, and on a backlog of either', () => {
    const alarmed = ofType('AWS::CloudWatch::Alarm')
      .map(([, alarm]) => alarm.Properties)
      .filter((alarm) => alarm.Namespace === 'AWS/SQS')
      .map((alarm) => [
        (alarm.Dimensions as { Value: { 'Fn::GetAtt': [string] } }[])[0]!.Value['Fn::GetAtt'][0],
        alarm.MetricName,
        alarm.Threshold,
      ]);

    expect(alarmed).toEqual(
      expect.arrayContaining([
        [queue('fanoutDeadLetterQueue'), 'ApproximateNumberOfMessagesVisible', 0],
        [queue('deliveryDeadLetterQueue'), 'ApproximateNumberOfMessagesVisible', 0],
        [queue('fanoutQueue'), 'ApproximateAgeOfOldestMessage', 300],
        [queue('deliveryQueue'), 'ApproximateAgeOfOldestMessage', 1_800],
      ]),
    );
  });
});

describe('the functions', () => {
  it('the fan-out reads its queue in batches, reporting each failed message, with bounded concurrency', () => {
    expect(mappingOf(queue('fanoutQueue'))).toMatchObject({
      FunctionName: { Ref: functionId(WEBHOOK_FANOUT_FUNCTION.name) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: FANOUT_MAX_CONCURRENCY },
    });
  });

  it('the delivery takes one message per invocation, with bounded concurrency', () => {
    expect(mappingOf(queue('deliveryQueue'))).toMatchObject({
      FunctionName: { Ref: functionId(WEBHOOK_DELIVERY_FUNCTION.name) },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: DELIVERY_MAX_CONCURRENCY },
    });
  });

  it('only the fan-out and the delivery may send to the delivery queue, with sqs:SendMessage alone', () => {
    const senders = FUNCTION_DEFINITIONS.filter((definition) =>
      statementsOf(definition.name).some(
        (statement) =>
          JSON.stringify(statement.Resource) === JSON.stringify(getAtt(queue('deliveryQueue'), 'Arn')) &&
          actions(statement).includes('sqs:SendMessage'),
      ),
    ).map((definition) => definition.name);
    const sendStatement = statementsOf(WEBHOOK_FANOUT_FUNCTION.name).find((s) => s.Sid === 'SendWebhookDeliveries');

    expect(senders.sort()).toEqual([WEBHOOK_DELIVERY_FUNCTION.name, WEBHOOK_FANOUT_FUNCTION.name].sort());
    expect(sendStatement).toEqual({
      Sid: 'SendWebhookDeliveries',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: getAtt(queue('deliveryQueue'), 'Arn'),
    });
  });

  it('the delivery puts events on the stack bus only (webhook_endpoint.disabled); the fan-out puts none', () => {
    const puts = (name: string) =>
      statementsOf(name).filter((statement) => actions(statement).includes('events:PutEvents'));

    expect(puts(WEBHOOK_DELIVERY_FUNCTION.name).map((statement) => statement.Resource)).toEqual([
      getAtt(logicalId(stack.events.bus), 'Arn'),
    ]);
    expect(puts(WEBHOOK_FANOUT_FUNCTION.name)).toEqual([]);
  });

  it('the queue consumers may read only their own queue', () => {
    for (const [fn, own] of [
      [WEBHOOK_FANOUT_FUNCTION.name, 'fanoutQueue'],
      [WEBHOOK_DELIVERY_FUNCTION.name, 'deliveryQueue'],
    ] as const) {
      const receive = statementsOf(fn).filter((statement) => actions(statement).includes('sqs:ReceiveMessage'));
      expect(receive.map((statement) => statement.Resource)).toEqual([getAtt(queue(own), 'Arn')]);
    }
  });
});

describe('cdk-nag (AwsSolutions) on the webhooks', () => {
  it('reports nothing unacknowledged for the rule, the queues, the alarms or the webhook functions', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const webhooks = report.violations
      .flatMap((violation) => violation.violatingResources.map((r) => `${violation.ruleName} ${r.constructPath}`))
      .filter((finding) => /Webhook/.test(finding));

    expect(webhooks).toEqual([]);
  });
});
