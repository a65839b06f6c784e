import { ulid } from 'ulid';
import {
  createProcessorThrottle,
  deploymentReadRate,
  type ProcessorThrottle,
  perWorkerRate,
} from './adapters/processor-throttle.ts';
import {
  type DeliveryQueueConfig,
  type EventBridgeBusConfig,
  type EventBridgeSchedulerConfig,
  type JobQueueConfig,
  loadConfig,
  loadDeliveryQueueConfig,
  loadEventBusConfig,
  loadJobQueueConfig,
  loadSchedulerConfig,
  required,
} from './config.ts';
import { RECONCILIATION_WORKER_MAX_CONCURRENCY } from './domain/reconciliation.ts';
import { type Clock, systemClock } from './domain/time.ts';
import { FUNCTION_NEEDS, type FunctionName, type FunctionNeeds, readsProcessorSecret } from './function-needs.ts';
import { lazy } from './lazy.ts';
import { describeError, log } from './log.ts';
import type { BulkJobStore, JobQueue } from './ports/bulk-jobs.ts';
import type { DeliveryQueue } from './ports/delivery-queue.ts';
import type { EventBus } from './ports/event-bus.ts';
import { noProcessor, type ProcessorRegistry, unconfiguredProcessor } from './ports/processor.ts';
import type { ReconciliationStore } from './ports/reconciliations.ts';
import type { TimerScheduler } from './ports/scheduler.ts';
import type { WebhookStore } from './ports/webhook-endpoints.ts';
import type { WebhookTranslator } from './ports/webhooks.ts';
import type { ProcessorSettings } from './processor-settings.ts';
import { createDocumentClient } from './store/client.ts';
import {
  createDynamoBulkJobStore,
  createDynamoReconciliationStore,
  createDynamoStores,
  createDynamoWebhookStore,
} from './store/index.ts';
import type { Dependencies } from './usecases/deps.ts';

export const newId = (prefix: string) => `${prefix}_${ulid().toLowerCase()}`;

/** shared/adapters/eventbridge-scheduler.ts, as the wiring uses it. */
export interface SchedulerAdapterModule {
  eventBridgeTimers(config: EventBridgeSchedulerConfig, clock: Clock): TimerScheduler;
}
/** shared/processor-settings.ts, as the wiring uses it (it brings the Secrets Manager client). */
export interface ProcessorSecretModule {
  loadProcessorSettings(): Promise<ProcessorSettings>;
}
/** shared/adapters/processors.ts, as the wiring uses it. */
export interface ProcessorAdapterModule {
  processorRegistry(settings: ProcessorSettings | null): ProcessorRegistry;
  payPalCancelRedirect(settings: ProcessorSettings | null): (subscriptionId: string) => string;
}
/** shared/adapters/stripe-webhook.ts, as the wiring uses it. */
export interface StripeWebhookModule {
  createStripeTranslator(options: { webhookSecret: string }): WebhookTranslator;
}
/** shared/adapters/paypal-webhook.ts, as the wiring uses it. */
export interface PayPalWebhookModule {
  createPayPalTranslator(options: { webhookId: string; certificatePem?: string }): WebhookTranslator;
}

/** shared/adapters/eventbridge-bus.ts, as the wiring uses it. */
export interface EventBusAdapterModule {
  eventBridgeBus(config: EventBridgeBusConfig): EventBus;
}
/** shared/adapters/sqs-delivery-queue.ts, as the wiring uses it. */
export interface DeliveryQueueModule {
  sqsDeliveryQueue(config: DeliveryQueueConfig, clock: Clock): DeliveryQueue;
}

/** shared/adapters/sqs-job-queue.ts, as the wiring uses it. */
export interface JobQueueModule {
  sqsJobQueue(config: JobQueueConfig): JobQueue;
}

type Loader<Module> = () => Promise<Module>;
type NeedsOf<N extends FunctionName> = (typeof FUNCTION_NEEDS)[N];
/** `readsProcessorSecret`, for the compiler. */
type ReadsSecret<Needs extends FunctionNeeds> = Needs['processorCalls'] extends true
  ? true
  : Needs['verifiesWebhooks'] extends null
    ? false
    : true;
/** `publishesEvents`, which a function's needs may leave out (false). */
type PublishesEvents<Needs> = Needs extends { readonly publishesEvents: true } ? true : false;
/** An optional need (absent means false), for the compiler. */
type Has<Needs, Key extends string> = Needs extends { readonly [K in Key]: true } ? true : false;
/** A required entry when the function needs it, a forbidden one otherwise. */
type Slot<Needed extends boolean, Key extends string, Value> = Needed extends true
  ? { readonly [K in Key]: Value }
  : { readonly [K in Key]?: never };

