import Stripe from 'stripe';
import { payPalWebhookHeaders } from '../../../infra/local/paypal-sandbox.ts';
import { LOCAL_PAYPAL_WEBHOOK_ID, LOCAL_STRIPE_WEBHOOK_SECRET } from '../../../infra/local/processors.ts';
import { ROUTES, type RouteDefinition, routeKey } from '../../../shared/http/routes.ts';
import { id, PURCHASE_STATUSES } from '../../../shared/http/schemas.ts';
import {
  type AuthSpec,
  type BodySpec,
  type CursorSpec,
  type FuzzRequest,
  isNested,
  type Mutation,
  PAYPAL_EVENT_TYPES,
  type QuerySpec,
  type SegmentSpec,
  STRIPE_EVENT_TYPES,
  type TemplateSpec,
  toJson,
  type WebhookSpec,
} from './arbitraries.ts';
import {
  CUSTOMER_WITH_PURCHASES,
  CUSTOMER_WITHOUT_PURCHASES,
  type Lane,
  type PurchaseRef,
  type Role,
  type Tokens,
  UNKNOWN_CUSTOMER,
  UNKNOWN_SITE,
  type World,
} from './world.ts';

/** An HTTP request ready to send, with what the checks need to know about it. */
export interface ConcreteRequest {
  routeKey: string;
  method: string;
  /** Path and query string, as sent. */
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** The Authorization header in words, for reports (tokens are long and meaningless). */
  authLabel: string;
  /** Every `siteId` in a 2xx answer must be this one (null: not checked). */
  ownerSite: string | null;
  /** Every `customerId` in a 2xx answer must be this one (null: not checked). */
  ownerCustomer: string | null;
  /** Why this request must not succeed (tenancy), or null. */
  mustNotSucceed: string | null;
  /** Sites this request may legitimately write to: writes elsewhere are someone else's. */
  sites: Set<string>;
}

export interface SigningKeys {
  payPalPrivateKeyPem: string;
  /** A key whose certificate the runtime does not trust. */
  payPalOtherKeyPem: string;
}

export interface ResolveContext {
  world: World;
  tokens: Tokens;
  keys: SigningKeys;
  now: () => Date;
  /** A fresh value per resolution: event and subscription ids that must not collide with earlier ones. */
  nonce: () => string;
}

const at = <T>(list: readonly T[], pick: number): T => list[pick % list.length]!;

function otherLane(world: World, lane: Lane, pick: number): Lane {
  if (world.lanes.length === 1) return lane;
  const offset = 1 + (pick % (world.lanes.length - 1));
  return world.lanes[(lane.index + offset) % world.lanes.length]!;
}

