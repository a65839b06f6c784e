import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type EventBridgeSchedulerConfig,
  EventBridgeTimerScheduler,
} from '../../shared/adapters/eventbridge-scheduler.ts';
import type { TimerPurpose } from '../../shared/domain/billing.ts';
import { type TimerEvent, timerName } from '../../shared/ports/scheduler.ts';

/** The fixed clock of these tests: an hour before the usual due time. */
const NOW = new Date('2026-12-01T09:00:00.000Z');

const CONFIG: EventBridgeSchedulerConfig = {
  groupName: 'Membergate-timers',
  targetArn: 'arn:aws:lambda:eu-west-1:123456789012:function:Membergate-timer',
  roleArn: 'arn:aws:iam::123456789012:role/Membergate-TimersSchedulerRole',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:123456789012:Membergate-TimerDeadLetterQueue',
};

const TIMER: TimerEvent = {
  siteId: 'site-1',
  purchaseId: 'purchase-1',
  purpose: 'access_period',
  dueAt: '2026-12-01T10:00:00.200Z',
};

const schedulerMock = mockClient(SchedulerClient);

// Service errors as the SDK builds them (Scheduler's types want the service's `Message` besides `message`).
const conflict = () => new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} });
const notFound = () => new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} });
const throttled = () => new ThrottlingException({ message: 'slow down', Message: 'slow down', $metadata: {} });

function scheduler(): EventBridgeTimerScheduler {
  return new EventBridgeTimerScheduler(new SchedulerClient({ region: 'eu-west-1' }), CONFIG, () => NOW);
}

/** What upsert must send for `timer`, given the `at()` expression it is due at. */
function expectedRequest(timer: TimerEvent, scheduleExpression: string): CreateScheduleCommandInput {
  return {
    Name: timerName(timer),
    GroupName: CONFIG.groupName,
    ScheduleExpression: scheduleExpression,
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    State: 'ENABLED',
    Description: expect.any(String) as unknown as string,
    Target: {
      Arn: CONFIG.targetArn,
      RoleArn: CONFIG.roleArn,
      Input: JSON.stringify(timer),
      RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 86_400 },
      DeadLetterConfig: { Arn: CONFIG.deadLetterArn },
    },
  };
}

beforeEach(() => {
  schedulerMock.reset();
});

