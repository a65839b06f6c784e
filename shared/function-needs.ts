import type { ApiFunctionName } from './http/routes.ts';

/**
 * Every Lambda function of the stack: one per API function of `ROUTES`, the timer target, the sweeper, the
 * outbox publisher, and the integrator webhooks' fan-out and delivery functions.
 */
export type FunctionName =
  | ApiFunctionName
  | 'timer'
  | 'sweeper'
  | 'publisher'
  | 'webhook-fanout'
  | 'webhook-delivery'
  | 'bulk-worker'
  | 'reconciliation-worker';

/** What a function may do with the table; `bindTable` grants exactly this and nothing more. */
export type TableAccess = 'read' | 'readWrite';

/**
 * How a function touches the table: through the store (`TableAccess`), or only as the consumer of its stream
 * (`'stream'`, the outbox publisher: its event source mapping is granted the stream reads, and the function
 * gets neither `TABLE_NAME` nor any access to items).
 */
export type TableNeed = TableAccess | 'stream';
/**
 * What one function needs from the outside world. The stack grants and configures exactly this
 * (infra/stack.ts: table grant, Scheduler settings and permissions, the processor secret), and the
 * production wiring builds exactly these adapters (shared/wiring.ts, which the compiler holds each
 * `functions/<name>/handler.ts` to), so the two read the same declaration and cannot drift.
 */
export interface FunctionNeeds {
  readonly table: TableNeed;
  /** Arms, moves or removes timers (EventBridge Scheduler). */
  readonly timers: boolean;
  /** Calls Stripe or PayPal billing APIs (cancel, pause, refund): the processor registry and its credentials. */
  readonly processorCalls: boolean;
  /** Verifies this processor's webhooks: its translator and signing secret, and no other processor's code. */
  readonly verifiesWebhooks: 'stripe' | 'paypal' | null;
  /**
   * Puts events on the stack's event bus: the EventBridge bus adapter, `EVENT_BUS_NAME` and events:PutEvents on
   * that one bus. Absent means false.
   */
  readonly publishesEvents?: boolean;
  /**
   * Integrator webhooks: the webhook store (endpoints, delivery jobs and their log, on the table: no grant of
   * its own). Absent means false.
   */
  readonly webhooks?: boolean;
  /**
   * Sends delivery jobs to the webhook delivery queue: the SQS adapter, `DELIVERY_QUEUE_URL` and sqs:SendMessage
   * on that one queue. Absent means false.
   */
  readonly deliveryQueue?: boolean;
  /**
   * Bulk revocation jobs: the job store (on the table: no grant of its own) and the queue of job pages (the SQS
   * adapter, `JOB_QUEUE_URL` and sqs:SendMessage on that one queue). Absent means false.
   */
  readonly bulkJobs?: boolean;
  /**
   * Reconciliation jobs (DESIGN.md §2.1): the reconciliation store (on the table: no grant of its own) and the
   * queue of reconciliation pages (the same SQS adapter, `RECONCILIATION_QUEUE_URL`, sqs:SendMessage on that one
   * queue). Absent means false.
   */
  readonly reconciliations?: boolean;
}

/** The declaration, one entry per function. */
export const FUNCTION_NEEDS = {
  // The hot path: an access check is one read (DESIGN §4), so its role cannot write.
  access: { table: 'read', timers: false, processorCalls: false, verifiesWebhooks: null },
  catalog: { table: 'readWrite', timers: false, processorCalls: false, verifiesWebhooks: null },
  // A grant of an offer with `accessDays` arms the timer that ends the access period.
  purchases: { table: 'readWrite', timers: true, processorCalls: false, verifiesWebhooks: null },
  billing: { table: 'readWrite', timers: true, processorCalls: true, verifiesWebhooks: null },
  // Self-cancel is a cancellation at the period end, told to the processor like the admin's.
  me: { table: 'readWrite', timers: true, processorCalls: true, verifiesWebhooks: null },
  // Webhooks change state (and so timers) but never call a processor: it is the processor calling.
  'webhook-stripe': { table: 'readWrite', timers: true, processorCalls: false, verifiesWebhooks: 'stripe' },
  'webhook-paypal': { table: 'readWrite', timers: true, processorCalls: false, verifiesWebhooks: 'paypal' },
  // A cancellation or pause that takes effect is told to a processor that cannot schedule it (PayPal).
  timer: { table: 'readWrite', timers: true, processorCalls: true, verifiesWebhooks: null },
  // Applies the same due actions as the timer function.
  sweeper: { table: 'readWrite', timers: true, processorCalls: true, verifiesWebhooks: null },
  // The outbox: reads the table's stream (history inserts), puts the events on the bus; nothing else.
  publisher: { table: 'stream', timers: false, processorCalls: false, verifiesWebhooks: null, publishesEvents: true },
  // Integrator webhooks (DESIGN.md §5): the endpoints API; the fan-out (bus rule → queue → one job per
  // endpoint, queued); the delivery (one attempt per message, the retry queued with its delay).
  'webhook-endpoints': {
    table: 'readWrite',
    timers: false,
    processorCalls: false,
    verifiesWebhooks: null,
    webhooks: true,
  },
  'webhook-fanout': {
    table: 'readWrite',
    timers: false,
    processorCalls: false,
    verifiesWebhooks: null,
    webhooks: true,
    deliveryQueue: true,
  },
  'webhook-delivery': {
    table: 'readWrite',
    timers: false,
    processorCalls: false,
    verifiesWebhooks: null,
    webhooks: true,
    deliveryQueue: true,
    // A job that gave up disables its endpoint and publishes `webhook_endpoint.disabled`.
    publishesEvents: true,
  },
  // Bulk revocation jobs (rule 13): the API writes the job and queues its first page; the worker runs one page
  // per message through the revoke use case (which retires or re-arms access-period timers) and queues the next.
  'bulk-revocations': {
    table: 'readWrite',
    timers: false,
    processorCalls: false,
    verifiesWebhooks: null,
    bulkJobs: true,
  },
  'bulk-worker': { table: 'readWrite', timers: true, processorCalls: false, verifiesWebhooks: null, bulkJobs: true },
  // Drift reconciliation (§2.1): the API checks the site's connected account, writes the job, queues its first
  // page; the worker reads each linked subscription at its processor (processorCalls: reads only) and applies a
  // repair through the webhook's rules (which move timers).
  reconciliations: {
    table: 'readWrite',
    timers: false,
    processorCalls: false,
    verifiesWebhooks: null,
    reconciliations: true,
  },
  'reconciliation-worker': {
    table: 'readWrite',
    timers: true,
    processorCalls: true,
    verifiesWebhooks: null,
    reconciliations: true,
  },
} as const satisfies Record<FunctionName, FunctionNeeds>;

/** Processor credentials and webhook secrets live in one secret: a function reads it for either need. */
export function readsProcessorSecret(needs: FunctionNeeds): boolean {
  return needs.processorCalls || needs.verifiesWebhooks !== null;
}
