/**
 * Configuration, read once at cold start. A missing required variable stops the function with its name
 * rather than running with a silent default. Each function asks only for what it uses.
 *
 * This module imports nothing: adapters and the wiring both read their settings from here, so it sits
 * below all of them (an adapter's settings type lives here, not in the adapter, for that reason).
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

/** What the EventBridge Scheduler adapter needs to create a timer's schedule. */
export interface EventBridgeSchedulerConfig {
  groupName: string;
  /** The timer function. */
  targetArn: string;
  /** The role Scheduler assumes; it may invoke only the timer function. */
  roleArn: string;
  deadLetterArn: string;
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

/** What the EventBridge bus adapter needs to publish domain events. */
export interface EventBridgeBusConfig {
  /** The stack's bus (`EVENT_BUS_NAME`), never the account's default bus. */
  busName: string;
}

/** For functions that publish events (set by the stack's `bindEventBus`). */
export function loadEventBusConfig(): EventBridgeBusConfig {
  return { busName: required('EVENT_BUS_NAME') };
}

/** What the SQS delivery queue adapter needs. */
export interface DeliveryQueueConfig {
  /** The webhook delivery queue (`DELIVERY_QUEUE_URL`). */
  queueUrl: string;
}

/** For functions that queue webhook deliveries (set by the stack's `bindDeliveryQueue`). */
export function loadDeliveryQueueConfig(): DeliveryQueueConfig {
  return { queueUrl: required('DELIVERY_QUEUE_URL') };
}

/** What the SQS job queue adapter needs. */
export interface JobQueueConfig {
  /** The bulk job page queue (`JOB_QUEUE_URL`). */
  queueUrl: string;
}

/**
 * For functions that queue job pages (set by the stack's `bindJobQueue`): bulk job pages (`JOB_QUEUE_URL`), or
 * reconciliation pages (`RECONCILIATION_QUEUE_URL`).
 */
export function loadJobQueueConfig(
  variable: 'JOB_QUEUE_URL' | 'RECONCILIATION_QUEUE_URL' = 'JOB_QUEUE_URL',
): JobQueueConfig {
  return { queueUrl: required(variable) };
}

/** Powertools' level names; `SILENT` turns logging off (tests). */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface ObservabilityConfig {
  /** The `service` of every log line and metric: the function's name on AWS (the stack sets it). */
  serviceName: string;
  logLevel: LogLevelName;
}

/** Outside Lambda (`npm start`, tests, the bench) all functions share one process and this name. */
export const LOCAL_SERVICE_NAME = 'membergate';

/**
 * `POWERTOOLS_SERVICE_NAME` and `LOG_LEVEL` (any case; default INFO). An unknown level falls back to INFO
 * instead of stopping the function: a typo in a log setting must not take the API down.
 */
export function loadObservabilityConfig(source: Record<string, string | undefined> = process.env): ObservabilityConfig {
  const level = (source.LOG_LEVEL ?? '').trim().toUpperCase();
  return {
    serviceName: source.POWERTOOLS_SERVICE_NAME?.trim() || LOCAL_SERVICE_NAME,
    logLevel: LOG_LEVELS.find((known) => known === level) ?? 'INFO',
  };
}
