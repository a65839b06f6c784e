import { Logger } from '@aws-lambda-powertools/logger';
import { loadObservabilityConfig } from './config.ts';

const config = loadObservabilityConfig();

/**
 * The one logger (Powertools for AWS Lambda): one JSON object per line, with the invocation's
 * `function_request_id`, `cold_start` and `function_name` once the handler seam (shared/observability.ts)
 * has seen the Lambda context, and the request's keys (`siteId`, `purchaseId`, `eventId`, `timer`) that the
 * seam and the apps append and the seam clears after every invocation.
 *
 * `LOG_LEVEL` (any case: debug, info, warn, error, silent; default info) is read here because Powertools
 * accepts only upper-case names from the environment. On AWS, Lambda's own log-level control is set to the
 * same level by the stack and wins if the two ever differ. `POWERTOOLS_DEV=true` (`npm start`, tests) prints
 * the same objects indented for people.
 *
 * Never log a secret, a token, a signature header or a raw webhook body; log ids, not customer emails
 * (README, Configuration). Log an error through `describeError`, not as is: Powertools would write every own
 * property of the error too, and SDK errors carry data (a failed condition's `Item`, a processor's raw
 * response) that may hold customer details.
 */
export const log = new Logger({ serviceName: config.serviceName, logLevel: config.logLevel });

/** A thrown value as a log field: its name, message and stack, and nothing it carries besides. */
export function describeError(error: unknown) {
  return error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack }
    : { value: String(error) };
}
