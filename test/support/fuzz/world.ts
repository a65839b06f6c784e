import { LocalTokenIssuer } from '../../../infra/local/tokens.ts';
import { mapLimit } from '../../../shared/usecases/map-limit.ts';

/**
 * The small, realistic dataset the fuzz runs against: one site per lane (lanes run concurrently, each
 * sequentially, so what a request writes can be told apart from what the other lanes write), with products,
 * offers of every price type, customers, and purchases in every billing state, some linked to Stripe and
 * PayPal subscriptions; plus real cursors of the subscriptions list under several filters.
 */

export interface PurchaseRef {
  purchaseId: string;
  siteId: string;
  customerId: string;
}

export interface Lane {
  index: number;
  siteId: string;
  products: string[];
  offers: string[];
  customers: string[];
  /** Seeded purchases, then every purchase a fuzz request created (so state keeps moving). */
  purchases: PurchaseRef[];
  stripeSubscriptions: string[];
  paypalSubscriptions: string[];
}

export interface CursorRef {
  cursor: string;
  siteId: string;
  /** The query the cursor was returned for, e.g. `status=active&offerId=o-sub`. */
  filter: Record<string, string>;
}

export interface World {
  runTag: string;
  lanes: Lane[];
  cursors: CursorRef[];
}

export const PRODUCTS = ['p-course', 'p-community', 'p-extra', 'p-old'];
export const OFFERS = ['o-free', 'o-once', 'o-plan', 'o-sub', 'o-days', 'o-old'];
export const CUSTOMERS = ['c-1', 'c-2', 'c-3'];
/** c-1 and c-2 hold purchases; c-3 holds none; c-ghost was never created. */
export const CUSTOMER_WITH_PURCHASES = 'c-1';
export const CUSTOMER_WITHOUT_PURCHASES = 'c-3';
export const UNKNOWN_CUSTOMER = 'c-ghost';
export const UNKNOWN_SITE = 'fz-nowhere';

export type Role = 'admin' | 'support' | 'automation' | 'customer';

/** Mints tokens straight from the runtime's issuer (as `POST /local/tokens` does), cached per identity. */
export class Tokens {
  private readonly cache = new Map<string, Promise<string>>();
  private foreignIssuer: Promise<LocalTokenIssuer> | null = null;

  constructor(
    private readonly issuer: LocalTokenIssuer,
    private readonly now: () => Date,
  ) {}

  get(role: Role, siteId: string, customerId?: string): Promise<string> {
    return this.memo(`${role}|${siteId}|${customerId ?? ''}`, () =>
      this.issuer.mint(
        {
          role,
          siteId,
          expiresInSeconds: 43_200,
          ...(role === 'admin' ? { email: 'owner@example.com' } : {}),
          ...(role === 'support' ? { email: 'agent@platform.example' } : {}),
          ...(role === 'customer' ? { customerId: customerId ?? CUSTOMER_WITH_PURCHASES } : {}),
        },
        this.now(),
      ),
    );
  }

  /** Issued two days ago for one hour. */
  expired(role: Role, siteId: string): Promise<string> {
    return this.memo(`expired|${role}|${siteId}`, () =>
      this.issuer.mint(
        { role, siteId, email: 'owner@example.com', customerId: CUSTOMER_WITH_PURCHASES, expiresInSeconds: 3_600 },
        new Date(this.now().getTime() - 2 * 86_400_000),
      ),
    );
  }

  /** Well-formed and unexpired, but signed by a key the authorizer does not trust. */
  foreign(role: Role, siteId: string): Promise<string> {
    this.foreignIssuer ??= LocalTokenIssuer.create();
    const issuer = this.foreignIssuer;
    return this.memo(`foreign|${role}|${siteId}`, async () =>
      (await issuer).mint(
        { role, siteId, email: 'owner@example.com', customerId: CUSTOMER_WITH_PURCHASES, expiresInSeconds: 3_600 },
        this.now(),
      ),
    );
  }

  /** An admin token the authorizer accepts but that carries no email (labels need one). */
  adminWithoutEmail(siteId: string): Promise<string> {
    return this.memo(`noemail|${siteId}`, () =>
      this.issuer.mint({ role: 'admin', siteId, expiresInSeconds: 43_200 }, this.now()),
    );
  }

  private memo(key: string, mint: () => Promise<string>): Promise<string> {
    let token = this.cache.get(key);
    if (!token) {
      token = mint();
      this.cache.set(key, token);
    }
    return token;
  }
}

type Http = (
  method: string,
  path: string,
  token: string,
  body?: unknown,
) => Promise<{ status: number; body: Record<string, unknown> | undefined }>;

