import type { ApiFunctionName } from './http/routes.ts';

/** Every Lambda function of the stack: one per API function of `ROUTES`, the timer target and the sweeper. */
export type FunctionName = ApiFunctionName | 'timer' | 'sweeper';

/** What a function may do with the table; `bindTable` grants exactly this and nothing more. */
export type TableAccess = 'read' | 'readWrite';

/**
 * What one function needs from the outside world. The stack grants and configures exactly this
 * (infra/stack.ts: table grant, Scheduler settings and permissions, the processor secret), and the
 * production wiring builds exactly these adapters (shared/wiring.ts, which the compiler holds each
 * `functions/<name>/handler.ts` to), so the two read the same declaration and cannot drift.
 */
export interface FunctionNeeds {
  readonly table: TableAccess;
  /** Arms, moves or removes timers (EventBridge Scheduler). */
  readonly timers: boolean;
  /** Calls Stripe or PayPal billing APIs (cancel, pause, refund): the processor registry and its credentials. */
  readonly processorCalls: boolean;
  /** Verifies this processor's webhooks: its translator and signing secret, and no other processor's code. */
  readonly verifiesWebhooks: 'stripe' | 'paypal' | null;
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
} as const satisfies Record<FunctionName, FunctionNeeds>;

/** Processor credentials and webhook secrets live in one secret: a function reads it for either need. */
export function readsProcessorSecret(needs: FunctionNeeds): boolean {
  return needs.processorCalls || needs.verifiesWebhooks !== null;
}
