import { beforeAll, describe, expect, it } from '@jest/globals';
import type { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EVENT_ARCHIVE_RETENTION, OUTBOX_STREAM_CONSUMER } from '../../infra/constructs/events.ts';
import { FUNCTION_DEFINITIONS, PUBLISHER_FUNCTION } from '../../infra/definitions.ts';
import type { MembergateStack } from '../../infra/stack.ts';
import { EVENT_SOURCE } from '../../shared/ports/event-bus.ts';
import { OUTBOX_STREAM_FILTER } from '../../shared/store/outbox.ts';
import {
  getAtt,
  type Json,
  logicalIdIn,
  type Resource,
  ofType as resourcesOfType,
  type Statement,
  synthesize,
} from '../support/unbundled-stack.ts';

// Issue 9 item 2, the AWS side of the outbox: the custom bus and its archive, the publisher's event source on
// the table's stream (filtered to history inserts, partial batch failures, bounded retries, a dead-letter
// queue that raises an alarm), and IAM that lets only the publisher put events, on that bus only.
// Functions are not bundled here (`aws:cdk:bundling-stacks`: none): the template is what is checked, and
// test/infra/stack.test.ts bundles and loads every function, the publisher included.

let app: App;
let stack: MembergateStack;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  ({ app, stack, template, resources } = synthesize());
});

const logicalId = (construct: { node: { defaultChild?: unknown } }) => logicalIdIn(stack, construct);
const ofType = (type: string) => resourcesOfType(resources, type);

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

describe('the event bus', () => {
  it('is a custom bus named after the stack, with its name and ARN as outputs', () => {
    const [[busId, bus]] = ofType('AWS::Events::EventBus') as [[string, Resource]];
    expect(bus.Properties.Name).toBe('Membergate-events');
    expect(busId).toBe(logicalId(stack.events.bus));
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.EventBusName!.Value).toEqual({ Ref: busId });
    expect(outputs.EventBusArn!.Value).toEqual(getAtt(busId, 'Arn'));
  });

  it('is archived: every membergate event kept 30 days for replay', () => {
    const archives = ofType('AWS::Events::Archive');
    expect(archives).toHaveLength(1);
    expect(archives[0]![1].Properties).toMatchObject({
      SourceArn: getAtt(logicalId(stack.events.bus), 'Arn'),
      EventPattern: { source: [EVENT_SOURCE] },
      RetentionDays: 30,
    });
    expect(EVENT_ARCHIVE_RETENTION.toDays()).toBe(30);
  });
});

