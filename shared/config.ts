import type { EventBridgeSchedulerConfig } from './adapters/eventbridge-scheduler.ts';

/**
 * Configuration, read once at cold start. A missing required variable stops the function with its name
 * rather than running with a silent default. Each function asks only for what it uses.
 */
export interface Config {
  tableName: string;
  /** Only for DynamoDB Local. */
  dynamodbEndpoint: string | undefined;
}

export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`missing required environment variable ${name}`);
  return value;
}

export function loadConfig(): Config {
  return {
    tableName: required('TABLE_NAME'),
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT || undefined,
  };
}

/** For functions that arm timers (set by the stack's `bindTimers`). */
export function loadSchedulerConfig(): EventBridgeSchedulerConfig {
  return {
    groupName: required('SCHEDULE_GROUP'),
    targetArn: required('TIMER_FUNCTION_ARN'),
    roleArn: required('SCHEDULER_ROLE_ARN'),
    deadLetterArn: required('TIMER_DLQ_ARN'),
  };
}
