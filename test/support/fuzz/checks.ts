import { isLocalOnly, responseProblems } from '../openapi-validation.ts';
import type { ConcreteRequest } from './resolve.ts';
import type { WriteRecord } from './writes.ts';

/** What came back for one request, with what the server logged and wrote meanwhile. */
export interface Outcome {
  index: number;
  lane: number;
  request: ConcreteRequest;
  /** 0 when no response arrived (connection reset, timeout). */
  status: number;
  contentType: string | null;
  text: string;
  networkError: string | null;
  ms: number;
  writes: WriteRecord[];
  serverErrors: ServerError[];
  /** What else was going on, when that explains the outcome (e.g. a huge upload just before a reset). */
  context: string | null;
}

export interface ServerError {
  at: number;
  routeKey: string | null;
  message: string;
  stack: string;
}

export type ProblemKind =
  | '5xx'
  | 'no-response'
  | 'error-shape'
  | 'tenancy'
  | 'rejected-wrote'
  | 'forged-key'
  | 'bad-instant'
  | 'duplicate-refund'
  | 'invalid-json'
  | 'undocumented';

export interface Problem {
  kind: ProblemKind;
  /** Groups problems of one cause: kind, route, status and the normalized cause. */
  signature: string;
  detail: string;
}

/** Ids, numbers and site names vary between occurrences of one cause; strip them to group. */
export function normalize(text: string): string {
  return text
    .replace(/fz-[a-z0-9]+-\d+/g, 'fz-*')
    .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, '<ulid>')
    .replace(/(evt|sub|in|ch|cs|re|cus)_fz[a-z0-9]+/gi, '$1_*')
    .replace(/\d+/g, 'N')
    .replace(/(.)\1{20,}/g, '$1…')
    .slice(0, 240);
}

function errorShapeProblem(outcome: Outcome): string | null {
  if (!/application\/json/i.test(outcome.contentType ?? '')) return `content-type ${outcome.contentType}`;
  let body: unknown;
  try {
    body = JSON.parse(outcome.text);
  } catch {
    return 'body is not JSON';
  }
  const error = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (typeof error !== 'object' || error === null) return 'no error object';
  if (typeof error.code !== 'string' || error.code === '') return 'error.code is not a non-empty string';
  if (typeof error.message !== 'string') return 'error.message is not a string';
  if (!Array.isArray(error.details)) return 'error.details is not an array';
  return null;
}

/** A `siteId` or `customerId` in an answer that belongs to someone other than the caller, described. */
function foreignData(body: unknown, site: string | null, customer: string | null): string | null {
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      stack.push(...value);
      continue;
    }
    const record = value as Record<string, unknown>;
    if (site !== null && typeof record.siteId === 'string' && record.siteId !== site) {
      return `an answer for ${site} holds data of site ${record.siteId}`;
    }
    if (customer !== null && typeof record.customerId === 'string' && record.customerId !== customer) {
      return `an answer for customer ${customer} holds data of customer ${record.customerId}`;
    }
    stack.push(...Object.values(record));
  }
  return null;
}

/** A purchase whose `refunds` list holds one processor refund twice (a replayed Idempotency-Key counted again). */
function refundedTwice(body: unknown): string | null {
  const refunds = (body as { refunds?: unknown } | null)?.refunds;
  if (!Array.isArray(refunds)) return null;
  const ids = refunds.map((r) => (r as { processorRefundId?: unknown }).processorRefundId).filter((id) => id != null);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  return repeated === undefined
    ? null
    : `processor refund ${String(repeated)} appears ${ids.filter((id) => id === repeated).length} times`;
}