function paramNames(route: RouteDefinition): string[] {
  return [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
}

function knownValue(name: string, lane: Lane, pick: number, customerId: string | null): string {
  switch (name) {
    case 'siteId':
      return lane.siteId;
    case 'productId':
      return at(lane.products, pick);
    case 'offerId':
      return at(lane.offers, pick);
    case 'customerId':
      return at(lane.customers, pick);
    case 'purchaseId': {
      // On /me routes, half the time one of the caller's own purchases.
      const own = customerId ? lane.purchases.filter((p) => p.customerId === customerId) : [];
      return (own.length > 0 && pick % 2 === 0 ? at(own, pick >> 1) : at(lane.purchases, pick)).purchaseId;
    }
    default:
      return `x-${pick}`;
  }
}

function segmentText(spec: SegmentSpec, value: string): string {
  return spec.encoding === 'raw' ? value : encodeURIComponent(value);
}

interface Resolved {
  params: Record<string, { value: string; source: SegmentSpec['source'] }>;
  path: string;
}

function resolvePath(route: RouteDefinition, request: FuzzRequest, lane: Lane, ctx: ResolveContext): Resolved {
  const params: Resolved['params'] = {};
  const names = paramNames(route);
  const customerId = route.access === 'customer' ? customerOf(request.auth) : null;
  let path: string = route.path;
  names.forEach((name, i) => {
    const spec = request.segments[i]!;
    let value: string;
    if (spec.source === 'known') value = knownValue(name, lane, spec.pick, customerId);
    else if (spec.source === 'foreign')
      value = knownValue(name, otherLane(ctx.world, lane, spec.pick), spec.pick, null);
    else value = spec.junk;
    params[name] = { value, source: spec.source };
    path = path.replace(`{${name}}`, segmentText(spec, value));
  });
  return { params, path };
}

function customerOf(auth: AuthSpec): string {
  switch (auth.customer) {
    case 'with-purchases':
    case 'other-site':
      return CUSTOMER_WITH_PURCHASES;
    case 'without-purchases':
      return CUSTOMER_WITHOUT_PURCHASES;
    case 'unknown':
      return UNKNOWN_CUSTOMER;
  }
}

interface AuthResult {
  header: string | null;
  label: string;
  /** The site of a token the authorizer accepts, with its role; null for no or invalid tokens. */
  accepted: { role: Role; siteId: string; customerId: string | null } | null;
}

async function resolveAuth(
  auth: AuthSpec,
  route: RouteDefinition,
  pathSite: string | null,
  pathSegment: SegmentSpec['source'] | null,
  lane: Lane,
  ctx: ResolveContext,
): Promise<AuthResult> {
  const other = otherLane(ctx.world, lane, auth.customer.length);
  // Staff routes get a staff token and /me routes a customer token, unless the spec asks for the wrong one.
  const wantsCustomer = (route.access === 'customer') !== auth.wrongRole;
  const role: Role = wantsCustomer ? 'customer' : auth.staffRole;
  let siteId: string;
  switch (auth.site) {
    case 'path':
      // Another lane's site in the path is a tenancy probe: the token stays the lane's own, so that lanes
      // never write into each other's sites (which would blur whose write is whose).
      siteId = pathSegment === 'foreign' ? lane.siteId : (pathSite ?? lane.siteId);
      // Only site ids an issuer would put in a token: `POST /local/tokens` validates them with `id`, and
      // Cognito's custom:siteId is at most 128 characters. A junk site in the path then meets the lane's token.
      if (!id.safeParse(siteId).success) siteId = lane.siteId;
      break;
    case 'lane':
      siteId = lane.siteId;
      break;
    case 'other':
      siteId = other.siteId;
      break;
    case 'unknown':
      siteId = UNKNOWN_SITE;
      break;
  }
  if (role === 'customer' && auth.customer === 'other-site') siteId = other.siteId;
  // A customer's token on /me is for the lane's site unless the spec says otherwise.
  if (route.access === 'customer' && auth.site === 'path') siteId = lane.siteId;
  const bearer = (token: string) => `Bearer ${token}`;
  switch (auth.kind) {
    case 'none':
      return { header: null, label: 'no token', accepted: null };
    case 'malformed':
      return { header: auth.malformed, label: `malformed: ${auth.malformed.slice(0, 60)}`, accepted: null };
    case 'expired':
      return {
        header: bearer(await ctx.tokens.expired(role, siteId)),
        label: `expired ${role} token of ${siteId}`,
        accepted: null,
      };
    case 'foreign-issuer':
      return {
        header: bearer(await ctx.tokens.foreign(role, siteId)),
        label: `${role} token of ${siteId} signed by an untrusted key`,
        accepted: null,
      };
    case 'admin-without-email':
      return {
        header: bearer(await ctx.tokens.adminWithoutEmail(siteId)),
        label: `admin token of ${siteId} without email`,
        accepted: { role: 'admin', siteId, customerId: null },
      };
    case 'token': {
      if (role === 'customer') {
        const customerId = customerOf(auth);
        return {
          header: bearer(await ctx.tokens.get('customer', siteId, customerId)),
          label: `customer token of ${siteId} for ${customerId}`,
          accepted: { role: 'customer', siteId, customerId },
        };
      }
      return {
        header: bearer(await ctx.tokens.get(role, siteId)),
        label: `${role} token of ${siteId}`,
        accepted: { role, siteId, customerId: null },
      };
    }
  }
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function tamperCursor(cursor: string, spec: CursorSpec, lane: Lane, world: World): string {
  let decoded: Record<string, unknown>;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return cursor;
  }
  const keys = Object.keys(decoded).sort();
  const victim = keys.length > 0 ? at(keys, spec.pick) : 'pk';
  switch (spec.tamper) {
    case 'extra-attribute':
      return base64urlJson({ ...decoded, extra: 'x' });
    case 'missing-attribute': {
      const copy = { ...decoded };
      delete copy[victim];
      return base64urlJson(copy);
    }
    case 'number-value':
      return base64urlJson({ ...decoded, [victim]: 1 });
    case 'other-site': {
      const other = otherLane(world, lane, spec.pick).siteId;
      const text = JSON.stringify(decoded).replaceAll(`SITE#${lane.siteId}`, `SITE#${other}`);
      return Buffer.from(text).toString('base64url');
    }
    case 'not-object':
      return base64urlJson(at([[decoded], null, 'cursor', 1, true], spec.pick));
    case 'truncated':
      return cursor.slice(0, Math.max(1, Math.floor(cursor.length / 2)));
  }
}

function resolveQuery(route: RouteDefinition, spec: QuerySpec, lane: Lane, world: World): string {
  const query = new URLSearchParams();
  if (routeKey(route) === 'GET /sites/{siteId}/subscriptions') {
    if (spec.status.kind === 'valid') query.set('status', at(PURCHASE_STATUSES, spec.status.pick));
    if (spec.status.kind === 'junk') query.set('status', spec.status.junk);
    if (spec.offerId.kind === 'known') query.set('offerId', at(lane.offers, spec.offerId.pick));
    if (spec.offerId.kind === 'junk') query.set('offerId', spec.offerId.junk);
    if (spec.limit.kind === 'valid') query.set('limit', String(spec.limit.value));
    if (spec.limit.kind === 'junk') query.set('limit', spec.limit.junk);
    const cursor = spec.cursor;
    if (cursor.kind === 'junk') query.set('cursor', cursor.junk);
    if ((cursor.kind === 'real' || cursor.kind === 'tampered') && world.cursors.length > 0) {
      // Half of the real cursors are used exactly as they were issued: same site, same filter.
      const exact = cursor.kind === 'real' && cursor.pick % 2 === 0;
      const own = world.cursors.filter((c) => c.siteId === lane.siteId);
      const chosen = at(exact && own.length > 0 ? own : world.cursors, cursor.pick >> 1);
      if (exact) {
        query.delete('status');
        query.delete('offerId');
        for (const [name, value] of Object.entries(chosen.filter)) query.set(name, value);
      }
      query.set('cursor', cursor.kind === 'real' ? chosen.cursor : tamperCursor(chosen.cursor, cursor, lane, world));
    }
  }
  for (const [name, value] of spec.extra) query.append(name, value);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

// ---- bodies ------------------------------------------------------------------------------------------

type Tree = Record<string, unknown> | unknown[];

interface Slot {
  parent: Tree | null;
  key: string | number | null;
  value: unknown;
}

function slots(root: unknown): Slot[] {
  const result: Slot[] = [{ parent: null, key: null, value: root }];
  const walk = (value: unknown) => {
    if (isNested(value)) return; // a marker is one value, not a tree to mutate inside
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        result.push({ parent: value, key: index, value: item });
        walk(item);
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        result.push({ parent: value as Record<string, unknown>, key, value: item });
        walk(item);
      }
    }
  };
  walk(root);
  return result;
}

