import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../shared/store/keys.ts';
import type { BenchEnvironment } from './environment.ts';
import { apiEvent, invoke } from './lambda.ts';
import { fmt } from './report.ts';
import { requireEnvironment, type Section } from './section.ts';
import { type Nanos, summarizeMs, timed } from './stats.ts';

const WARM_UP = 50;
const N = 500;
const ROUTE = 'GET /sites/{siteId}/customers/{customerId}/access/{productId}' as const;

/**
 * DESIGN §4: handler overhead over the raw DynamoDB Local call it makes, at most 1.5× (ratio of medians).
 * The handler runs in-process with a full API Gateway v2 event; the raw call is the access check's Query
 * on the same document client. The two alternate (and swap order every round) so that drift in DynamoDB
 * Local or the JIT affects both alike.
 */
export const accessLatency: Section = {
  id: 'access-latency',
  title: `a. Access check latency: handler vs raw DynamoDB Local Query (N=${N}, warm-up ${WARM_UP})`,
  needsDynamo: true,
  async run(maybeEnv) {
    const env = requireEnvironment(maybeEnv, this.id);
    const { handler, raw } = accessCheckCalls(env);
    await handler();
    await raw();

    const handlerSamples: Nanos[] = [];
    const rawSamples: Nanos[] = [];
    for (let i = 0; i < WARM_UP + N; i++) {
      const record = i >= WARM_UP;
      const runHandler = async () => {
        const { ns } = await timed(handler);
        if (record) handlerSamples.push(ns);
      };
      const runRaw = async () => {
        const { ns } = await timed(raw);
        if (record) rawSamples.push(ns);
      };
      if (i % 2 === 0) {
        await runHandler();
        await runRaw();
      } else {
        await runRaw();
        await runHandler();
      }
    }
    env.calls.take();

    const h = summarizeMs(handlerSamples);
    const r = summarizeMs(rawSamples);
    const ratio = h.median / r.median;
    const row = (name: string, s: typeof h) => [
      name,
      String(s.n),
      fmt.ms(s.median),
      fmt.ms(s.p90),
      fmt.ms(s.p99),
      fmt.ms(s.mean),
      fmt.ms(s.min),
      fmt.ms(s.max),
    ];
    return {
      tables: [
        {
          headers: ['path', 'n', 'median', 'p90', 'p99', 'mean', 'min', 'max'],
          rows: [
            row('access handler (in-process)', h),
            row('raw Query (document client)', r),
            ['overhead (difference of medians)', '', fmt.ms(h.median - r.median), '', '', '', '', ''],
          ],
        },
      ],
      budgets: [{ name: 'access handler / raw Query (medians)', measured: ratio, limit: 1.5, format: fmt.ratio }],
      notes: [`ratio of medians ${fmt.ratio(ratio)}; p99 ratio ${fmt.ratio(h.p99 / r.p99)} (informational)`],
    };
  },
};

/** The two calls being compared. Each checks its answer so a failing call cannot pass as a fast one. */
function accessCheckCalls(env: BenchEnvironment) {
  const { siteId, customerId, productId, claims, purchaseIds } = env.fixture;
  const handler = async () => {
    const reply = await invoke(
      env.handlers.access,
      apiEvent(ROUTE, { siteId, customerId, productId }, { claims }),
      'access',
    );
    if (reply.status !== 200 || (reply.body as { hasAccess?: boolean }).hasAccess !== true) {
      throw new Error(`access check failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    }
  };
  // The same request Store.getCustomerPurchases sends.
  const query = {
    TableName: env.tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: {
      ':pk': keys.customerPartition(siteId, customerId),
      ':prefix': keys.customerPurchasePrefix,
    },
    ConsistentRead: true,
  };
  const raw = async () => {
    const result = await env.db.send(new QueryCommand(query));
    if (result.Items?.length !== purchaseIds.length) {
      throw new Error(`raw Query returned ${result.Items?.length} items, expected ${purchaseIds.length}`);
    }
  };
  return { handler, raw };
}
