import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * The two alarms every queue of the stack is watched with, built one way. Both read a 5-minute maximum and
 * fire on one period; SQS stops sending metrics for a queue that is empty and idle, so no data means nothing
 * waiting (not breaching).
 */
function queueAlarm(
  scope: Construct,
  id: string,
  description: string,
  metric: ReturnType<IQueue['metricApproximateNumberOfMessagesVisible']>,
  threshold: number,
): Alarm {
  return new Alarm(scope, id, {
    alarmDescription: description,
    metric,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}

const fiveMinuteMaximum = { period: Duration.minutes(5), statistic: Stats.MAXIMUM };

/** Fires while `queue` (a dead-letter queue) holds any message: something failed every attempt. */
export function deadLetterAlarm(scope: Construct, id: string, queue: IQueue, description: string): Alarm {
  return queueAlarm(scope, id, description, queue.metricApproximateNumberOfMessagesVisible(fiveMinuteMaximum), 0);
}

/** Fires when the oldest message of `queue` has waited longer than `seconds`: its consumer is not keeping up. */
export function backlogAlarm(scope: Construct, id: string, queue: IQueue, description: string, seconds: number): Alarm {
  return queueAlarm(scope, id, description, queue.metricApproximateAgeOfOldestMessage(fiveMinuteMaximum), seconds);
}