describe('the publisher event source', () => {
  const mapping = () => {
    // The table stream's mappings (the webhook queues have theirs: test/infra/webhooks.test.ts).
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) =>
      JSON.stringify(m.Properties.EventSourceArn).includes('StreamArn'),
    );
    expect(mappings).toHaveLength(1);
    return mappings[0]![1].Properties;
  };

  it('reads the table stream from its oldest record, into the publisher, one batch per shard at a time', () => {
    expect(mapping()).toMatchObject({
      EventSourceArn: getAtt(logicalId(stack.stateful.table), 'StreamArn'),
      FunctionName: { Ref: functionId(PUBLISHER_FUNCTION.name) },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      ParallelizationFactor: 1,
    });
  });

  it('is filtered to history inserts with the same pattern the publisher and the local poller apply', () => {
    const { Filters } = mapping().FilterCriteria as { Filters: { Pattern: string }[] };
    expect(Filters.map((filter) => JSON.parse(filter.Pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['history'] } } } },
    ]);
    expect(JSON.parse(Filters[0]!.Pattern)).toEqual(OUTBOX_STREAM_FILTER);
  });

  it('reports item failures, bisects a failing batch, retries a bounded number of times within the stream retention', () => {
    const properties = mapping();
    expect(properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(properties.BisectBatchOnFunctionError).toBe(true);
    expect(properties.MaximumRetryAttempts).toBe(OUTBOX_STREAM_CONSUMER.retryAttempts);
    expect(properties.MaximumRetryAttempts).toBeGreaterThan(0);
    // -1 (the default) would retry forever: one poisoned record would hold its shard until the stream drops it.
    expect(properties.MaximumRecordAgeInSeconds).toBeGreaterThanOrEqual(60);
    expect(properties.MaximumRecordAgeInSeconds).toBeLessThan(24 * 3600);
  });

  it('sends what it gives up on to the publisher dead-letter queue (SQS, encrypted, TLS only, 14 days)', () => {
    const queueId = logicalId(stack.events.deadLetterQueue);
    expect(mapping().DestinationConfig).toEqual({ OnFailure: { Destination: getAtt(queueId, 'Arn') } });
    expect(resources[queueId]!.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    const policies = ofType('AWS::SQS::QueuePolicy').filter(([, policy]) =>
      (policy.Properties.Queues as { Ref: string }[]).some((ref) => ref.Ref === queueId),
    );
    expect(JSON.stringify(policies)).toContain('aws:SecureTransport');
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.EventPublisherDeadLetterQueueUrl!.Value).toEqual({ Ref: queueId });
  });

  it('raises an alarm as soon as one dead letter is waiting', () => {
    const alarm = resources[logicalId(stack.events.deadLetterAlarm)]!.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(logicalId(stack.events.deadLetterQueue), 'QueueName') }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
    });
  });

  it('raises an alarm when the publisher falls behind the stream', () => {
    const alarm = resources[logicalId(stack.outbox.lagAlarm)]!.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(PUBLISHER_FUNCTION.name) } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 60_000,
    });
  });
});

describe('the publisher function', () => {
  it('is configured with the bus name and no table', () => {
    const variables = (resources[functionId(PUBLISHER_FUNCTION.name)]!.Properties.Environment as { Variables: Json })
      .Variables;
    expect(variables.EVENT_BUS_NAME).toEqual({ Ref: logicalId(stack.events.bus) });
    expect(variables).not.toHaveProperty('TABLE_NAME');
    expect(resources[functionId(PUBLISHER_FUNCTION.name)]!.Properties.Timeout).toBe(30);
  });

  it('may put events on that bus only, read that stream only, and send to its dead-letter queue only', () => {
    const statements = statementsOf(PUBLISHER_FUNCTION.name);
    const byAction = (prefix: string) => statements.filter((s) => actions(s).some((a) => a.startsWith(prefix)));

    expect(byAction('events:')).toEqual([
      {
        Sid: 'PutDomainEvents',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: getAtt(logicalId(stack.events.bus), 'Arn'),
      },
    ]);
    const dynamodb = byAction('dynamodb:');
    expect(dynamodb.flatMap(actions).sort()).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
    ]);
    for (const statement of dynamodb) {
      expect(statement.Resource).toEqual(getAtt(logicalId(stack.stateful.table), 'StreamArn'));
    }
    for (const statement of byAction('sqs:')) {
      expect(statement.Resource).toEqual(getAtt(logicalId(stack.events.deadLetterQueue), 'Arn'));
    }
  });

  it('is, with the webhook delivery (which publishes webhook_endpoint.disabled), the only function allowed to put events', () => {
    const publishers = FUNCTION_DEFINITIONS.filter((definition) =>
      statementsOf(definition.name).some((statement) => actions(statement).some((a) => a.startsWith('events:'))),
    );
    expect(publishers.map((definition) => definition.name)).toEqual([PUBLISHER_FUNCTION.name, 'webhook-delivery']);
  });
});

describe('cdk-nag (AwsSolutions) on the outbox', () => {
  it('reports nothing unacknowledged for the bus, the archive, the queue or the publisher', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const outbox = report.violations
      .flatMap((violation) => violation.violatingResources.map((r) => `${violation.ruleName} ${r.constructPath}`))
      .filter((finding) => /Events|Outbox|Publisher/.test(finding));

    expect(outbox).toEqual([]);
  });
});