/**
 * The adapter modules a function's declared needs call for, each as a loader (`() => import(…)`) written in
 * its `handler.ts`. esbuild bundles what an entry point reaches, so the entry is where an adapter is named;
 * this type holds the entry to `FUNCTION_NEEDS`: a missing loader or one the function does not need is a
 * compile error (and, should a cast get past that, an error at cold start). Loaded on first use, so none
 * of them costs cold-start time.
 */
export type AdapterLoaders<N extends FunctionName> = Slot<
  NeedsOf<N>['timers'],
  'timers',
  Loader<SchedulerAdapterModule>
> &
  Slot<ReadsSecret<NeedsOf<N>>, 'processorSecret', Loader<ProcessorSecretModule>> &
  Slot<NeedsOf<N>['processorCalls'], 'processors', Loader<ProcessorAdapterModule>> &
  Slot<NeedsOf<N>['verifiesWebhooks'] extends 'stripe' ? true : false, 'stripeWebhooks', Loader<StripeWebhookModule>> &
  Slot<NeedsOf<N>['verifiesWebhooks'] extends 'paypal' ? true : false, 'payPalWebhooks', Loader<PayPalWebhookModule>> &
  Slot<PublishesEvents<NeedsOf<N>>, 'eventBus', Loader<EventBusAdapterModule>> &
  Slot<Has<NeedsOf<N>, 'deliveryQueue'>, 'deliveryQueue', Loader<DeliveryQueueModule>> &
  Slot<Has<NeedsOf<N>, 'bulkJobs'>, 'jobQueue', Loader<JobQueueModule>> &
  Slot<Has<NeedsOf<N>, 'reconciliations'>, 'reconciliationQueue', Loader<JobQueueModule>>;

/**
 * What a function's app is built from: the use cases' dependencies (unless it only reads the table's stream),
 * plus what its needs add.
 */
export type Wired<N extends FunctionName> = (NeedsOf<N>['table'] extends 'stream'
  ? unknown
  : { readonly deps: Dependencies }) &
  (NeedsOf<N>['verifiesWebhooks'] extends null ? unknown : { readonly webhookTranslator: WebhookTranslator }) &
  (NeedsOf<N>['processorCalls'] extends true
    ? { readonly payPalRedirect: (subscriptionId: string) => string }
    : unknown) &
  (PublishesEvents<NeedsOf<N>> extends true ? { readonly eventBus: EventBus } : unknown) &
  (Has<NeedsOf<N>, 'webhooks'> extends true ? { readonly webhooks: WebhookStore } : unknown) &
  (Has<NeedsOf<N>, 'deliveryQueue'> extends true ? { readonly deliveryQueue: DeliveryQueue } : unknown) &
  (Has<NeedsOf<N>, 'bulkJobs'> extends true ? { readonly jobs: BulkJobStore; readonly jobQueue: JobQueue } : unknown) &
  (Has<NeedsOf<N>, 'reconciliations'> extends true
    ? { readonly reconciliations: ReconciliationStore; readonly reconciliationQueue: JobQueue }
    : unknown) &
  (Has<NeedsOf<N>, 'reconciliations'> extends true
    ? NeedsOf<N>['processorCalls'] extends true
      ? { readonly throttle: ProcessorThrottle }
      : unknown
    : unknown);

/** Every loader a function could be given; what `AdapterLoaders<N>` is, whatever N. */
interface AnyAdapterLoaders {
  readonly processorSecret?: Loader<ProcessorSecretModule>;
  readonly timers?: Loader<SchedulerAdapterModule>;
  readonly processors?: Loader<ProcessorAdapterModule>;
  readonly stripeWebhooks?: Loader<StripeWebhookModule>;
  readonly payPalWebhooks?: Loader<PayPalWebhookModule>;
  readonly eventBus?: Loader<EventBusAdapterModule>;
  readonly deliveryQueue?: Loader<DeliveryQueueModule>;
  readonly jobQueue?: Loader<JobQueueModule>;
  readonly reconciliationQueue?: Loader<JobQueueModule>;
}
interface AnyWired {
  readonly deps?: Dependencies;
  readonly eventBus?: EventBus;
  readonly webhookTranslator?: WebhookTranslator;
  readonly payPalRedirect?: (subscriptionId: string) => string;
  readonly webhooks?: WebhookStore;
  readonly deliveryQueue?: DeliveryQueue;
  readonly jobs?: BulkJobStore;
  readonly jobQueue?: JobQueue;
  readonly reconciliations?: ReconciliationStore;
  readonly reconciliationQueue?: JobQueue;
  readonly throttle?: ProcessorThrottle;
}