function setOwn(target: Tree, key: string | number, value: unknown) {
  if (Array.isArray(target) && typeof key === 'number') target[key] = value;
  // defineProperty, so that `__proto__` becomes a plain own key as JSON.parse would make it
  else Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies mutations to a deep copy; returns the new root (a root replacement replaces everything). */
export function mutate(root: unknown, mutations: readonly Mutation[]): unknown {
  let current = structuredClone(root);
  for (const m of mutations) {
    const value = m.value;
    const all = slots(current);
    if (m.op === 'add') {
      const objects = all.filter((s) => typeof s.value === 'object' && s.value !== null && !Array.isArray(s.value));
      if (objects.length === 0) continue;
      setOwn(at(objects, m.at).value as Tree, m.key, value);
      continue;
    }
    // The root is replaced one time in eight: a whole-body swap ends at validation, a field swap goes deeper.
    const inner = all.slice(1);
    const target = m.op === 'delete' || (inner.length > 0 && m.at % 8 !== 0) ? at(inner, m.at) : all[0];
    if (!target) continue;
    const next = m.op === 'wrap' ? [target.value] : value;
    if (target.parent === null || target.key === null) {
      if (m.op !== 'delete') current = next;
      continue;
    }
    if (m.op === 'delete') {
      if (Array.isArray(target.parent) && typeof target.key === 'number') target.parent.splice(target.key, 1);
      else delete (target.parent as Record<string, unknown>)[target.key];
    } else setOwn(target.parent, target.key, next);
  }
  return current;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A valid-looking body for the route, built from the template's choices (null: the route takes none). */
function templateBody(key: string, t: TemplateSpec, lane: Lane, ctx: ResolveContext): unknown {
  const dated = () => iso(ctx.now().getTime() + Math.round(t.dayOffset * 86_400_000));
  const optional = (field: Record<string, unknown>) => (t.omitOptional ? {} : field);
  switch (key) {
    case 'PUT /sites/{siteId}/settings':
      return t.omitOptional
        ? { selfCancelEnabled: t.selfCancelEnabled }
        : { selfCancelEnabled: t.selfCancelEnabled, timezone: t.timezone };
    case 'PUT /sites/{siteId}/products/{productId}':
      return { name: t.name, ...optional({ description: t.name.repeat(3) }) };
    case 'PUT /sites/{siteId}/offers/{offerId}': {
      const productIds = Array.from({ length: t.productCount }, (_, i) => at(lane.products, t.pickA + i));
      const price =
        t.priceType === 'free'
          ? { type: 'free' }
          : t.priceType === 'one_time'
            ? { type: 'one_time', amount: t.amount, currency: t.currency }
            : t.priceType === 'payment_plan'
              ? {
                  type: 'payment_plan',
                  amount: t.amount,
                  currency: t.currency,
                  installments: t.installments,
                  interval: t.interval,
                  ...optional({ intervalCount: t.intervalCount }),
                }
              : {
                  type: 'subscription',
                  amount: t.amount,
                  currency: t.currency,
                  interval: t.interval,
                  ...optional({ intervalCount: t.intervalCount }),
                };
      return { name: t.name, productIds, price, ...(t.accessDays === null ? {} : { accessDays: t.accessDays }) };
    }
    case 'PUT /sites/{siteId}/customers/{customerId}':
      return { email: `fz${t.pickA}@example.com`, ...optional({ name: t.name }) };
    case 'POST /sites/{siteId}/purchases': {
      const linked = t.processor === 'paypal' ? lane.paypalSubscriptions : lane.stripeSubscriptions;
      const subscriptionId = t.freshSubscription
        ? t.processor === 'paypal'
          ? `I-FZ${ctx.nonce().toUpperCase()}`
          : `sub_fz${ctx.nonce()}`
        : at(linked, t.pickB);
      return {
        customerId: at(lane.customers, t.pickA),
        offerId: at(lane.offers, t.pickB),
        ...(t.processor === 'none' ? {} : { processor: t.processor, processorSubscriptionId: subscriptionId }),
        ...optional({ currentPeriodEnd: dated() }),
      };
    }
    case 'POST /sites/{siteId}/purchases/{purchaseId}/access/revoke':
    case 'POST /sites/{siteId}/purchases/{purchaseId}/access/resume':
      return t.omitOptional
        ? {}
        : { productIds: Array.from({ length: t.productCount }, (_, i) => at(lane.products, t.pickA + i)) };
    case 'POST /sites/{siteId}/purchases/{purchaseId}/cancellation/preview':
    case 'POST /sites/{siteId}/purchases/{purchaseId}/cancellation':
      return t.when === 'date' ? { when: 'date', date: dated() } : { when: t.when };
    case 'POST /sites/{siteId}/purchases/{purchaseId}/pause':
      return t.omitOptional ? {} : { resumesAt: dated() };
    case 'POST /sites/{siteId}/purchases/{purchaseId}/refunds':
      return {
        ...(t.refundAmount === null ? {} : { amount: t.refundAmount }),
        ...optional({ revokeAccess: t.revokeAccess }),
      };
    default:
      return null;
  }
}

function plainBody(spec: BodySpec): string | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'null':
      return 'null';
    case 'raw':
      return spec.raw;
    case 'json':
      return toJson(spec.json);
    case 'huge':
      return JSON.stringify({ name: 'x'.repeat(Math.max(0, spec.hugeBytes - 11)) });
    case 'template':
      return undefined;
  }
}

