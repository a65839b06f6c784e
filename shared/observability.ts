import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { log } from './log.ts';
import { metrics } from './metrics.ts';

/**
 * The observability part of every function's middy chain, first in line: the logger learns the Lambda
 * context (request id, cold start, function name) and forgets the request's appended keys when the
 * invocation ends, whichever way it ends (`resetKeys`); the metrics buffer is flushed after every
 * invocation and the cold start is counted. `logEvent: false` wins over `POWERTOOLS_LOGGER_LOG_EVENT`: an
 * event carries bearer tokens and raw webhook bodies, which must never reach the logs.
 */
export function observability<TEvent, TResult>(): MiddlewareObj<TEvent, TResult>[] {
  return [
    injectLambdaContext(log, { resetKeys: true, logEvent: false }),
    logMetrics(metrics, { captureColdStartMetric: true }),
  ];
}

/**
 * A Lambda handler that may also be called without a context (the local runtime, tests), and without an
 * event when it accepts none (the sweeper's scheduled event carries nothing it reads).
 */
export type ObservedHandler<TEvent, TResult> = (
  ...args: undefined extends TEvent ? [event?: TEvent, context?: Context] : [event: TEvent, context?: Context]
) => Promise<TResult>;

/**
 * Wraps a non-HTTP handler (timer, sweeper) in the observability chain. Locally the runtime calls it with
 * the event alone; it then gets a context of its own, so that its log lines still carry a request id.
 */
export function observed<TEvent, TResult>(
  functionName: string,
  handler: (event: TEvent, context: Context) => Promise<TResult>,
): ObservedHandler<TEvent, TResult> {
  const wrapped = middy<TEvent, TResult>().use(observability<TEvent, TResult>()).handler(handler);
  // `event` is a TEvent whichever branch of the parameter list applied; the compiler cannot see through it.
  return (...[event, context]) => wrapped(event as TEvent, context ?? contextOutsideLambda(functionName));
}

/** Lambda's longest timeout: outside Lambda, the deadline a handler is given (middy aborts just before it). */
const LONGEST_LAMBDA_TIMEOUT_MS = 15 * 60 * 1000;

/** What a handler sees when it runs outside Lambda: its own request id, and the longest deadline Lambda has. */
function contextOutsideLambda(functionName: string): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '0',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => LONGEST_LAMBDA_TIMEOUT_MS - (Date.now() - started),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
