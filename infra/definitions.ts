import { fileURLToPath } from 'node:url';
import {
  FUNCTION_NEEDS,
  type FunctionName,
  type FunctionNeeds,
  readsProcessorSecret,
  type TableAccess,
  type TableNeed,
} from '../shared/function-needs.ts';
import { API_FUNCTIONS, type ApiFunctionName } from '../shared/http/routes.ts';

export type { TableAccess, TableNeed };

/**
 * One Lambda function of the stack: where its code is and what it may touch. The stack creates one
 * function per definition, so adding a function (the timer, the sweeper) is adding an entry here and its
 * needs in `FUNCTION_NEEDS`.
 */
export interface FunctionDefinition<Name extends FunctionName = FunctionName> {
  /** Folder under `functions/`, also the construct id's stem and the functions' Powertools service name. */
  readonly name: Name;
  /** Absolute path of the TypeScript entry file. */
  readonly entry: string;
  /** Exported name of the handler in `entry`; an infra test checks the bundle exports it. */
  readonly handler: 'handler';
  /**
   * `FUNCTION_NEEDS[name]`, the declaration the production wiring reads too: the stack binds exactly this
   * (the fields below are views of it, for the stack and its tests).
   */
  readonly needs: FunctionNeeds;
  /** `needs.table`: `bindTable` grants exactly this (`'stream'`: no table binding; the event source reads the stream). */
  readonly tableAccess: TableNeed;
  /** `needs.timers`: the stack calls `bindTimers` (Scheduler settings and permissions). */
  readonly timers: boolean;
  /**
   * Reads the processor secret (`readsProcessorSecret(needs)`: it calls processors or verifies their
   * webhooks): the stack calls `bindProcessorSecret` (`PROCESSOR_SECRET_ARN`, GetSecretValue on that secret).
   */
  readonly processors: boolean;
  /** @default 10 */
  readonly timeoutSeconds?: number;
}

/** The repository root: esbuild runs there and resolves `#shared/*` through its package.json. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `functions/<name>/handler.ts`, resolved from this file so the cwd of `cdk` or jest does not matter. */
export function functionEntry(name: string): string {
  return fileURLToPath(new URL(`../functions/${name}/handler.ts`, import.meta.url));
}

function definition<Name extends FunctionName>(name: Name): FunctionDefinition<Name> {
  const needs: FunctionNeeds = FUNCTION_NEEDS[name];
  return {
    name,
    entry: functionEntry(name),
    handler: 'handler',
    needs,
    tableAccess: needs.table,
    timers: needs.timers,
    processors: readsProcessorSecret(needs),
  };
}

/** One definition per function named in `ROUTES`, derived so that a new route's function is picked up. */
export const API_FUNCTION_DEFINITIONS: readonly FunctionDefinition<ApiFunctionName>[] = API_FUNCTIONS.map((name) =>
  definition(name),
);

/**
 * Target of the one-time schedules: applies what is due on one purchase, then re-arms or removes its timers.
 * Invoked by EventBridge Scheduler with a `TimerEvent` as the event.
 */
export const TIMER_FUNCTION: FunctionDefinition<'timer'> = definition('timer');

/**
 * The safety net for lost or failed timers: every five minutes, applies whatever is overdue. It walks every
 * due purchase in one invocation, so it gets more than the API's ten seconds (and less than the interval).
 */
export const SWEEPER_FUNCTION: FunctionDefinition<'sweeper'> = { ...definition('sweeper'), timeoutSeconds: 120 };

/**
 * The outbox publisher (DESIGN.md §5): invoked by the table's stream with history inserts only, puts their
 * events on the bus. Its timeout leaves room for the adapter's retries of failed entries (with backoff)
 * within one invocation.
 */
export const PUBLISHER_FUNCTION: FunctionDefinition<'publisher'> = { ...definition('publisher'), timeoutSeconds: 30 };

/**
 * Integrator webhooks' fan-out: SQS (fed by the bus rule) → one delivery job per matching endpoint. A batch
 * of ten events is ten endpoint reads and a few writes each: well inside 30 s.
 */
export const WEBHOOK_FANOUT_FUNCTION: FunctionDefinition<'webhook-fanout'> = {
  ...definition('webhook-fanout'),
  timeoutSeconds: 30,
};

/**
 * Integrator webhooks' delivery: one attempt per SQS message. The request may take `DELIVERY_TIMEOUT_MS`
 * (10 s); DNS and the writes around it fit in the rest. The job's lease (timeout + 50 s) outlasts the
 * function, so a worker that times out never has its attempt recorded by a second one meanwhile.
 */
export const WEBHOOK_DELIVERY_FUNCTION: FunctionDefinition<'webhook-delivery'> = {
  ...definition('webhook-delivery'),
  timeoutSeconds: 30,
};

/**
 * Bulk job worker: one page (100 purchases, each one transaction, 8 at a time) per SQS message. A page takes a
 * second or two on DynamoDB; 60 s leaves room for retries of conflicting writes and a slow scheduler call.
 */
export const BULK_WORKER_FUNCTION: FunctionDefinition<'bulk-worker'> = {
  ...definition('bulk-worker'),
  timeoutSeconds: 60,
};

/**
 * Reconciliation worker: one page (up to 100 processor reads) per SQS message. Paced to its share of the
 * processor's limit (Stripe test mode: 25/s ÷ 2 workers ≈ 12/s, so ~8 s a page; PayPal 10/s ÷ 2 = 5/s, ~20 s),
 * plus 429 backoffs of up to 30 s: 120 s is room for both.
 */
export const RECONCILIATION_WORKER_FUNCTION: FunctionDefinition<'reconciliation-worker'> = {
  ...definition('reconciliation-worker'),
  timeoutSeconds: 120,
};

/**
 * Every function of the stack: one per API function, then the timer target, the sweeper, the publisher, the
 * webhook workers, the bulk job worker and the reconciliation worker.
 */
export const FUNCTION_DEFINITIONS: readonly FunctionDefinition[] = [
  ...API_FUNCTION_DEFINITIONS,
  TIMER_FUNCTION,
  SWEEPER_FUNCTION,
  PUBLISHER_FUNCTION,
  WEBHOOK_FANOUT_FUNCTION,
  WEBHOOK_DELIVERY_FUNCTION,
  BULK_WORKER_FUNCTION,
  RECONCILIATION_WORKER_FUNCTION,
];
