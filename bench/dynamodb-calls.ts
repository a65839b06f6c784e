import { type CallCounts, summarizeCalls } from './calls.ts';
import { apiEvent, invokeOk } from './lambda.ts';
import { type Budget, fmt } from './report.ts';
import { requireEnvironment, type Section } from './section.ts';

const ACCESS_CHECKS = 100;
const REVOKES = 25;
const EXPLAINS = 25;

/**
 * DESIGN §4: an access check is one DynamoDB read; a state change is one conditional (or transactional)
 * write. Counts the commands the shared client really sends (see CallCounter) while the handlers serve
 * requests: access checks (single product and whole library), and revoke, each followed by a resume so
 * that every revoke changes state (revoking what is already revoked writes nothing); then explain, now and as
 * of an instant before the revokes (replayed from the log).
 */
export const dynamodbCalls: Section = {
  id: 'dynamodb-calls',
  title: `b. DynamoDB calls per request (access checks ×${ACCESS_CHECKS}, revoke/resume ×${REVOKES}, explain ×${EXPLAINS})`,
  needsDynamo: true,
  async run(maybeEnv) {
    const env = requireEnvironment(maybeEnv, this.id);
    const { siteId, customerId, productId, claims, subscriptionPurchaseId: purchaseId } = env.fixture;
    env.calls.take();

    const measure = async (requests: number, request: (i: number) => Promise<unknown>) => {
      env.calls.take();
      for (let i = 0; i < requests; i++) await request(i);
      return summarizeCalls(env.calls.take(), requests);
    };

    const access = await measure(ACCESS_CHECKS, () =>
      invokeOk(
        env.handlers.access,
        apiEvent(
          'GET /sites/{siteId}/customers/{customerId}/access/{productId}',
          { siteId, customerId, productId },
          { claims },
        ),
        'access',
      ),
    );
    const library = await measure(ACCESS_CHECKS, () =>
      invokeOk(
        env.handlers.access,
        apiEvent('GET /sites/{siteId}/customers/{customerId}/access', { siteId, customerId }, { claims }),
        'access',
      ),
    );

    const body = { productIds: ['community'] };
    const revokeEvent = () =>
      apiEvent('POST /sites/{siteId}/purchases/{purchaseId}/access/revoke', { siteId, purchaseId }, { claims, body });
    const resumeEvent = () =>
      apiEvent('POST /sites/{siteId}/purchases/{purchaseId}/access/resume', { siteId, purchaseId }, { claims, body });
    const revokeCounts = new Map<string, number>();
    const resumeCounts = new Map<string, number>();
    // The purchase exists by now: an explain as of this instant replays its log up to here.
    const beforeRevokes = new Date().toISOString();
    env.calls.take();
    for (let i = 0; i < REVOKES; i++) {
      const revoked = await invokeOk(env.handlers.purchases, revokeEvent(), 'purchases');
      assertGrant(revoked.body, 'community', 'revoked');
      addCounts(revokeCounts, env.calls.take());
      const resumed = await invokeOk(env.handlers.purchases, resumeEvent(), 'purchases');
      assertGrant(resumed.body, 'community', 'active');
      addCounts(resumeCounts, env.calls.take());
    }
    const revoke = summarizeCalls(revokeCounts, REVOKES);
    const resume = summarizeCalls(resumeCounts, REVOKES);

    // Explain after the revoke/resume rounds, so the granting purchase has a real log (1 + 2×REVOKES events):
    // the customer's purchases (one Query) plus one Query per purchase granting the product (one here).
    const explainPath = 'GET /sites/{siteId}/customers/{customerId}/access/{productId}/explain' as const;
    const explainEvent = (at?: string) => {
      const event = apiEvent(explainPath, { siteId, customerId, productId }, { claims });
      if (at) Object.assign(event, { rawQueryString: `at=${at}`, queryStringParameters: { at } });
      return event;
    };
    // Each answer must name the one granting purchase, or the count would measure an empty answer.
    const explainOnce = async (at?: string) => {
      const reply = await invokeOk(env.handlers.access, explainEvent(at), 'access');
      const grants = (reply.body as { grants?: unknown[] }).grants;
      if (grants?.length !== 1) throw new Error(`explain should name one purchase: ${JSON.stringify(reply.body)}`);
    };
    const explain = await measure(EXPLAINS, () => explainOnce());
    const explainPast = await measure(EXPLAINS, () => explainOnce(beforeRevokes));

    const row = (name: string, requests: number, s: ReturnType<typeof summarizeCalls>) => [
      name,
      String(requests),
      fmt.count(s.reads),
      fmt.count(s.writes),
      fmt.count(s.other),
      fmt.count(s.total),
      s.breakdown,
    ];
    const budgets: Budget[] = [
      { name: 'access check (one product): reads/request', measured: access.reads, limit: 1, format: fmt.count },
      { name: 'access check (one product): writes/request', measured: access.writes, limit: 0, format: fmt.count },
      { name: 'access check (library): reads/request', measured: library.reads, limit: 1, format: fmt.count },
      // One read for the purchases, one per granting purchase's event log (a log past 1 MB takes more pages).
      { name: 'explain (one granting purchase): reads/request', measured: explain.reads, limit: 2, format: fmt.count },
      {
        name: 'explain (one granting purchase): writes/request',
        measured: explain.writes,
        limit: 0,
        format: fmt.count,
      },
      {
        name: 'revoke: non-transactional writes/request',
        measured: revoke.writes - revoke.transactionalWrites,
        limit: 0,
        format: fmt.count,
      },
      {
        name: 'revoke: transactional writes/request',
        measured: revoke.transactionalWrites,
        limit: 1,
        format: fmt.count,
      },
    ];
    return {
      tables: [
        {
          headers: ['request', 'n', 'reads', 'writes', 'other', 'total', 'per request, by command'],
          align: ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
          rows: [
            row('GET .../access/{productId}', ACCESS_CHECKS, access),
            row('GET .../access (library)', ACCESS_CHECKS, library),
            row('POST .../access/revoke', REVOKES, revoke),
            row('POST .../access/resume', REVOKES, resume),
            row('GET .../access/{productId}/explain', EXPLAINS, explain),
            row('GET .../explain?at=(before the revokes)', EXPLAINS, explainPast),
          ],
        },
      ],
      budgets,
      notes: [
        'counted per client send (initialize step), so SDK retries are not included; reads = Get/Query/Scan/BatchGet/TransactGet; other = non-DynamoDB calls (Scheduler)',
      ],
    };
  },
};

function assertGrant(view: unknown, productId: string, access: 'active' | 'revoked') {
  const grant = (view as { products?: { productId: string; access: string }[] }).products?.find(
    (g) => g.productId === productId,
  );
  if (grant?.access !== access) throw new Error(`expected ${productId} to be ${access}: ${JSON.stringify(view)}`);
}

function addCounts(into: Map<string, number>, counts: CallCounts) {
  for (const [name, count] of counts) into.set(name, (into.get(name) ?? 0) + count);
}