// ---- webhooks ----------------------------------------------------------------------------------------

function stripeEvent(spec: WebhookSpec, lane: Lane, ctx: ResolveContext, nonce: string): Record<string, unknown> {
  const type = at(STRIPE_EVENT_TYPES, spec.type);
  const t = Math.floor(ctx.now().getTime() / 1000) + spec.shift;
  const soon = Math.floor(ctx.now().getTime() / 1000) + 5;
  const other = otherLane(ctx.world, lane, spec.pick);
  const subscriptionId =
    spec.subscription === 'linked'
      ? at(lane.stripeSubscriptions, spec.pick)
      : spec.subscription === 'other-lane'
        ? at(other.stripeSubscriptions, spec.pick)
        : `sub_fz${nonce}`;
  const metadata = webhookMetadata(spec, lane, other);
  const base = {
    id: `evt_fz${nonce}`,
    object: 'event',
    api_version: '2026-08-27.basil',
    created: t,
    type,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  };
  const period = { start: t - 86_400, end: t + 30 * 86_400 };
  let object: Record<string, unknown>;
  if (type.startsWith('customer.subscription.')) {
    object = {
      id: subscriptionId,
      object: 'subscription',
      status: spec.status,
      cancel_at: type === 'customer.subscription.updated' ? (spec.soon ? soon : t + 10 * 86_400) : null,
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      pause_collection:
        type === 'customer.subscription.paused'
          ? { behavior: 'void', resumes_at: spec.soon ? soon : t + 86_400 }
          : null,
      metadata,
      items: {
        object: 'list',
        data: [
          {
            id: 'si_1',
            object: 'subscription_item',
            current_period_start: period.start,
            current_period_end: period.end,
            price: { id: 'price_1', recurring: { interval: 'month', interval_count: 1 } },
          },
        ],
      },
    };
  } else if (type === 'checkout.session.completed') {
    object = {
      id: `cs_fz${nonce}`,
      object: 'checkout.session',
      mode: 'subscription',
      subscription: subscriptionId,
      metadata,
    };
  } else if (type.startsWith('invoice.')) {
    object = {
      id: `in_fz${nonce}`,
      object: 'invoice',
      amount_paid: 2900,
      amount_due: 2900,
      currency: 'usd',
      parent: { type: 'subscription_details', subscription_details: { subscription: subscriptionId, metadata } },
      lines: {
        data: [{ id: 'il_1', period, parent: { subscription_item_details: { proration: false } } }],
      },
    };
  } else if (type === 'charge.refunded') {
    object = {
      id: `ch_fz${nonce}`,
      object: 'charge',
      amount_refunded: 1000,
      currency: 'usd',
      metadata: { subscriptionId, siteId: metadata.siteId },
      refunds: { data: [{ id: `re_fz${nonce}` }] },
    };
  } else {
    object = { id: `cus_fz${nonce}`, object: 'customer' };
  }
  return { ...base, data: { object } };
}

