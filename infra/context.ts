import type { Node } from 'constructs';

/**
 * The context values the stack reads (`cdk deploy -c key=value`, or `context` in cdk.json), with their
 * defaults. README, Configuration, lists them; an infra test holds the two together.
 */
export const STACK_CONTEXT = {
  /** An email address subscribed to the alarm topic. @default none: subscribe from the SNS console or CLI */
  alarmEmail: undefined,
  /** Steady-state requests per second of the API's default stage, every route (API Gateway throttling). */
  apiThrottleRate: 100,
  /** Burst capacity (requests) of the API's default stage, every route. */
  apiThrottleBurst: 200,
} as const;

export type StackContextKey = keyof typeof STACK_CONTEXT;

export interface StackSettings {
  readonly alarmEmail?: string;
  readonly apiThrottle: { readonly rateLimit: number; readonly burstLimit: number };
}

/** A plausible address, not RFC 5322: enough to catch a flag given the wrong value. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The settings from the context, validated: a bad value stops synthesis with a message naming the key,
 * rather than deploying a stage that throttles everything or a subscription that never arrives.
 * Values from `-c` arrive as strings, values from cdk.json as JSON: both are accepted.
 */
export function stackSettings(node: Node): StackSettings {
  const alarmEmail = optionalString(node, 'alarmEmail');
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) {
    throw new Error(`context alarmEmail: "${alarmEmail}" is not an email address`);
  }
  const rateLimit = positiveNumber(node, 'apiThrottleRate', STACK_CONTEXT.apiThrottleRate);
  const burstLimit = positiveNumber(node, 'apiThrottleBurst', STACK_CONTEXT.apiThrottleBurst);
  if (!Number.isInteger(burstLimit)) throw new Error(`context apiThrottleBurst: ${burstLimit} is not a whole number`);
  return { ...(alarmEmail === undefined ? {} : { alarmEmail }), apiThrottle: { rateLimit, burstLimit } };
}

function optionalString(node: Node, key: StackContextKey): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`context ${key}: expected a string, got ${JSON.stringify(value)}`);
  return value.trim();
}

function positiveNumber(node: Node, key: StackContextKey, fallback: number): number {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return fallback;
  const parsed = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`context ${key}: expected a positive number, got ${JSON.stringify(value)}`);
  }
  return parsed;
}