describe('EventBridgeTimerScheduler.upsert', () => {
  it('creates one one-time schedule, in the group, that delivers the timer to the timer function', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});

    await scheduler().upsert(TIMER);

    const creates = schedulerMock.commandCalls(CreateScheduleCommand);
    expect(creates).toHaveLength(1);
    expect(creates[0]!.args[0].input).toEqual(expectedRequest(TIMER, 'at(2026-12-01T10:00:01)'));
    expect(JSON.parse(creates[0]!.args[0].input.Target!.Input!)).toEqual(TIMER);
    expect(schedulerMock.calls()).toHaveLength(1);
  });

  it('rounds a due time up to the whole second, so a timer never fires before it is due', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});

    await scheduler().upsert({ ...TIMER, dueAt: '2026-12-01T10:00:00.001Z' });

    expect(schedulerMock.commandCalls(CreateScheduleCommand)[0]!.args[0].input.ScheduleExpression).toBe(
      'at(2026-12-01T10:00:01)',
    );
  });

  it('keeps a due time that is already a whole second', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});

    await scheduler().upsert({ ...TIMER, dueAt: '2026-12-01T10:00:00.000Z' });

    expect(schedulerMock.commandCalls(CreateScheduleCommand)[0]!.args[0].input.ScheduleExpression).toBe(
      'at(2026-12-01T10:00:00)',
    );
  });

  it('schedules a due time in the past 2 s after now instead of refusing it', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});

    await scheduler().upsert({ ...TIMER, dueAt: '2026-11-30T12:00:00.000Z' });

    expect(schedulerMock.commandCalls(CreateScheduleCommand)[0]!.args[0].input.ScheduleExpression).toBe(
      'at(2026-12-01T09:00:02)',
    );
  });

  it('moves the schedule with exactly one UpdateSchedule of the same input when it exists (ConflictException)', async () => {
    schedulerMock.on(CreateScheduleCommand).rejects(conflict());
    schedulerMock.on(UpdateScheduleCommand).resolves({});

    await scheduler().upsert(TIMER);

    const updates = schedulerMock.commandCalls(UpdateScheduleCommand);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.args[0].input).toEqual(schedulerMock.commandCalls(CreateScheduleCommand)[0]!.args[0].input);
    expect(updates[0]!.args[0].input).toEqual(expectedRequest(TIMER, 'at(2026-12-01T10:00:01)'));
  });

  it('lets any other error of CreateSchedule through, without trying an update', async () => {
    const error = throttled();
    schedulerMock.on(CreateScheduleCommand).rejects(error);

    await expect(scheduler().upsert(TIMER)).rejects.toBe(error);
    expect(schedulerMock.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('lets an error of the UpdateSchedule that follows a conflict through', async () => {
    const error = throttled();
    schedulerMock.on(CreateScheduleCommand).rejects(conflict());
    schedulerMock.on(UpdateScheduleCommand).rejects(error);

    await expect(scheduler().upsert(TIMER)).rejects.toBe(error);
  });
});

describe('EventBridgeTimerScheduler.remove', () => {
  const { dueAt: _dueAt, ...timerWithoutDue } = TIMER;

  it('deletes the schedule of that purchase and purpose in the group', async () => {
    schedulerMock.on(DeleteScheduleCommand).resolves({});

    await scheduler().remove(timerWithoutDue);

    const deletes = schedulerMock.commandCalls(DeleteScheduleCommand);
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.args[0].input).toEqual({ Name: timerName(TIMER), GroupName: CONFIG.groupName });
    expect(schedulerMock.calls()).toHaveLength(1);
  });

  it('treats a schedule that is already gone (ResourceNotFoundException) as removed', async () => {
    schedulerMock.on(DeleteScheduleCommand).rejects(notFound());

    await expect(scheduler().remove(timerWithoutDue)).resolves.toBeUndefined();
  });

  it('lets any other error of DeleteSchedule through', async () => {
    const error = throttled();
    schedulerMock.on(DeleteScheduleCommand).rejects(error);

    await expect(scheduler().remove(timerWithoutDue)).rejects.toBe(error);
  });
});

describe('timerName', () => {
  const PURPOSES: TimerPurpose[] = ['cancellation', 'access_period', 'pause_end'];
  const LONG_ODD_IDS = { siteId: `site/${'é'.repeat(120)}`, purchaseId: `purchase:${'x'.repeat(300)} #1` };

  it.each(PURPOSES)(
    "fits Scheduler's name rules (≤ 64 characters of [0-9a-zA-Z-_.]) for %s, whatever the ids",
    (purpose) => {
      for (const ids of [TIMER, LONG_ODD_IDS]) {
        const name = timerName({ ...ids, purpose });

        expect(name.length).toBeLessThanOrEqual(64);
        expect(name).toMatch(/^[0-9a-zA-Z-_.]+$/);
      }
    },
  );

  it('is the same for the same purchase and purpose, so a retry finds the schedule it made', () => {
    expect(timerName({ ...TIMER })).toBe(
      timerName({ siteId: 'site-1', purchaseId: 'purchase-1', purpose: 'access_period' }),
    );
  });

  it('differs between purposes of one purchase, which has one timer per purpose', () => {
    const names = PURPOSES.map((purpose) => timerName({ ...TIMER, purpose }));

    expect(new Set(names).size).toBe(PURPOSES.length);
  });

  it('differs between purchases, and between sites with the same purchase id', () => {
    const names = [
      timerName(TIMER),
      timerName({ ...TIMER, purchaseId: 'purchase-2' }),
      timerName({ ...TIMER, siteId: 'site-2' }),
    ];

    expect(new Set(names).size).toBe(names.length);
  });
});
