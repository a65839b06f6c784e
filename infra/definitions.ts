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

/** One definition per function named in `ROUTES`, derived so that a new route's function is picked up. */
export const API_FUNCTION_DEFINITIONS: readonly FunctionDefinition<ApiFunctionName>[] = API_FUNCTIONS.map((name) => ({
  name,
  entry: functionEntry(name),
  handler: 'handler',
  tableAccess: READ_ONLY_API_FUNCTIONS.has(name) ? 'read' : 'readWrite',
}));

/** Every function of the stack. Non-API functions (timer target, sweeper, stream publisher) go here too. */
export const FUNCTION_DEFINITIONS: readonly FunctionDefinition[] = [...API_FUNCTION_DEFINITIONS];
