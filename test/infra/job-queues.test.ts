import { beforeAll, describe, expect, it } from '@jest/globals';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BULK_WORKER_MAX_CONCURRENCY, type JobPages } from '../../infra/constructs/bulk-jobs.ts';
import {
  BULK_WORKER_FUNCTION,
  FUNCTION_DEFINITIONS,
  type FunctionDefinition,
  RECONCILIATION_WORKER_FUNCTION,
} from '../../infra/definitions.ts';
import type { MembergateStack } from '../../infra/stack.ts';
import { RECONCILIATION_WORKER_MAX_CONCURRENCY } from '../../shared/domain/reconciliation.ts';
import {
  getAtt,
  type Json,
  logicalIdIn,
  type Resource,
  ofType as resourcesOfType,
  type Statement,
  synthesize,
} from '../support/unbundled-stack.ts';

// Job page queues on AWS (rule 13 bulk revocations, §2.1 reconciliations; DESIGN §6): each queue with its
// dead-letter queue and alarms, its worker reading it one page per invocation with bounded concurrency, and only
// its own functions allowed to send to it. Functions are not bundled here: test/infra/stack.test.ts bundles and
// loads every function.

let app: App;
let stack: MembergateStack;
let resources: Record<string, Resource>;

beforeAll(() => {
  ({ app, stack, resources } = synthesize());
});

const logicalId = (construct: { node: { defaultChild?: unknown } }) => logicalIdIn(stack, construct);
const ofType = (type: string) => resourcesOfType(resources, type);
const functionId = (name: string) => logicalId(stack.functions.get(name)!.function);

function statementsOf(name: string): Statement[] {
  const role = (resources[functionId(name)]!.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === role))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actions = (statement: Statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);

interface JobKind {
  kind: string;
  pages: () => JobPages;
  worker: FunctionDefinition;
  api: string;
  maxConcurrency: number;
  variable: string;
}
const KINDS: JobKind[] = [
  {
    kind: 'bulk jobs',
    pages: () => stack.bulkJobs,
    worker: BULK_WORKER_FUNCTION,
    api: 'bulk-revocations',
    maxConcurrency: BULK_WORKER_MAX_CONCURRENCY,
    variable: 'JOB_QUEUE_URL',
  },
  {
    kind: 'reconciliations',
    pages: () => stack.reconciliations,
    worker: RECONCILIATION_WORKER_FUNCTION,
    api: 'reconciliations',
    maxConcurrency: RECONCILIATION_WORKER_MAX_CONCURRENCY,
    variable: 'RECONCILIATION_QUEUE_URL',
  },
];

describe.each(KINDS)('the page queue of $kind', ({ pages, worker, api, maxConcurrency, variable }) => {
  it('sends a page that failed five receives to its dead-letter queue, kept 14 days; both encrypted', () => {
    const queue = resources[logicalId(pages().queue)]!.Properties;
    const dlq = resources[logicalId(pages().deadLetterQueue)]!.Properties;
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: getAtt(logicalId(pages().deadLetterQueue), 'Arn'),
      maxReceiveCount: 5,
    });
    // Six times the worker's timeout, so a page in flight is not handed to a second worker meanwhile.
    expect(queue.VisibilityTimeout).toBe((worker.timeoutSeconds ?? 10) * 6);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 86_400);
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });

  it('raises an alarm on any dead-lettered page and on a backlog', () => {
    const alarmed = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const onQueue = (queue: string, metric: string) =>
      alarmed.find(
        (alarm) =>
          alarm.MetricName === metric &&
          JSON.stringify(alarm.Dimensions).includes(JSON.stringify(getAtt(queue, 'QueueName'))),
      );
    expect(onQueue(logicalId(pages().deadLetterQueue), 'ApproximateNumberOfMessagesVisible')).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(onQueue(logicalId(pages().queue), 'ApproximateAgeOfOldestMessage')).toBeDefined();
  });

  it('feeds the worker one page per invocation, reporting failures per message, with bounded concurrency', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, mapping]) =>
        JSON.stringify(mapping.Properties.EventSourceArn) === JSON.stringify(getAtt(logicalId(pages().queue), 'Arn')),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({
      FunctionName: { Ref: functionId(worker.name) },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: maxConcurrency },
    });
  });

  it('only its API function and its worker may send to it, with sqs:SendMessage alone and its URL set', () => {
    const queueArn = getAtt(logicalId(pages().queue), 'Arn');
    for (const { name } of FUNCTION_DEFINITIONS) {
      const sends = statementsOf(name).filter(
        (statement) =>
          JSON.stringify(statement.Resource) === JSON.stringify(queueArn) &&
          actions(statement).some((a) => a.startsWith('sqs:Send')),
      );
      const env = (resources[functionId(name)]!.Properties.Environment as { Variables: Json }).Variables;
      if (name === api || name === worker.name) {
        expect(sends.map(actions)).toEqual([['sqs:SendMessage']]);
        expect(env[variable]).toEqual({ Ref: logicalId(pages().queue) });
      } else {
        expect(sends).toEqual([]);
        expect(env[variable]).toBeUndefined();
      }
    }
  });

  it('the worker arms timers (a revoke or a repair moves timers); the API function does not', () => {
    const env = (name: string) =>
      (resources[functionId(name)]!.Properties.Environment as { Variables: Json }).Variables;
    expect(env(worker.name).SCHEDULE_GROUP).toBeDefined();
    expect(env(api).SCHEDULE_GROUP).toBeUndefined();
  });
});

describe('the reconciliation worker', () => {
  it('reads the processor secret (it calls the processors); the reconciliations API does not', () => {
    const env = (name: string) =>
      (resources[functionId(name)]!.Properties.Environment as { Variables: Json }).Variables;
    expect(env(RECONCILIATION_WORKER_FUNCTION.name).PROCESSOR_SECRET_ARN).toBeDefined();
    expect(env('reconciliations').PROCESSOR_SECRET_ARN).toBeUndefined();
  });

  it("may run pages no more than its share of the processors' read limits allows", () => {
    expect(RECONCILIATION_WORKER_MAX_CONCURRENCY).toBeLessThanOrEqual(25);
  });
});

describe('cdk-nag (AwsSolutions) on job queues', () => {
  it('reports nothing unacknowledged for the queues, the alarms or the bulk and reconciliation functions', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations
      .flatMap((violation) => violation.violatingResources.map((r) => `${violation.ruleName} ${r.constructPath}`))
      .filter((finding) => /Bulk|Reconciliation/.test(finding));
    expect(findings).toEqual([]);
  });
});