function webhookMetadata(spec: WebhookSpec, lane: Lane, other: Lane): Record<string, string> {
  const offerId = at(['o-sub', 'o-sub', 'o-plan', 'o-days', 'o-once', 'o-free'], spec.pick);
  switch (spec.metadata) {
    case 'own':
      return { siteId: lane.siteId, offerId, customerId: at(lane.customers, spec.pick) };
    case 'other-site':
      return { siteId: other.siteId, offerId, customerId: 'c-1' };
    case 'unknown-offer':
      return { siteId: lane.siteId, offerId: 'o-nope', customerId: 'c-1' };
    case 'bad-ids':
      return {
        siteId: lane.siteId,
        offerId,
        customerId: at(['bad id#x', 'c#PROFILE', 'x'.repeat(3_000), ''], spec.pick),
      };
    case 'missing':
      return {};
  }
}

function payPalEvent(spec: WebhookSpec, lane: Lane, ctx: ResolveContext, nonce: string): Record<string, unknown> {
  const type = at(PAYPAL_EVENT_TYPES, spec.type);
  const t = ctx.now().getTime() + spec.shift * 1000;
  const other = otherLane(ctx.world, lane, spec.pick);
  const subscriptionId =
    spec.subscription === 'linked'
      ? at(lane.paypalSubscriptions, spec.pick)
      : spec.subscription === 'other-lane'
        ? at(other.paypalSubscriptions, spec.pick)
        : `I-FZ${nonce.toUpperCase()}`;
  const m = webhookMetadata(spec, lane, other);
  const customId = m.siteId ? `${m.siteId}:${m.offerId}:${m.customerId}` : undefined;
  const base = {
    id: `WH-FZ${nonce}`,
    event_version: '1.0',
    create_time: iso(t),
    event_type: type,
    summary: 'fuzz',
  };
  if (type.startsWith('BILLING.SUBSCRIPTION.')) {
    return {
      ...base,
      resource_type: 'subscription',
      resource: {
        id: subscriptionId,
        custom_id: customId,
        plan_id: 'P-1',
        status: spec.status.toUpperCase(),
        start_time: iso(t - 86_400_000),
        update_time: iso(t),
        billing_info: {
          next_billing_time: iso(spec.soon ? ctx.now().getTime() + 5_000 : t + 30 * 86_400_000),
          last_payment: { time: iso(t - 86_400_000), amount: { currency_code: 'USD', value: '29.00' } },
          last_failed_payment: { time: iso(t), amount: { currency_code: 'USD', value: '29.00' } },
        },
      },
    };
  }
  if (type.startsWith('PAYMENT.SALE.')) {
    return {
      ...base,
      resource_type: type === 'PAYMENT.SALE.REFUNDED' ? 'refund' : 'sale',
      resource: {
        id: `SALE-FZ${nonce}`,
        billing_agreement_id: subscriptionId,
        sale_id: `SALE-FZ${nonce}`,
        amount: { total: '29.00', currency: 'USD' },
        custom: customId,
        create_time: iso(t),
        update_time: iso(t),
        state: 'completed',
      },
    };
  }
  return { ...base, resource_type: 'dispute', resource: { id: `PP-D-${nonce}` } };
}

