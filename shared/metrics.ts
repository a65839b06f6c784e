import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { loadObservabilityConfig } from './config.ts';
import type { Actor, CancelWhen, Processor } from './domain/types.ts';
import { log } from './log.ts';

/** Every metric of membergate lives in this CloudWatch namespace. */
export const METRICS_NAMESPACE = 'membergate';

/** The metric catalog: names and what each counts. Dimensions are named in the helpers below. */
export const MetricName = {
  /** Product access revoked through the API (dimension `actorType`). */
  accessRevoked: 'AccessRevoked',
  /** Product access resumed through the API (dimension `actorType`). */
  accessResumed: 'AccessResumed',
  /** A cancellation of payments accepted (dimension `mode`: now, period_end, date). */
  cancellationRequested: 'CancellationRequested',
  /** One webhook delivery (dimensions `processor`, `outcome`: applied, duplicate, ignored, rejected). */
  webhookDelivery: 'WebhookDelivery',
  /** How long after its due instant a timer ran, in ms (dimension `purpose`). */
  timerLateness: 'TimerLateness',
  /** A call to Stripe or PayPal that failed (dimensions `processor`, `operation`). */
  processorCallFailed: 'ProcessorCallFailed',
  /** Domain events the outbox publisher put on the bus (duplicates of a redelivered batch included). */
  eventsPublished: 'EventsPublished',
  /** Stream records the publisher handed back for redelivery (the first failure and what follows it). */
  eventsRedelivered: 'EventsRedelivered',
  /**
   * Purchases a job page settled (dimensions `job`: bulk_revocation, reconciliation; `outcome`: bulk done,
   * skipped, failed; reconciliation in_sync, drifted, repaired, skipped, failed): the jobs' progress.
   */
  jobPurchases: 'JobPurchases',
} as const;

/** What a webhook delivery came to, as operators watch it. */
export type WebhookOutcomeClass = 'applied' | 'duplicate' | 'ignored' | 'rejected';

/**
 * The use case's outcome, grouped: `created` (a subscription seen first at the processor) and `unchanged`
 * (verified, recorded, but nothing left to change, e.g. an older event) were both accepted and recorded.
 */
export function webhookOutcomeClass(
  outcome: 'applied' | 'created' | 'unchanged' | 'duplicate' | 'ignored',
): WebhookOutcomeClass {
  return outcome === 'created' || outcome === 'unchanged' ? 'applied' : outcome;
}

/**
 * Powertools warns on every flush that carried no metric. Most invocations (access checks) record none,
 * so that notice goes to debug; every other diagnostic of the metrics library stays a warning.
 */
const NOTHING_TO_PUBLISH = 'No application metrics to publish';
const metricsDiagnostics = {
  debug: (message: string, ...rest: unknown[]) => log.debug(message, ...asExtra(rest)),
  info: (message: string, ...rest: unknown[]) => log.info(message, ...asExtra(rest)),
  warn: (message: string, ...rest: unknown[]) =>
    String(message).startsWith(NOTHING_TO_PUBLISH)
      ? log.debug(message, ...asExtra(rest))
      : log.warn(message, ...asExtra(rest)),
  error: (message: string, ...rest: unknown[]) => log.error(message, ...asExtra(rest)),
};

function asExtra(rest: unknown[]): Record<string, unknown>[] {
  return rest.length === 0 ? [] : [{ details: rest }];
}

/**
 * The one metrics instance (Powertools, CloudWatch embedded metric format: one JSON line on stdout per
 * flush, no API call). `service` is the function's name on AWS. Outside Lambda `POWERTOOLS_DEV=true`
 * disables it (Powertools' default), so `npm start` and tests print none; the handler seam flushes it and
 * adds the cold-start metric (shared/observability.ts).
 */
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: loadObservabilityConfig().serviceName,
  logger: metricsDiagnostics,
});

/**
 * One data point with its own dimensions, written at once. A single metric rather than a dimension on the
 * shared instance: one invocation may record metrics with different dimensions (a timer's lateness and a
 * processor failure), and dimensions on the shared instance would apply to all of them.
 */
function record(name: string, unit: Unit, value: number, dimensions: Record<string, string>): void {
  const single = metrics.singleMetric();
  for (const [dimension, dimensionValue] of Object.entries(dimensions)) single.addDimension(dimension, dimensionValue);
  single.addMetric(name, unit, value);
}

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export function countAccessChange(change: 'revoke' | 'resume', actor: Actor): void {
  const name = change === 'revoke' ? MetricName.accessRevoked : MetricName.accessResumed;
  record(name, MetricUnit.Count, 1, { actorType: actor.type });
}

export function countCancellation(mode: CancelWhen): void {
  record(MetricName.cancellationRequested, MetricUnit.Count, 1, { mode });
}

export function countWebhookDelivery(processor: 'stripe' | 'paypal', outcome: WebhookOutcomeClass): void {
  record(MetricName.webhookDelivery, MetricUnit.Count, 1, { processor, outcome });
}

export function recordTimerLateness(purpose: string, latenessMs: number): void {
  record(MetricName.timerLateness, MetricUnit.Milliseconds, latenessMs, { purpose });
}

export function countProcessorCallFailure(processor: Exclude<Processor, 'none'>, operation: string): void {
  record(MetricName.processorCallFailed, MetricUnit.Count, 1, { processor, operation });
}

/** One stream batch of the outbox publisher: what went on the bus, what goes back to the stream. */
export function countPublishedEvents(published: number, redelivered: number): void {
  if (published > 0) record(MetricName.eventsPublished, MetricUnit.Count, published, {});
  if (redelivered > 0) record(MetricName.eventsRedelivered, MetricUnit.Count, redelivered, {});
}

/** One counted job page: how many of its purchases ended in each outcome (zeros are not sent). */
export function countJobPurchases(job: 'bulk_revocation' | 'reconciliation', counts: Record<string, number>): void {
  for (const [outcome, count] of Object.entries(counts)) {
    if (count > 0) record(MetricName.jobPurchases, MetricUnit.Count, count, { job, outcome });
  }
}