/**
 * A function's Lambda handler, wired with exactly what `FUNCTION_NEEDS[name]` declares: the store always;
 * the EventBridge Scheduler adapter when it arms timers (its settings read now, so a missing one stops the
 * cold start with its name; the module loaded by the first timer); the processor registry and its
 * credentials when it calls processors; its own processor's webhook translator when it verifies webhooks.
 *
 * A function that reads the processor secret is built on its first invocation, after the secret is read:
 * no Secrets Manager call at cold start, and `create` still receives every setting synchronously (a use case
 * reads `schedulesCancellation`, `me` sends to PayPal's site without waiting). The others are built now.
 */
export function productionHandler<N extends FunctionName, Args extends unknown[], Result>(
  name: N,
  loaders: AdapterLoaders<N>,
  create: (wired: Wired<N>) => (...args: Args) => Promise<Result>,
): (...args: Args) => Promise<Result> {
  const needs: FunctionNeeds = FUNCTION_NEEDS[name];
  // The compiler has matched `loaders` to the needs; from here on they are read as the union of all loaders.
  const given: AnyAdapterLoaders = loaders;
  assertLoadersMatch(name, needs, given);
  // What is built below is `Wired<N>`: `AnyWired` with exactly the parts N's needs add (the loaders match them).
  const build = create as (wired: AnyWired) => (...args: Args) => Promise<Result>;

  // A stream consumer has no store and no TABLE_NAME: the stack gives it none.
  const table = needs.table === 'stream' ? null : tableFromConfig();
  const stores = table ? createDynamoStores(table.client, table.tableName) : null;
  const scheduler = given.timers ? deferredTimers(loadSchedulerConfig(), given.timers) : noTimers;
  const eventBus = given.eventBus ? deferredEventBus(loadEventBusConfig(), given.eventBus) : null;
  // Integrator webhooks: the store on the same table and client; the SQS adapter loaded by the first send.
  const webhooks = needs.webhooks && table ? createDynamoWebhookStore(table.client, table.tableName) : null;
  const deliveryQueue = given.deliveryQueue ? deferredQueue(loadDeliveryQueueConfig(), given.deliveryQueue) : null;
  // Bulk jobs: the job store on the same table and client; the SQS adapter loaded by the first page queued.
  const jobs = needs.bulkJobs && table ? createDynamoBulkJobStore(table.client, table.tableName) : null;
  const jobQueue = given.jobQueue ? deferredJobQueue(loadJobQueueConfig(), given.jobQueue) : null;
  // Reconciliations: their store on the same table; their own page queue, through the same SQS adapter.
  const reconciliations =
    needs.reconciliations && table ? createDynamoReconciliationStore(table.client, table.tableName) : null;
  const reconciliationQueue = given.reconciliationQueue
    ? deferredJobQueue(loadJobQueueConfig('RECONCILIATION_QUEUE_URL'), given.reconciliationQueue)
    : null;
  const wired = (processors: ProcessorRegistry): AnyWired => ({
    ...(stores ? { deps: { ...stores, clock: systemClock, newId, scheduler, processors } } : {}),
    ...(eventBus ? { eventBus } : {}),
    ...(webhooks ? { webhooks } : {}),
    ...(deliveryQueue ? { deliveryQueue } : {}),
    ...(jobs ? { jobs } : {}),
    ...(jobQueue ? { jobQueue } : {}),
    ...(reconciliations ? { reconciliations } : {}),
    ...(reconciliationQueue ? { reconciliationQueue } : {}),
  });

  const { processorSecret } = given;
  if (!processorSecret) return build(wired(noProcessors()));

  const handler = lazy(async () => {
    const settings = await (await processorSecret()).loadProcessorSettings();
    const adapters = given.processors ? await given.processors() : null;
    const webhookTranslator = await translatorFor(given, settings);
    return build({
      ...wired(adapters ? adapters.processorRegistry(settings) : noProcessors()),
      // The reconciliation worker's reads, paced to the processors' published limits (test or live key).
      ...(needs.reconciliations ? { throttle: reconciliationThrottle(settings) } : {}),
      ...(adapters ? { payPalRedirect: adapters.payPalCancelRedirect(settings) } : {}),
      ...(webhookTranslator ? { webhookTranslator } : {}),
    });
  });
  return async (...args) => {
    let ready: (...args: Args) => Promise<Result>;
    try {
      ready = await handler();
    } catch (error) {
      log.error('the function could not be wired: processor settings or an adapter failed to load', {
        error: describeError(error),
      });
      throw error;
    }
    return ready(...args);
  };
}