/** Every check the acceptance names, on one outcome. */
export function problemsOf(outcome: Outcome): Problem[] {
  const { request, status } = outcome;
  const problems: Problem[] = [];
  const sig = (kind: ProblemKind, cause: string) => `${kind} | ${request.routeKey} | ${status} | ${cause}`;
  if (outcome.networkError !== null) {
    const size = request.body === undefined ? 0 : Buffer.byteLength(request.body);
    const cause = `${normalize(outcome.networkError)} (body ${size > 1_000_000 ? '>1MB' : size > 262_144 ? '>256KiB' : '≤256KiB'})`;
    problems.push({ kind: 'no-response', signature: sig('no-response', cause), detail: outcome.networkError });
    return problems;
  }
  if (status >= 500) {
    const logged = outcome.serverErrors[0];
    const cause = logged ? normalize(`${logged.message}`) : `no server log; ${normalize(outcome.text)}`;
    problems.push({ kind: '5xx', signature: sig('5xx', cause), detail: outcome.text.slice(0, 500) });
  }
  if (status >= 400 && status < 500) {
    const shape = errorShapeProblem(outcome);
    if (shape)
      problems.push({ kind: 'error-shape', signature: sig('error-shape', shape), detail: outcome.text.slice(0, 300) });
  }
  // The answer must be what openapi.json documents for the operation: status, content type and body.
  if (status > 0 && status < 500 && !isLocalOnly(request.path.split('?')[0]!)) {
    let body: unknown;
    try {
      body = outcome.text === '' ? undefined : JSON.parse(outcome.text);
    } catch {
      body = outcome.text;
    }
    const undocumented = responseProblems({
      method: request.method,
      path: request.path,
      status,
      contentType: outcome.contentType,
      body,
    });
    if (undocumented.length > 0) {
      problems.push({
        kind: 'undocumented',
        signature: sig('undocumented', normalize(undocumented[0]!.replace(/^\S+ \S+ → \d+: /, ''))),
        detail: undocumented.join('\n').slice(0, 1_000),
      });
    }
  }
  if (status >= 200 && status < 300) {
    if (request.mustNotSucceed !== null) {
      problems.push({
        kind: 'tenancy',
        signature: sig('tenancy', normalize(request.mustNotSucceed)),
        detail: request.mustNotSucceed,
      });
    }
    if (outcome.text !== '') {
      let body: unknown;
      try {
        body = JSON.parse(outcome.text);
      } catch {
        problems.push({ kind: 'invalid-json', signature: sig('invalid-json', ''), detail: outcome.text.slice(0, 300) });
      }
      const leak = foreignData(body, request.ownerSite, request.ownerCustomer);
      if (leak) problems.push({ kind: 'tenancy', signature: sig('tenancy', normalize(leak)), detail: leak });
      const twice = refundedTwice(body);
      if (twice) {
        problems.push({
          kind: 'duplicate-refund',
          signature: sig('duplicate-refund', 'one processor refund recorded twice'),
          detail: twice,
        });
      }
    }
  }
  if (status >= 400 && outcome.writes.length > 0) {
    const written = [...new Set(outcome.writes.map((w) => `${w.command} ${w.keys.map(normalize).join(', ')}`))];
    // Grouped by what kind of items were written, so that a replay writing a subset still counts as the same.
    const kinds = [
      ...new Set(outcome.writes.flatMap((w) => w.keys.flatMap((key) => key.match(/\b[A-Z]{4,}\b/g) ?? []))),
    ];
    problems.push({
      kind: 'rejected-wrote',
      signature: sig('rejected-wrote', `wrote ${kinds.sort().join(', ')}`),
      detail: written.join('\n'),
    });
  }
  const forged = [...new Set(outcome.writes.flatMap((w) => w.keys.filter((key) => !wellFormedKey(key))))];
  if (forged.length > 0) {
    problems.push({
      kind: 'forged-key',
      signature: sig('forged-key', 'an id the edge schemas would refuse became part of a key'),
      detail: forged.join('\n'),
    });
  }
  const instants = [...new Set(outcome.writes.flatMap((w) => w.badInstants))];
  if (instants.length > 0) {
    problems.push({
      kind: 'bad-instant',
      signature: sig('bad-instant', 'an instant outside the years 0000-9999 was stored'),
      detail: instants.join(', '),
    });
  }
  return problems;
}

/** An id as the edge schemas allow it (shared/http/schemas.ts `id`): no `#`, so it cannot forge a key. */
const ID = '[A-Za-z0-9._:-]{1,128}';
const KEY_LAYOUTS = [
  new RegExp(`^SITE#${ID} (SETTINGS|PRODUCT#${ID}|OFFER#${ID})$`),
  new RegExp(`^SITE#${ID}#CUSTOMER#${ID} (PROFILE|PURCHASE#${ID})$`),
  new RegExp(`^SITE#${ID}#PURCHASE#${ID} (PURCHASE|HISTORY#\\d{10}#\\d{3})$`),
  // A purchase's access-period entry (calendar and due index) beside it; its status's change rides on the purchase.
  new RegExp(`^SITE#${ID}#PURCHASE#${ID} UPCOMING#access_period_ends$`),
  // A caller's Idempotency-Key (1–255 visible ASCII, shared/http/schemas.ts), under a fixed scope in the
  // purchase's own partition (shared/store/keys.ts): a `#` in it cannot reach another item's key.
  new RegExp(`^SITE#${ID}#PURCHASE#${ID} IDEMPOTENCY#[a-z]+#[\\x21-\\x7e]{1,255}$`),
  /^PROCESSOR#(stripe|native|paypal)#(SUB|EVENT)#.+ (LINK|EVENT)$/s,
  /^LOCAL#SCHEDULER SCHEDULE#.+$/,
];

/**
 * Whether a written `pk sk` follows the key design (shared/store/keys.ts). A site, customer, product, offer or
 * purchase id carrying `#` (say `bad id#x` from a webhook's metadata) makes a key that parses as another item's.
 */
export function wellFormedKey(key: string): boolean {
  return KEY_LAYOUTS.some((layout) => layout.test(key));
}
