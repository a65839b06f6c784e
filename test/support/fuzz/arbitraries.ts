import fc from 'fast-check';
import { ROUTES } from '../../../shared/http/routes.ts';

/**
 * The abstract fuzz request: what to send, described against a world that does not exist yet ("the
 * lane's third purchase", "a cursor of another filter", "a junk path segment"). `resolve.ts` turns it into
 * a concrete HTTP request once the lane's data is known. Keeping the arbitrary free of `chain` and of any
 * run-time data makes it deterministic for a seed and lets fast-check shrink every part independently.
 */

/** Values that have broken parsers, validators, key builders and date arithmetic before. */
export const JUNK_CONSTANTS: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  -0.5,
  1.5,
  1e17,
  -1e17,
  1e308,
  -1e308,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  8.64e15,
  8.64e15 + 1,
  '',
  ' ',
  '0',
  '1e17',
  '-1',
  'null',
  'true',
  'NaN',
  'Infinity',
  'bad id#x',
  'SITE#x#PURCHASE#y',
  '%00',
  '\u0000',
  '\u202e',
  '😀',
  '../..',
  '__proto__',
  'constructor',
  'usd',
  'USD',
  'XXXXXX',
  'month',
  'active',
  'canceled',
  'now',
  '2026-13-45T99:99:99Z',
  '+275760-09-13T00:00:00.001Z',
  '+200000-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '1970-01-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  'tomorrow',
  [],
  {},
  [null],
  { '': null },
];

const LONG_STRINGS = ['x'.repeat(3_000), 'é'.repeat(3_000), '😀'.repeat(1_000), `sub_${'9'.repeat(2_996)}`];

/** Nested arrays or objects this deep; a recursive walk on them is a stack overflow waiting to happen. */
export interface Nested {
  nested: 'array' | 'object';
  depth: number;
}

export const isNested = (value: unknown): value is Nested =>
  typeof value === 'object' &&
  value !== null &&
  'nested' in value &&
  (value.nested === 'array' || value.nested === 'object') &&
  'depth' in value &&
  Number.isInteger(value.depth) &&
  (value.depth as number) > 0 &&
  (value.depth as number) <= 10_000;

/**
 * JSON text for a value that may hold `Nested` markers. Built by hand: JSON.stringify itself overflows the
 * stack on a few thousand levels, while JSON.parse on the server side does not.
 */
export function toJson(value: unknown): string {
  if (isNested(value)) {
    return value.nested === 'array'
      ? `${'['.repeat(value.depth)}1${']'.repeat(value.depth)}`
      : `${'{"a":'.repeat(value.depth)}1${'}'.repeat(value.depth)}`;
  }
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : toJson(item))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const fields = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => `${JSON.stringify(key)}:${toJson(item)}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A junk JSON value. `Nested` markers become deep JSON text in `toJson` (so shrinking stays cheap). */
export const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...JUNK_CONSTANTS) },
  { weight: 2, arbitrary: fc.constantFrom(...LONG_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true }) },
  {
    weight: 1,
    arbitrary: fc.record({
      nested: fc.constantFrom<Nested['nested']>('array', 'object'),
      depth: fc.constantFrom(2, 50, 1_000, 5_000),
    }),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** A change at a position of a JSON tree; `at` picks the node (modulo the number of candidates). */
export interface Mutation {
  op: 'replace' | 'delete' | 'add' | 'wrap';
  at: number;
  key: string;
  value: unknown;
}

const FIELD_NAMES = [
  'id',
  'name',
  'productIds',
  'price',
  'amount',
  'when',
  'date',
  'resumesAt',
  'siteId',
  'customerId',
  'offerId',
  'processor',
  'status',
  '__proto__',
  'constructor',
  'extra',
  '',
];

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom<Mutation['op']>('replace', 'replace', 'replace', 'delete', 'add', 'wrap'),
  at: fc.nat(),
  key: fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 12 })),
  value: junkValue,
});

export interface SegmentSpec {
  /** known: from the lane's data; foreign: from another lane's site; junk: `junk`. */
  source: 'known' | 'foreign' | 'junk';
  pick: number;
  junk: string;
  /** raw segments go into the URL as they are (`%`, `#`, `?` included), encoded ones via encodeURIComponent. */
  encoding: 'encoded' | 'raw';
}