/** Stripe's and PayPal's time fields, wherever they sit in an event. */
const TIME_KEYS = new Set([
  'created',
  'cancel_at',
  'current_period_start',
  'current_period_end',
  'resumes_at',
  'start',
  'end',
  'create_time',
  'update_time',
  'start_time',
  'next_billing_time',
  'time',
]);

function withTimeJunk(event: Record<string, unknown>, spec: WebhookSpec): unknown {
  if (spec.timeJunk === undefined) return event;
  const copy = structuredClone(event);
  const times = slots(copy).filter((s) => typeof s.key === 'string' && TIME_KEYS.has(s.key) && s.parent !== null);
  const target = times.length > 0 ? at(times, spec.timeField) : null;
  if (target?.parent && target.key !== null) setOwn(target.parent, target.key, spec.timeJunk);
  return copy;
}

function signWebhook(
  route: RouteDefinition,
  spec: WebhookSpec,
  payload: string,
  ctx: ResolveContext,
): { headers: Record<string, string>; body: string } {
  const tampered = spec.signature === 'tampered' ? `${payload} ` : payload;
  if (route.path === '/webhooks/stripe') {
    const sign = (secret: string, timestamp?: number) =>
      Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
    switch (spec.signature) {
      case 'missing':
        return { headers: {}, body: payload };
      case 'garbage':
        return { headers: { 'stripe-signature': 't=abc,v1=zz' }, body: payload };
      case 'wrong-secret':
        return { headers: { 'stripe-signature': sign('whsec_not_ours') }, body: payload };
      case 'stale':
        return {
          headers: {
            'stripe-signature': sign(LOCAL_STRIPE_WEBHOOK_SECRET, Math.floor(ctx.now().getTime() / 1000) - 600),
          },
          body: payload,
        };
      default:
        return { headers: { 'stripe-signature': sign(LOCAL_STRIPE_WEBHOOK_SECRET) }, body: tampered };
    }
  }
  const sign = (privateKeyPem: string, transmissionTime?: string) => {
    const { 'content-type': _ignored, ...headers } = payPalWebhookHeaders({
      privateKeyPem,
      webhookId: LOCAL_PAYPAL_WEBHOOK_ID,
      rawBody: payload,
      ...(transmissionTime ? { transmissionTime } : {}),
    });
    return headers;
  };
  switch (spec.signature) {
    case 'missing':
      return { headers: {}, body: payload };
    case 'garbage':
      return {
        headers: { ...sign(ctx.keys.payPalPrivateKeyPem), 'paypal-transmission-sig': 'not base64!' },
        body: payload,
      };
    case 'wrong-secret':
      return { headers: sign(ctx.keys.payPalOtherKeyPem), body: payload };
    case 'stale':
      return {
        headers: sign(ctx.keys.payPalPrivateKeyPem, iso(ctx.now().getTime() - 3_600_000).replace(/\.\d{3}Z$/, 'Z')),
        body: payload,
      };
    default:
      return { headers: sign(ctx.keys.payPalPrivateKeyPem), body: tampered };
  }
}

