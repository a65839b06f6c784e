import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { EventBridgeSchedulerConfig } from '../config.ts';
import type { Clock } from '../domain/time.ts';
import { type TimerEvent, type TimerScheduler, timerName } from '../ports/scheduler.ts';

export type { EventBridgeSchedulerConfig };

/** Scheduler's `at()` takes whole seconds: round up so a timer never fires before its due instant. */
export function atExpression(dueAt: Date): string {
  const ceiled = new Date(Math.ceil(dueAt.getTime() / 1000) * 1000);
  return `at(${ceiled.toISOString().slice(0, 19)})`;
}

/** A due time already past (the sweeper's territory) is scheduled a moment from now instead of being refused. */
const MIN_LEAD_MS = 2_000;

/**
 * EventBridge Scheduler adapter: one one-time `at()` schedule per purchase and purpose, named
 * deterministically, deleted by Scheduler after it fires, with retries and a dead-letter queue.
 * Create-then-update makes upsert idempotent: a retry's ConflictException means "exists", so it moves it.
 */
export class EventBridgeTimerScheduler implements TimerScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly config: EventBridgeSchedulerConfig,
    private readonly clock: Clock,
  ) {}

  request(timer: TimerEvent): CreateScheduleCommandInput {
    const due = Math.max(Date.parse(timer.dueAt), this.clock().getTime() + MIN_LEAD_MS);
    return {
      Name: timerName(timer),
      GroupName: this.config.groupName,
      ScheduleExpression: atExpression(new Date(due)),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Description: `membergate ${timer.purpose} for purchase ${timer.purchaseId}`.slice(0, 512),
      Target: {
        Arn: this.config.targetArn,
        RoleArn: this.config.roleArn,
        Input: JSON.stringify(timer),
        RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: this.config.deadLetterArn },
      },
    };
  }

  async upsert(timer: TimerEvent): Promise<void> {
    const input = this.request(timer);
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      await this.client.send(new UpdateScheduleCommand(input));
    }
  }

  async remove(timer: Omit<TimerEvent, 'dueAt'>): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: timerName(timer), GroupName: this.config.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}

/**
 * Production wiring, once the module is loaded: the wiring reads `config` at cold start (so a missing
 * setting still stops the function there) and loads this module, with the Scheduler client, on the first
 * timer a request arms or removes.
 */
export function eventBridgeTimers(config: EventBridgeSchedulerConfig, clock: Clock): TimerScheduler {
  return new EventBridgeTimerScheduler(new SchedulerClient({}), config, clock);
}
