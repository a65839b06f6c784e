import { createBillingHandler } from '../functions/billing/app.ts';
import { UPCOMING_DAYS_PER_PAGE } from '../shared/store/upcoming.ts';
import { summarizeCalls } from './calls.ts';
import { adminClaims, apiEvent, invokeOk } from './lambda.ts';
import { type Budget, fmt } from './report.ts';
import { requireEnvironment, type Section } from './section.ts';

const PURCHASES = 120;
const PAGE = 50;

/**
 * The calendar (`GET /sites/{siteId}/upcoming`) and the sweeper's due index: DynamoDB calls per page. A site
 * with 120 subscriptions renewing over the next 30 days (four a day) is listed page by page with the default
 * window; an empty site's year-long window shows the cost of walking empty day partitions (bounded per page);
 * one full pass of the due index shows what a sweeper run reads when nothing is overdue.
 */
export const upcoming: Section = {
  id: 'upcoming',
  title: `h. Upcoming calendar and due index: DynamoDB calls per page (${PURCHASES} renewals over 30 days, pages of ${PAGE})`,
  needsDynamo: true,
  async run(maybeEnv) {
    const env = requireEnvironment(maybeEnv, this.id);
    const billing = createBillingHandler(env.deps);
    const siteId = `bench-upcoming-${Date.now().toString(36)}`;
    const claims = adminClaims(siteId);
    const call = (
      handler: typeof env.handlers.catalog,
      routeKey: Parameters<typeof apiEvent>[0],
      params: Record<string, string>,
      body: unknown,
      fn: string,
      status = 200,
    ) => invokeOk(handler, apiEvent(routeKey, { siteId, ...params }, { claims, body }), fn, status);
    await call(
      env.handlers.catalog,
      'PUT /sites/{siteId}/products/{productId}',
      { productId: 'course' },
      { name: 'Course' },
      'catalog',
    );
    await call(
      env.handlers.catalog,
      'PUT /sites/{siteId}/offers/{offerId}',
      { offerId: 'monthly' },
      {
        name: 'Monthly',
        productIds: ['course'],
        price: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month' },
      },
      'catalog',
    );
    await call(
      env.handlers.catalog,
      'PUT /sites/{siteId}/customers/{customerId}',
      { customerId: 'cus-1' },
      { email: 'ada@example.com' },
      'catalog',
    );
    env.calls.take();
    for (let i = 0; i < PURCHASES; i++) {
      const currentPeriodEnd = new Date(Date.now() + (6 + i * 6) * 3_600_000).toISOString();
      await call(
        env.handlers.purchases,
        'POST /sites/{siteId}/purchases',
        {},
        { customerId: 'cus-1', offerId: 'monthly', currentPeriodEnd },
        'purchases',
        201,
      );
    }
    const grant = summarizeCalls(env.calls.take(), PURCHASES);

    const list = async (site: string, query: Record<string, string>) => {
      const event = apiEvent('GET /sites/{siteId}/upcoming', { siteId: site }, { claims: adminClaims(site) });
      const withQuery = {
        ...event,
        rawQueryString: new URLSearchParams(query).toString(),
        queryStringParameters: query,
      };
      const reply = await invokeOk(billing, withQuery, 'billing');
      return reply.body as { items: unknown[]; nextCursor: string | null };
    };
    const walk = async (site: string, query: Record<string, string>) => {
      const pages: { items: number; calls: ReturnType<typeof summarizeCalls> }[] = [];
      let cursor: string | null = null;
      do {
        env.calls.take();
        const page: { items: unknown[]; nextCursor: string | null } = await list(
          site,
          cursor ? { ...query, cursor } : query,
        );
        pages.push({ items: page.items.length, calls: summarizeCalls(env.calls.take(), 1) });
        cursor = page.nextCursor;
      } while (cursor !== null);
      return pages;
    };
    const busy = await walk(siteId, { limit: String(PAGE) });
    const empty = await walk(`bench-empty-${Date.now().toString(36)}`, {
      from: new Date().toISOString(),
      to: new Date(Date.now() + 366 * 86_400_000).toISOString(),
      limit: String(PAGE),
    });
    env.calls.take();
    const due = await env.deps.purchases.listDue(new Date());
    const sweep = summarizeCalls(env.calls.take(), 1);
    if (due.nextCursor !== null) throw new Error('the due index was expected to fit one page');

    const rows = [
      ...busy.map((p, i) => [
        `30 days, ${PURCHASES} renewals: page ${i + 1}`,
        String(p.items),
        fmt.count(p.calls.reads),
        fmt.count(p.calls.writes),
        p.calls.breakdown,
      ]),
      [
        `empty site, 366 days: ${empty.length} pages, each`,
        '0',
        fmt.count(Math.max(...empty.map((p) => p.calls.reads))),
        fmt.count(Math.max(...empty.map((p) => p.calls.writes))),
        empty[0]!.calls.breakdown,
      ],
      [
        'sweeper: one pass of the due index (24 h lookback, nothing due)',
        String(due.items.length),
        fmt.count(sweep.reads),
        fmt.count(sweep.writes),
        sweep.breakdown,
      ],
      [
        'grant of a subscription (its renewal rides on the purchase item)',
        '—',
        fmt.count(grant.reads),
        fmt.count(grant.writes),
        grant.breakdown,
      ],
    ];
    const maxReads = Math.max(...[...busy, ...empty].map((p) => p.calls.reads));
    const budgets: Budget[] = [
      {
        name: 'upcoming: Queries per page (≤ day partitions a page walks + 1)',
        measured: maxReads,
        limit: UPCOMING_DAYS_PER_PAGE + 1,
        format: fmt.count,
      },
      {
        name: 'upcoming: writes per page',
        measured: Math.max(...busy.map((p) => p.calls.writes)),
        limit: 0,
        format: fmt.count,
      },
      {
        name: 'grant: transactional writes per request (index entries ride along)',
        measured: grant.transactionalWrites,
        limit: 1,
        format: fmt.count,
      },
    ];
    return {
      tables: [
        {
          headers: ['request', 'items', 'reads', 'writes', 'per request, by command'],
          align: ['left', 'right', 'right', 'right', 'left'],
          rows,
        },
      ],
      budgets,
      notes: [
        `a calendar page queries one partition per UTC day it walks (at most ${UPCOMING_DAYS_PER_PAGE}), and stops as soon as the page is full; its cursor resumes inside the day`,
        'the sweeper queries every shard of every hour of its lookback (8 in parallel per hour): 25 hours × 8 shards when nothing is due',
      ],
    };
  },
};