// ---- the request ---------------------------------------------------------------------------------------

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** Turns an abstract request into the HTTP request to send from `lane`. */
export async function resolveRequest(request: FuzzRequest, lane: Lane, ctx: ResolveContext): Promise<ConcreteRequest> {
  const route = ROUTES[request.route]! as RouteDefinition;
  const key = routeKey(route);
  const { params, path } = resolvePath(route, request, lane, ctx);
  const site = params.siteId;
  const pathSite = site
    ? site.source === 'junk'
      ? safeDecode(segmentText(request.segments[0]!, site.value))
      : site.value
    : null;
  const auth = await resolveAuth(request.auth, route, pathSite, site?.source ?? null, lane, ctx);
  const nonce = ctx.nonce();

  let body: string | undefined;
  const headers: Record<string, string> = {};
  if (route.access === 'webhook') {
    const event =
      route.path === '/webhooks/stripe'
        ? stripeEvent(request.webhook, lane, ctx, nonce)
        : payPalEvent(request.webhook, lane, ctx, nonce);
    const payload =
      request.body.kind === 'template'
        ? toJson(mutate(withTimeJunk(event, request.webhook), request.webhook.mutations))
        : (plainBody(request.body) ?? '');
    const signed = signWebhook(route, request.webhook, payload, ctx);
    Object.assign(headers, signed.headers);
    body = signed.body === '' && request.body.kind === 'none' ? undefined : signed.body;
  } else if (route.method !== 'GET') {
    if (request.body.kind === 'template') {
      const base = templateBody(key, request.body.template, lane, ctx);
      body = base === null ? undefined : toJson(mutate(base, request.body.mutations));
    } else body = plainBody(request.body);
  }
  if (
    request.headers.contentType !== null &&
    (body !== undefined || request.headers.contentType !== 'application/json')
  )
    headers['content-type'] = request.headers.contentType;
  if (request.headers.idempotencyKey !== null) headers['idempotency-key'] = request.headers.idempotencyKey;
  if (auth.header !== null) headers.authorization = auth.header;

  // Tenancy: what must never succeed, whatever else is wrong with the request.
  let mustNotSucceed: string | null = null;
  const token = auth.accepted;
  const cleanSite = site && site.source !== 'junk' ? site.value : null;
  if (route.access === 'staff' && token) {
    if (token.role === 'customer') mustNotSucceed = 'a customer token on a staff route';
    else if (cleanSite && token.siteId !== cleanSite)
      mustNotSucceed = `a staff token of ${token.siteId} on ${cleanSite}'s path`;
    else if (cleanSite && params.purchaseId && params.purchaseId.source !== 'junk') {
      const purchase = findPurchase(ctx.world, params.purchaseId.value);
      if (purchase && purchase.siteId !== cleanSite) {
        mustNotSucceed = `${cleanSite}'s path naming a purchase of ${purchase.siteId}`;
      }
    }
  }
  if (route.access === 'customer' && token) {
    if (token.role !== 'customer') mustNotSucceed = 'a staff token on a /me route';
    else if (params.purchaseId && params.purchaseId.source !== 'junk' && route.method !== 'GET') {
      const purchase = findPurchase(ctx.world, params.purchaseId.value);
      if (purchase && (purchase.siteId !== token.siteId || purchase.customerId !== token.customerId)) {
        mustNotSucceed = `${token.customerId} of ${token.siteId} acting on ${purchase.customerId}'s purchase in ${purchase.siteId}`;
      }
    }
  }

  // Where this request could write: the path's site, the customer's site on /me, and for webhooks the lane's
  // site plus any site whose id or linked subscription the body names.
  const sites = new Set<string>();
  if (pathSite) sites.add(pathSite);
  if (route.access === 'customer' && token) sites.add(token.siteId);
  if (route.access === 'webhook') {
    sites.add(lane.siteId);
    if (body !== undefined && body.length < 100_000) {
      for (const other of ctx.world.lanes) {
        const named = [other.siteId, ...other.stripeSubscriptions, ...other.paypalSubscriptions];
        if (named.some((name) => body.includes(name))) sites.add(other.siteId);
      }
    }
  }

  // What a successful answer may contain: data of the path's site (staff), of the caller (/me), nothing else.
  const ownerSite = route.access === 'customer' ? (token?.siteId ?? null) : cleanSite;
  const ownerCustomer = route.access === 'customer' ? (token?.customerId ?? null) : null;

  return {
    routeKey: key,
    method: route.method,
    ownerSite,
    ownerCustomer,
    path: `${path}${resolveQuery(route, request.query, lane, ctx.world)}`,
    headers,
    body,
    authLabel: auth.label,
    mustNotSucceed,
    sites,
  };
}

function findPurchase(world: World, purchaseId: string): PurchaseRef | null {
  for (const lane of world.lanes) {
    const found = lane.purchases.find((p) => p.purchaseId === purchaseId);
    if (found) return found;
  }
  return null;
}
