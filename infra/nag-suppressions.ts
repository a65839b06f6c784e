import { type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RouteDefinition } from '../shared/http/routes.ts';
import type { ApiFunction } from './constructs/api-function.ts';
import type { Auth } from './constructs/auth.ts';
import type { Stateful } from './constructs/stateful.ts';

/**
 * What the acknowledgements are attached to: the parts of `MembergateStack` they name. Declared here rather
 * than taking the stack's class, which imports this module to call it: the stack satisfies it as it is.
 */
export interface NagFindingsScope extends Pick<Stack, 'getLogicalId'> {
  readonly stateful: Stateful;
  readonly auth: Auth;
  readonly functions: ReadonlyMap<string, ApiFunction>;
  readonly routes: readonly { readonly spec: RouteDefinition; readonly route: IConstruct }[];
}

/**
 * Every cdk-nag (AwsSolutions) finding this stack accepts, each on the narrowest construct and with the
 * reason. Anything not listed here fails `cdk synth` and the infra test. Prefer fixing to adding here:
 * the Lambda roles, for instance, are hand-made so that AwsSolutions-IAM4 (managed policies) never fires.
 *
 * cdk-nag 3 runs as a CDK policy-validation plugin, so these are `Validations.of(…).acknowledge`, not
 * the v2 `NagSuppressions`.
 */
export function acknowledgeNagFindings(stack: NagFindingsScope): void {
  const tableLogicalId = stack.getLogicalId(stack.stateful.table.node.defaultChild as CfnElement);

  for (const fn of stack.functions.values()) {
    Validations.of(fn.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'DESIGN §3 pins Node.js 22 (the version the code and its tests run on); moving to a newer runtime is a ' +
        'deliberate upgrade with its own test run, not something a CDK library bump should force.',
    });
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only xray:PutTraceSegments and xray:PutTelemetryRecords (added by Tracing.ACTIVE) use "*": X-Ray ' +
        'supports no resource-level permissions. An infra test asserts no other action has a wildcard resource.',
    });
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
      reason:
        "Queries on the table's own global secondary indexes (gsi1..gsi3 from TABLE_SCHEMA); the wildcard " +
        'stays inside this one table.',
    });
    if (fn.timers) {
      // How cdk-nag renders `Timers.scheduleArns` (a Fn::Join of the pseudo parameters and the group name).
      const schedules = `arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${fn.timers.groupName}/*`;
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${schedules}]`,
        reason:
          'scheduler:CreateSchedule/UpdateSchedule/DeleteSchedule on the schedules of the one timer group: a ' +
          'schedule is named per purchase and purpose at run time, so its ARN cannot be listed; the wildcard ' +
          'stays inside the group, and iam:PassRole is on the one Scheduler role.',
      });
    }
  }

  Validations.of(stack.stateful.timerDeadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is itself the dead-letter queue of the timer schedules and of the timer function; a DLQ of ' +
      "a DLQ would only move the same messages. cdk-nag recognises a DLQ only by another queue's RedrivePolicy, " +
      "while this one is named in each schedule's DeadLetterConfig (at run time) and in the timer function's " +
      'on-failure destination. Any message raises an alarm and is kept the SQS maximum of 14 days.',
  });

  Validations.of(stack.stateful.events.deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      "This queue is itself the on-failure destination of the outbox publisher's event source mapping (a DLQ " +
      'that cdk-nag cannot see: it is named in the mapping, not in a RedrivePolicy). A DLQ of it would only ' +
      'move the same batch descriptions. Any message raises an alarm and is kept the SQS maximum of 14 days.',
  });

  Validations.of(stack.stateful.processorSecret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'The secret holds third-party credentials (Stripe API keys and webhook signing secret, PayPal client ' +
      "secret and webhook id) that only the processor can issue or roll: they are rotated in Stripe's and " +
      "PayPal's dashboards and then put here by an operator. A Secrets Manager rotation Lambda could only " +
      'generate values the processors would reject.',
  });

  Validations.of(stack.auth.userPool).acknowledge({
    id: 'AwsSolutions-COG2',
    reason:
      'Automation users are machines that sign in without a person present, and customers sign in from the ' +
      "membership site's own login; required MFA would lock both out. TOTP MFA is enabled as optional for staff.",
  });
  Validations.of(stack.auth.userPool).acknowledge({
    id: 'AwsSolutions-COG8',
    reason:
      'The Plus feature plan (threat protection) is billed per monthly active user and customers are most ' +
      'users; sign-up is closed and accounts are operator-created. Revisit when humans sign in at scale.',
  });

  for (const { spec, route } of stack.routes) {
    if (spec.access === 'public' || spec.access === 'webhook') {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          spec.access === 'public'
            ? `${spec.method} ${spec.path} is deliberately public (no caller identity, no data).`
            : `${spec.method} ${spec.path} is called by a payment processor that cannot present a JWT; the ` +
              'handler verifies the webhook signature before anything is read or written.',
      });
    }
  }
}