/** Seeds one lane's site over HTTP, as an admin would; throws with the response on any unexpected answer. */
export async function seedLane(
  index: number,
  runTag: string,
  http: Http,
  tokens: Tokens,
  now: () => Date,
): Promise<Lane> {
  const siteId = `fz-${runTag}-${index}`;
  const admin = await tokens.get('admin', siteId);
  const ok = async (method: string, path: string, body?: unknown) => {
    const reply = await http(method, `/sites/${siteId}${path}`, admin, body);
    if (reply.status >= 300) {
      throw new Error(`seeding ${method} ${path} → ${reply.status} ${JSON.stringify(reply.body)}`);
    }
    return reply.body ?? {};
  };
  const days = (n: number) => new Date(now().getTime() + n * 86_400_000).toISOString();

  await ok('PUT', '/settings', {
    selfCancelEnabled: index % 2 === 0,
    timezone: 'Europe/Berlin',
    // Rule 17: each site bills Stripe and PayPal purchases through its own account.
    stripeAccountId: `acct_fz${runTag}${index}`,
    paypalMerchantId: `FZ${runTag.toUpperCase()}${index}MERCHANT`.slice(0, 20),
  });
  // Independent writes go out together (the lanes' seeding is a third of the fuzz's time otherwise); purchases
  // are listed in a fixed order whatever order they were created in, so a seed always makes the same requests.
  await Promise.all(PRODUCTS.map((productId) => ok('PUT', `/products/${productId}`, { name: `Product ${productId}` })));
  const offers: Record<string, unknown> = {
    'o-free': { name: 'Free', productIds: ['p-course'], price: { type: 'free' } },
    'o-once': { name: 'Once', productIds: ['p-course'], price: { type: 'one_time', amount: 4900, currency: 'usd' } },
    'o-plan': {
      name: 'Plan',
      productIds: ['p-course', 'p-community'],
      price: { type: 'payment_plan', amount: 10_000, currency: 'usd', installments: 3, interval: 'month' },
    },
    'o-sub': {
      name: 'Monthly',
      productIds: ['p-course', 'p-community'],
      price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
    },
    'o-days': {
      name: 'Thirty days',
      productIds: ['p-extra'],
      price: { type: 'subscription', amount: 1500, currency: 'eur', interval: 'week', intervalCount: 2 },
      accessDays: 30,
    },
    'o-old': { name: 'Old', productIds: ['p-course'], price: { type: 'one_time', amount: 100, currency: 'usd' } },
  };
  await Promise.all([
    ...Object.entries(offers).map(([offerId, offer]) => ok('PUT', `/offers/${offerId}`, offer)),
    ...CUSTOMERS.map((customerId) =>
      ok('PUT', `/customers/${customerId}`, { email: `${customerId}@example.com`, name: `Customer ${customerId}` }),
    ),
  ]);
  await Promise.all([ok('DELETE', '/products/p-old'), ok('DELETE', '/offers/o-old')]);

  const grant = async (customerId: string, offerId: string, extra: Record<string, unknown> = {}) => {
    const body = await ok('POST', '/purchases', { customerId, offerId, ...extra });
    return { purchaseId: String(body.purchaseId), siteId, customerId };
  };
  const then = async (made: Promise<PurchaseRef>, path: string, body: unknown) => {
    const purchase = await made;
    await ok('POST', `/purchases/${purchase.purchaseId}${path}`, body);
    return purchase;
  };
  const stripeSubscriptions = [`sub_fz${runTag}${index}a`, `sub_fz${runTag}${index}b`, `sub_fz${runTag}${index}c`];
  const paypalSubscriptions = [`I-FZ${runTag.toUpperCase()}${index}A`];

  // Three grants at a time per lane: eight lanes at once already keep DynamoDB Local's table lock busy.
  const purchases: PurchaseRef[] = await mapLimit(
    [
      () => grant('c-1', 'o-sub', { currentPeriodEnd: days(20) }),
      () => grant('c-1', 'o-plan'),
      () => grant('c-1', 'o-once'),
      () => grant('c-1', 'o-free'),
      () => grant('c-1', 'o-days'),
      () => grant('c-2', 'o-sub', { processor: 'stripe', processorSubscriptionId: stripeSubscriptions[0] }),
      () => grant('c-2', 'o-plan', { processor: 'native', processorSubscriptionId: stripeSubscriptions[1] }),
      () => grant('c-2', 'o-sub', { processor: 'paypal', processorSubscriptionId: paypalSubscriptions[0] }),
      () =>
        then(grant('c-2', 'o-sub', { currentPeriodEnd: days(10) }), '/cancellation', { when: 'date', date: days(40) }),
      () => then(grant('c-1', 'o-sub', { currentPeriodEnd: days(15) }), '/pause', { resumesAt: days(60) }),
      () => then(grant('c-2', 'o-days'), '/cancellation', { when: 'now' }),
      () => then(grant('c-1', 'o-sub'), '/access/revoke', { productIds: ['p-course'] }),
      () =>
        then(
          grant('c-2', 'o-sub', {
            processor: 'stripe',
            processorSubscriptionId: stripeSubscriptions[2],
            currentPeriodEnd: days(25),
          }),
          '/cancellation',
          { when: 'period_end' },
        ),
    ],
    3,
    (make) => make(),
  );

  return {
    index,
    siteId,
    products: PRODUCTS,
    offers: OFFERS,
    customers: CUSTOMERS,
    purchases,
    stripeSubscriptions,
    paypalSubscriptions,
  };
}

const CURSOR_FILTERS: Record<string, string>[] = [
  {},
  { status: 'active' },
  { status: 'pending_cancellation' },
  { offerId: 'o-sub' },
  { status: 'active', offerId: 'o-sub' },
  { offerId: 'o-plan' },
];

/** First- and second-page cursors of the subscriptions list, per filter. */
export async function collectCursors(lane: Lane, http: Http, tokens: Tokens): Promise<CursorRef[]> {
  const admin = await tokens.get('admin', lane.siteId);
  const cursors: CursorRef[] = [];
  for (const filter of CURSOR_FILTERS) {
    let cursor: string | null = null;
    for (let page = 0; page < 2; page++) {
      const query = new URLSearchParams({ ...filter, limit: '1', ...(cursor ? { cursor } : {}) });
      const reply = await http('GET', `/sites/${lane.siteId}/subscriptions?${query}`, admin);
      if (reply.status !== 200) {
        throw new Error(`collecting cursors ${query} → ${reply.status} ${JSON.stringify(reply.body)}`);
      }
      const next = reply.body?.nextCursor;
      if (typeof next !== 'string') break;
      cursors.push({ cursor: next, siteId: lane.siteId, filter });
      cursor = next;
    }
  }
  return cursors;
}