const junkSegment = fc.oneof(
  fc.constantFrom(
    '',
    'a'.repeat(129),
    'a'.repeat(3_000),
    '#',
    'a#b',
    'bad id#x',
    '%00',
    '%',
    '%E0%A4%A',
    '%2F',
    '\u0000',
    '..',
    '.',
    ' ',
    'ü',
    '😀',
    '\u202e',
    'SITE#x#PURCHASE#y',
    'null',
    '__proto__',
    'constructor',
    'a/b',
    '?x=1',
    'pur_01JZZZZZZZZZZZZZZZZZZZZZZZ',
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
);

const segment: fc.Arbitrary<SegmentSpec> = fc.record({
  source: fc.constantFrom<SegmentSpec['source']>(
    'known',
    'known',
    'known',
    'known',
    'known',
    'foreign',
    'junk',
    'junk',
  ),
  pick: fc.nat(),
  junk: junkSegment,
  encoding: fc.constantFrom<SegmentSpec['encoding']>('encoded', 'encoded', 'encoded', 'raw'),
});

export type StaffRole = 'admin' | 'support' | 'automation';
export interface AuthSpec {
  kind: 'token' | 'none' | 'malformed' | 'expired' | 'foreign-issuer' | 'admin-without-email';
  /** The role on staff routes; /me routes use a customer token. */
  staffRole: StaffRole;
  /** A customer token on a staff route, a staff token on a /me route. */
  wrongRole: boolean;
  /** Whose site the token is for: the site in the path, the lane's, another lane's, or a site with no data. */
  site: 'path' | 'lane' | 'other' | 'unknown';
  customer: 'with-purchases' | 'without-purchases' | 'unknown' | 'other-site';
  malformed: string;
}

const auth: fc.Arbitrary<AuthSpec> = fc.record({
  kind: fc.oneof(
    { weight: 30, arbitrary: fc.constant<AuthSpec['kind']>('token') },
    {
      weight: 5,
      arbitrary: fc.constantFrom<AuthSpec['kind']>(
        'none',
        'malformed',
        'expired',
        'foreign-issuer',
        'admin-without-email',
      ),
    },
  ),
  staffRole: fc.constantFrom<StaffRole>('admin', 'admin', 'support', 'automation'),
  wrongRole: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  site: fc.oneof(
    { weight: 14, arbitrary: fc.constant<AuthSpec['site']>('path') },
    { weight: 3, arbitrary: fc.constantFrom<AuthSpec['site']>('lane', 'other', 'unknown') },
  ),
  customer: fc.constantFrom<AuthSpec['customer']>(
    'with-purchases',
    'with-purchases',
    'with-purchases',
    'without-purchases',
    'unknown',
    'other-site',
  ),
  malformed: fc.constantFrom(
    'Bearer',
    'Bearer ',
    'bearer not-a-jwt',
    'Basic dXNlcjpwYXNz',
    'Bearer a.b.c',
    `Bearer ${'a'.repeat(3_000)}`,
    // alg "none" with admin claims: must never be accepted
    'Bearer eyJhbGciOiJub25lIn0.eyJjdXN0b206cm9sZSI6ImFkbWluIiwiY3VzdG9tOnNpdGVJZCI6InNpdGUtMSJ9.',
  ),
});

export interface CursorSpec {
  kind: 'absent' | 'real' | 'tampered' | 'junk';
  pick: number;
  tamper: 'extra-attribute' | 'missing-attribute' | 'number-value' | 'other-site' | 'not-object' | 'truncated';
  junk: string;
}

export interface QuerySpec {
  status: { kind: 'absent' | 'valid' | 'junk'; pick: number; junk: string };
  offerId: { kind: 'absent' | 'known' | 'junk'; pick: number; junk: string };
  limit: { kind: 'absent' | 'valid' | 'junk'; value: number; junk: string };
  cursor: CursorSpec;
  extra: Array<[string, string]>;
}

const queryJunk = fc.oneof(
  fc.constantFrom('', ' ', '0', '-1', '101', '1e2', '1.5', '0x10', 'Infinity', 'NaN', 'abc', '%00', '#', 'null', '1,2'),
  fc.constantFrom('x'.repeat(3_000), '😀'.repeat(300)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** Mostly absent or valid, so that the list's own logic (filters, pages) is reached, not only its validation. */
const query: fc.Arbitrary<QuerySpec> = fc.record({
  status: fc.record({
    kind: fc.constantFrom<QuerySpec['status']['kind']>('absent', 'absent', 'absent', 'valid', 'valid', 'junk'),
    pick: fc.nat(),
    junk: queryJunk,
  }),
  offerId: fc.record({
    kind: fc.constantFrom<QuerySpec['offerId']['kind']>('absent', 'absent', 'absent', 'known', 'known', 'junk'),
    pick: fc.nat(),
    junk: queryJunk,
  }),
  limit: fc.record({
    kind: fc.constantFrom<QuerySpec['limit']['kind']>('absent', 'valid', 'valid', 'valid', 'junk'),
    value: fc.integer({ min: 1, max: 100 }),
    junk: queryJunk,
  }),
  cursor: fc.record({
    kind: fc.constantFrom<CursorSpec['kind']>(
      'absent',
      'absent',
      'real',
      'real',
      'real',
      'tampered',
      'tampered',
      'junk',
    ),
    pick: fc.nat(),
    tamper: fc.constantFrom<CursorSpec['tamper']>(
      'extra-attribute',
      'missing-attribute',
      'number-value',
      'other-site',
      'not-object',
      'truncated',
    ),
    junk: fc.oneof(queryJunk, fc.base64String({ maxLength: 40 }), fc.constant('A'.repeat(2_049))),
  }),
  extra: fc.oneof(
    { weight: 6, arbitrary: fc.constant<Array<[string, string]>>([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom('limit', 'cursor', 'status', 'x', '', '__proto__'), fc.string()), queryJunk),
        { minLength: 1, maxLength: 2 },
      ),
    },
  ),
});

/** Random choices from which a valid-looking body of any route is built. */
export interface TemplateSpec {
  name: string;
  pickA: number;
  pickB: number;
  productCount: number;
  priceType: 'free' | 'one_time' | 'payment_plan' | 'subscription';
  amount: number;
  currency: string;
  installments: number;
  interval: 'day' | 'week' | 'month' | 'year';
  intervalCount: number;
  accessDays: number | null;
  processor: 'none' | 'native' | 'stripe' | 'paypal';
  freshSubscription: boolean;
  when: 'now' | 'period_end' | 'date';
  /** Days (or a fraction of one) from now for dates in bodies (cancellation date, resumesAt, currentPeriodEnd). */
  dayOffset: number;
  refundAmount: number | null;
  revokeAccess: boolean;
  selfCancelEnabled: boolean;
  timezone: string;
  omitOptional: boolean;
}

const template: fc.Arbitrary<TemplateSpec> = fc.record({
  name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  pickA: fc.nat(),
  pickB: fc.nat(),
  productCount: fc.integer({ min: 1, max: 3 }),
  priceType: fc.constantFrom<TemplateSpec['priceType']>('free', 'one_time', 'payment_plan', 'subscription'),
  amount: fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(1, 99, 2900, 2 ** 31, 1e15)),
  currency: fc.constantFrom('usd', 'eur', 'jpy', 'USD', 'huf'),
  installments: fc.integer({ min: 2, max: 120 }),
  interval: fc.constantFrom<TemplateSpec['interval']>('day', 'week', 'month', 'year'),
  intervalCount: fc.integer({ min: 1, max: 365 }),
  accessDays: fc.option(fc.integer({ min: 1, max: 36_500 })),
  processor: fc.constantFrom<TemplateSpec['processor']>('none', 'none', 'native', 'stripe', 'paypal'),
  freshSubscription: fc.boolean(),
  when: fc.constantFrom<TemplateSpec['when']>('now', 'period_end', 'period_end', 'date', 'date'),
  // Mostly days away; sometimes seconds away, so that timers fire during the run on fuzzed states.
  dayOffset: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -400, max: 3_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, 1, 31, 365, 2_900_000) },
    { weight: 1, arbitrary: fc.constantFrom(3 / 86_400, 10 / 86_400, 45 / 86_400) },
  ),
  refundAmount: fc.option(fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(1, 2000, 2001, 1e12))),
  revokeAccess: fc.boolean(),
  selfCancelEnabled: fc.boolean(),
  timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Mars/Olympus'),
  omitOptional: fc.boolean(),
});