/** Belt and braces for the compile-time check: a loader given or missing against the needs is a wiring bug. */
function assertLoadersMatch(name: string, needs: FunctionNeeds, loaders: AnyAdapterLoaders): void {
  const expected: Record<keyof AnyAdapterLoaders, boolean> = {
    processorSecret: readsProcessorSecret(needs),
    timers: needs.timers,
    processors: needs.processorCalls,
    stripeWebhooks: needs.verifiesWebhooks === 'stripe',
    payPalWebhooks: needs.verifiesWebhooks === 'paypal',
    eventBus: needs.publishesEvents === true,
    deliveryQueue: needs.deliveryQueue === true,
    jobQueue: needs.bulkJobs === true,
    reconciliationQueue: needs.reconciliations === true,
  };
  for (const [key, wanted] of Object.entries(expected)) {
    const present = loaders[key as keyof AnyAdapterLoaders] !== undefined;
    if (present !== wanted) {
      throw new Error(
        `function ${name}: ${wanted ? 'missing' : 'unexpected'} adapter loader "${key}" (FUNCTION_NEEDS)`,
      );
    }
  }
}

async function translatorFor(
  loaders: AnyAdapterLoaders,
  settings: ProcessorSettings,
): Promise<WebhookTranslator | undefined> {
  if (loaders.stripeWebhooks) {
    const webhookSecret = settings.stripeWebhookSecret ?? required('STRIPE_WEBHOOK_SECRET');
    return (await loaders.stripeWebhooks()).createStripeTranslator({ webhookSecret });
  }
  if (loaders.payPalWebhooks) {
    const webhookId = settings.paypalWebhookId ?? required('PAYPAL_WEBHOOK_ID');
    return (await loaders.payPalWebhooks()).createPayPalTranslator({
      webhookId,
      ...(settings.paypalWebhookCert ? { certificatePem: settings.paypalWebhookCert } : {}),
    });
  }
  return undefined;
}

/** The table from the environment (`TABLE_NAME`, and `DYNAMODB_ENDPOINT` locally) and one client for it. */
function tableFromConfig() {
  const config = loadConfig();
  return { client: createDocumentClient({ endpoint: config.dynamodbEndpoint }), tableName: config.tableName };
}

/** The EventBridge bus adapter, loaded (with the EventBridge client) by the first publish. */
function deferredEventBus(config: EventBridgeBusConfig, load: Loader<EventBusAdapterModule>): EventBus {
  const bus = lazy(async () => (await load()).eventBridgeBus(config));
  return { publish: async (events) => (await bus()).publish(events) };
}

/** The Scheduler adapter, loaded (with the Scheduler client) by the first timer armed or removed. */
function deferredTimers(config: EventBridgeSchedulerConfig, load: Loader<SchedulerAdapterModule>): TimerScheduler {
  const scheduler = lazy(async () => (await load()).eventBridgeTimers(config, systemClock));
  return {
    upsert: async (timer) => (await scheduler()).upsert(timer),
    remove: async (timer) => (await scheduler()).remove(timer),
  };
}

/** The SQS delivery queue adapter, loaded (with the SQS client) by the first message sent. */
function deferredQueue(config: DeliveryQueueConfig, load: Loader<DeliveryQueueModule>): DeliveryQueue {
  const queue = lazy(async () => (await load()).sqsDeliveryQueue(config, systemClock));
  return { send: async (message, delaySeconds) => (await queue()).send(message, delaySeconds) };
}

/** The SQS job queue adapter, loaded (with the SQS client) by the first page queued. */
function deferredJobQueue(config: JobQueueConfig, load: Loader<JobQueueModule>): JobQueue {
  const queue = lazy(async () => (await load()).sqsJobQueue(config));
  return { send: async (message) => (await queue()).send(message) };
}

/** Every processor refused (502 naming it), except `none`: for functions that never call a processor. */
export function noProcessors(): ProcessorRegistry {
  return {
    none: noProcessor,
    stripe: unconfiguredProcessor('stripe'),
    native: unconfiguredProcessor('native'),
    paypal: unconfiguredProcessor('paypal'),
  };
}

/** A scheduler for functions that never arm timers; using it is a wiring bug and says so. */
const noTimers: TimerScheduler = {
  upsert: async () => {
    throw new Error('this function is not wired with a scheduler');
  },
  remove: async () => {
    throw new Error('this function is not wired with a scheduler');
  },
};

/**
 * The pacing of one reconciliation worker: the deployment's read budget at each processor (Stripe's test or live
 * limit by its key, PayPal's chosen one) shared among the worker's concurrent pages.
 */
export function reconciliationThrottle(settings: ProcessorSettings): ProcessorThrottle {
  return createProcessorThrottle((processor) =>
    perWorkerRate(
      deploymentReadRate(
        processor,
        (processor === 'native' ? settings.native?.secretKey : settings.stripe?.secretKey) ?? null,
      ),
      RECONCILIATION_WORKER_MAX_CONCURRENCY,
    ),
  );
}
