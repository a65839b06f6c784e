import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** How often the sweeper applies whatever is overdue: the longest a lost timer can delay a state change. */
export const SWEEP_INTERVAL = Duration.minutes(5);

export interface TimersProps {
  /** The group schedules are created in (stateful). */
  readonly scheduleGroup: IScheduleGroup;
  /** Where undeliverable and failed timers go (stateful). */
  readonly deadLetterQueue: IQueue;
  /**
   * The function schedules invoke. It must have been created with `functionName: targetFunctionName`.
   * A plain Lambda function, not the house construct: `ApiFunction.bindTimers` takes a `Timers`, so naming
   * `ApiFunction` here would make the two modules import each other.
   */
  readonly target: IFunction;
  /**
   * The target's explicit physical name. Its ARN is built from this name rather than read from the function
   * (`Fn::GetAtt`), because the target arms timers too: a `TIMER_FUNCTION_ARN` that referenced the function's
   * own ARN would make the function depend on itself, which CloudFormation rejects as a circular dependency.
   */
  readonly targetFunctionName: string;
  /** Runs every `SWEEP_INTERVAL` from an EventBridge rule. */
  readonly sweeper: IFunction;
}

/**
 * Timed work, the stateless half: the role EventBridge Scheduler assumes to deliver a timer (it may invoke
 * the timer function and write to the dead-letter queue, nothing else), what happens when the timer
 * function fails, and the rule that runs the sweeper. The group and the queue are `Stateful`'s.
 *
 * Functions that arm timers get the settings and permissions through `ApiFunction.bindTimers(timers)`.
 */
export class Timers extends Construct {
  /** The concrete group name; schedule ARNs, env and IAM use it as is. */
  readonly groupName: string;
  /** `arn:<partition>:scheduler:<region>:<account>:schedule/<group>/*`: every schedule of the group. */
  readonly scheduleArns: string;
  /** `arn:<partition>:scheduler:<region>:<account>:schedule-group/<group>`: the Scheduler role's source ARN. */
  readonly scheduleGroupArn: string;
  /** The timer function's unqualified ARN, built from its name (see `targetFunctionName`). */
  readonly targetArn: string;
  readonly deadLetterQueue: IQueue;
  /** Assumed by EventBridge Scheduler when a schedule fires. */
  readonly schedulerRole: Role;
  readonly sweepRule: Rule;

  constructor(scope: Construct, id: string, props: TimersProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.groupName = props.scheduleGroup.scheduleGroupName;
    this.scheduleArns = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.groupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.targetArn = stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: props.targetFunctionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.deadLetterQueue = props.deadLetterQueue;

    this.scheduleGroupArn = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule-group',
      resourceName: this.groupName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      // Confused-deputy guard (EventBridge Scheduler user guide, "Confused deputy prevention"): only Scheduler
      // acting for a schedule of this account's timer group may assume it. Scheduler's source ARN is the
      // schedule group's, not the schedule's.
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.scheduleGroupArn } },
      }),
      description: `Assumed by EventBridge Scheduler to deliver membergate timers (${this.node.path})`,
    });
    // The function's own ARN (a reference, not `targetArn`): the role's policy is a separate resource, so
    // policy → function is no cycle, and the grant follows the function if its name ever changes. Unqualified
    // only: schedules target `$LATEST`, so no `:*` for versions and aliases.
    this.schedulerRole.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'InvokeTimerFunction',
        actions: ['lambda:InvokeFunction'],
        resources: [props.target.functionArn],
      }),
    );
    // Scheduler sends a schedule's dead letters (DeadLetterConfig) with the execution role's permissions.
    this.schedulerRole.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'SendDeadLetters',
        actions: ['sqs:SendMessage'],
        resources: [props.deadLetterQueue.queueArn],
      }),
    );

    // Scheduler invokes Lambda asynchronously: its retry policy and dead-letter queue cover only failures to
    // invoke (throttling, permissions, a missing function). A timer the handler rejects, or that fails on
    // every attempt, is retried by Lambda and then sent here, to the same queue and the same alarm, instead
    // of being dropped after Lambda's retries.
    props.target.configureAsyncInvoke({
      onFailure: new SqsDestination(props.deadLetterQueue),
      retryAttempts: 2,
    });

    this.sweepRule = new Rule(this, 'SweepRule', {
      description: 'Runs the membergate sweeper: applies whatever lost or failed timers left overdue',
      schedule: Schedule.rate(SWEEP_INTERVAL),
      targets: [new LambdaFunction(props.sweeper)],
    });
    // A failed sweep is retried by the next run, with fresher data; Lambda's own retries would only overlap it.
    props.sweeper.configureAsyncInvoke({ retryAttempts: 0 });
  }
}