export interface BodySpec {
  /** `null` is the literal JSON body `null`, which a handler reading `body.field` trips on. */
  kind: 'template' | 'json' | 'raw' | 'null' | 'none' | 'huge';
  template: TemplateSpec;
  mutations: Mutation[];
  json: unknown;
  raw: string;
  hugeBytes: number;
}

const RAW_BODIES = [
  'null',
  '[]',
  '"text"',
  '42',
  'true',
  '{',
  '{}x',
  '{"a":1,"a":2}',
  '{"amount":1e400}',
  '{"__proto__":{"admin":true}}',
  '\uFEFF{}',
  '\u0000',
  ' ',
  'not json',
  'name=x&email=y',
  '{"name":"\\ud800"}',
  `{"name":"${'\\u0000'.repeat(100)}"}`,
];

const body: fc.Arbitrary<BodySpec> = fc.record({
  kind: fc.oneof(
    { weight: 30, arbitrary: fc.constant<BodySpec['kind']>('template') },
    { weight: 3, arbitrary: fc.constant<BodySpec['kind']>('json') },
    { weight: 3, arbitrary: fc.constant<BodySpec['kind']>('raw') },
    { weight: 2, arbitrary: fc.constant<BodySpec['kind']>('null') },
    { weight: 2, arbitrary: fc.constant<BodySpec['kind']>('none') },
    { weight: 1, arbitrary: fc.constant<BodySpec['kind']>('huge') },
  ),
  template,
  mutations: fc.oneof(
    { weight: 3, arbitrary: fc.constant<Mutation[]>([]) },
    { weight: 2, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
  ),
  json: fc.oneof(junkValue, fc.jsonValue({ maxDepth: 3 })),
  raw: fc.constantFrom(...RAW_BODIES),
  // Just over the 256 KiB limit, well over it, and over the local gateway's 1 MiB read cap.
  hugeBytes: fc.constantFrom(256 * 1024 + 1, 256 * 1024 + 1, 700_000, 2 * 1024 * 1024 + 1),
});

export interface HeaderSpec {
  contentType: string | null;
  idempotencyKey: string | null;
}

const headers: fc.Arbitrary<HeaderSpec> = fc.record({
  contentType: fc.oneof(
    { weight: 40, arbitrary: fc.constant<string | null>('application/json') },
    {
      weight: 10,
      arbitrary: fc.constantFrom<string | null>(
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/vnd.api+json',
        'application/problem+json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'application/jsonx',
        null,
      ),
    },
  ),
  // Shared keys on purpose: the same Idempotency-Key on another purchase, or with another amount.
  idempotencyKey: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: fc.constantFrom('fuzz-shared-key', 'fuzz-key-2') },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'x'.repeat(3_000), 'ÿ'.repeat(40)) },
    { weight: 2, arbitrary: fc.uuid() },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: 'binary-ascii', minLength: 1, maxLength: 30 })
        .filter((s) => /^[\x20-\x7e]+$/.test(s)),
    },
  ),
});

