import { fileURLToPath } from 'node:url';
import { API_FUNCTIONS, type ApiFunctionName } from '../shared/http/routes.ts';

/** What a function may do with the table; `bindTable` grants exactly this and nothing more. */
export type TableAccess = 'read' | 'readWrite';

/**
 * One Lambda function of the stack: where its code is and what it may touch. The stack creates one
 * function per definition, so adding a function (the timer, the sweeper) is adding an entry here.
 */
export interface FunctionDefinition<Name extends string = string> {
  /** Folder under `functions/`, also the construct id's stem. */
  readonly name: Name;
  /** Absolute path of the TypeScript entry file. */
  readonly entry: string;
  /** Exported name of the handler in `entry`; an infra test checks the bundle exports it. */
  readonly handler: 'handler';
  readonly tableAccess: TableAccess;
  /**
   * Arms, moves or removes timers (its handler passes `timers: eventBridgeTimers` to `productionDependencies`):
   * the stack calls `bindTimers`, which sets the Scheduler variables that wiring requires and grants exactly that.
   */
  readonly timers: boolean;
  /**
   * Talks to the payment processors or verifies their webhooks (its handler calls `loadProcessorSettings()`):
   * the stack calls `bindProcessorSecret`, which sets `PROCESSOR_SECRET_ARN` and grants reading that one secret.
   * An infra test reads the handlers to keep the two in step.
   */
  readonly processors: boolean;
  /** @default 10 */
  readonly timeoutSeconds?: number;
}

/** The repository root: esbuild runs there and resolves `#shared/*` through its package.json. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The lock file NodejsFunction hashes; given explicitly so synthesis does not depend on the cwd. */
export const DEPS_LOCK_FILE = fileURLToPath(new URL('../package-lock.json', import.meta.url));

/** `functions/<name>/handler.ts`, resolved from this file so the cwd of `cdk` or jest does not matter. */
export function functionEntry(name: string): string {
  return fileURLToPath(new URL(`../functions/${name}/handler.ts`, import.meta.url));
}

/**
 * API functions that only read. The access check is the hot path and must never write (DESIGN §4: one
 * read per check), so its role cannot. Every other API function changes state and gets readWrite.
 */
const READ_ONLY_API_FUNCTIONS: ReadonlySet<ApiFunctionName> = new Set<ApiFunctionName>(['access']);

/**
 * API functions whose use cases arm or move timers (purchase, cancellation, pause). Must match the handlers'
 * `productionDependencies({ timers: … })`; an infra test reads the handlers to keep the two in step.
 */
const TIMER_API_FUNCTIONS: ReadonlySet<ApiFunctionName> = new Set<ApiFunctionName>([
  'purchases',
  'billing',
  'me',
  'webhook-stripe',
  'webhook-paypal',
]);

/**
 * API functions that read the processor settings at cold start (`loadProcessorSettings()`): Stripe and PayPal
 * calls (refunds, cancellations) and webhook verification. Must match the handlers; an infra test checks.
 */
const PROCESSOR_API_FUNCTIONS: ReadonlySet<ApiFunctionName> = new Set<ApiFunctionName>([
  'billing',
  'me',
  'webhook-stripe',
  'webhook-paypal',
]);

/** One definition per function named in `ROUTES`, derived so that a new route's function is picked up. */
export const API_FUNCTION_DEFINITIONS: readonly FunctionDefinition<ApiFunctionName>[] = API_FUNCTIONS.map((name) => ({
  name,
  entry: functionEntry(name),
  handler: 'handler',
  tableAccess: READ_ONLY_API_FUNCTIONS.has(name) ? 'read' : 'readWrite',
  timers: TIMER_API_FUNCTIONS.has(name),
  processors: PROCESSOR_API_FUNCTIONS.has(name),
}));

/**
 * Target of the one-time schedules: applies what is due on one purchase, then re-arms or removes its timers.
 * Invoked by EventBridge Scheduler with a `TimerEvent` as the event.
 */
export const TIMER_FUNCTION = {
  name: 'timer',
  entry: functionEntry('timer'),
  handler: 'handler',
  tableAccess: 'readWrite',
  timers: true,
  // A cancellation or pause that takes effect is told to a processor that cannot schedule it (PayPal).
  processors: true,
} as const satisfies FunctionDefinition<'timer'>;

/**
 * The safety net for lost or failed timers: every five minutes, applies whatever is overdue. It walks every
 * due purchase in one invocation, so it gets more than the API's ten seconds (and less than the interval).
 */
export const SWEEPER_FUNCTION = {
  name: 'sweeper',
  entry: functionEntry('sweeper'),
  handler: 'handler',
  tableAccess: 'readWrite',
  timers: true,
  // Applies the same due actions as the timer function, so it may call the processor too.
  processors: true,
  timeoutSeconds: 120,
} as const satisfies FunctionDefinition<'sweeper'>;

/** Every function of the stack: one per API function, then the timer target and the sweeper. */
export const FUNCTION_DEFINITIONS: readonly FunctionDefinition[] = [
  ...API_FUNCTION_DEFINITIONS,
  TIMER_FUNCTION,
  SWEEPER_FUNCTION,
];