export const STRIPE_EVENT_TYPES = [
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'checkout.session.completed',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'charge.refunded',
  'customer.created',
] as const;

export const PAYPAL_EVENT_TYPES = [
  'BILLING.SUBSCRIPTION.ACTIVATED',
  'BILLING.SUBSCRIPTION.RE-ACTIVATED',
  'BILLING.SUBSCRIPTION.UPDATED',
  'BILLING.SUBSCRIPTION.SUSPENDED',
  'BILLING.SUBSCRIPTION.CANCELLED',
  'BILLING.SUBSCRIPTION.EXPIRED',
  'BILLING.SUBSCRIPTION.PAYMENT.FAILED',
  'PAYMENT.SALE.COMPLETED',
  'PAYMENT.SALE.REFUNDED',
  'CUSTOMER.DISPUTE.CREATED',
] as const;

export interface WebhookSpec {
  type: number;
  subscription: 'linked' | 'fresh' | 'other-lane';
  pick: number;
  /** `bad-ids`: ids an edge schema would refuse (`bad id#x`, 3 000 characters) in the site's own metadata. */
  metadata: 'own' | 'other-site' | 'unknown-offer' | 'bad-ids' | 'missing';
  status: string;
  /** Seconds added to the event's times (before junk replaces any of them). */
  shift: number;
  /** The cancellation / pause end / period end falls a few seconds from now, so its timer fires during the run. */
  soon: boolean;
  /** One of the event's time fields (picked by `timeField`) gets this value; undefined: none is touched. */
  timeField: number;
  timeJunk: unknown;
  mutations: Mutation[];
  signature: 'valid' | 'wrong-secret' | 'stale' | 'tampered' | 'missing' | 'garbage';
}

/**
 * Times a processor should never send, for Stripe's Unix seconds and PayPal's ISO strings alike: beyond what a
 * Date holds, before 1970, past the year 9999 (which ISO strings only write with a sign), and not numbers.
 */
export const TIME_JUNK: readonly unknown[] = [
  1e17,
  -1,
  0,
  1.5,
  8.64e12 + 1,
  253_402_300_800,
  -62_167_219_201,
  2 ** 53,
  '1e17',
  '1796094612',
  '',
  null,
  '+200000-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.001Z',
  '9999-12-31T23:59:59.999Z',
  '0000-01-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  'yesterday',
];

const webhook: fc.Arbitrary<WebhookSpec> = fc.record({
  type: fc.nat(),
  subscription: fc.constantFrom<WebhookSpec['subscription']>('linked', 'linked', 'fresh', 'fresh', 'other-lane'),
  pick: fc.nat(),
  metadata: fc.constantFrom<WebhookSpec['metadata']>(
    'own',
    'own',
    'own',
    'own',
    'other-site',
    'unknown-offer',
    'bad-ids',
    'bad-ids',
    'missing',
  ),
  timeField: fc.nat(),
  timeJunk: fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(...TIME_JUNK) },
  ),
  status: fc.constantFrom('active', 'trialing', 'past_due', 'canceled', 'incomplete', 'paused', 'unpaid', 'ACTIVE'),
  shift: fc.integer({ min: -86_400 * 40, max: 86_400 * 40 }),
  soon: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  mutations: fc.oneof(
    { weight: 2, arbitrary: fc.constant<Mutation[]>([]) },
    { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }) },
  ),
  signature: fc.constantFrom<WebhookSpec['signature']>(
    ...(Array(12).fill('valid') as 'valid'[]),
    'wrong-secret',
    'stale',
    'tampered',
    'missing',
    'garbage',
  ),
});

export interface FuzzRequest {
  /** Index into ROUTES. */
  route: number;
  /** One per path parameter, in order (extra entries are unused). */
  segments: SegmentSpec[];
  auth: AuthSpec;
  query: QuerySpec;
  body: BodySpec;
  headers: HeaderSpec;
  webhook: WebhookSpec;
  /** Sent twice in a row, the same bytes: a client retrying (a refund with its Idempotency-Key, a webhook redelivered). */
  retry: boolean;
}

/** Every route of the route list; the webhooks, where most of the parsing is, three times as often. */
const routeChoices = ROUTES.flatMap((route, index) => (route.access === 'webhook' ? [index, index, index] : [index]));

export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  route: fc.constantFrom(...routeChoices),
  segments: fc.array(segment, { minLength: 3, maxLength: 3 }),
  auth,
  query,
  body,
  headers,
  webhook,
  retry: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});
