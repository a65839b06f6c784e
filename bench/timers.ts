import { type LocalRuntime, startLocalRuntime } from '../infra/local/runtime.ts';
import type { FiredTimer } from '../infra/local/scheduler.ts';
import { timerName } from '../shared/ports/scheduler.ts';
import { type Budget, fmt } from './report.ts';
import { requireEnvironment, type Section } from './section.ts';
import { medianOfSorted, percentileOfSorted } from './stats.ts';

const SUBSCRIPTIONS = 20;
/** Cancellation dates are spread evenly over now + 1 s … now + 3 s. */
const FIRST_DUE_MS = 1_000;
const LAST_DUE_MS = 3_000;
const WAIT_LIMIT_MS = 15_000;
const BUDGET_MS = 1_000;
const TABLE = 'membergate-bench-timers';

/**
 * DESIGN §4: local timers fire within 1 s of their due time. Starts the real local runtime (what `npm start`
 * runs: HTTP server, LocalScheduler persisting timers in DynamoDB, timer function, sweeper) on the bench's
 * DynamoDB Local with a table of its own, drives it over HTTP, and reads the scheduler's fired records.
 * Lateness is measured two ways:
 * - fired: the scheduler's record, taken when the timer function has finished (state written), minus
 *   the due time. This is what the budget checks.
 * - applied: the `at` of the `cancellation.effective` history entry (the timer function's clock when it
 *   started) minus the due time.
 */
export const timers: Section = {
  id: 'timers',
  title: `e. Local timers: ${SUBSCRIPTIONS} cancellations dated now + ${FIRST_DUE_MS / 1000}…${LAST_DUE_MS / 1000} s through the local runtime`,
  needsDynamo: true,
  async run(maybeEnv) {
    const env = requireEnvironment(maybeEnv, this.id);
    // The timer function logs a line per firing at info; the table is what matters here.
    const logLevel = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'warn';
    let runtime: LocalRuntime | null = null;
    try {
      runtime = await startLocalRuntime({ port: 0, dynamodbEndpoint: env.endpoint, tableName: TABLE });
      return await measure(runtime);
    } finally {
      await runtime?.stop();
      if (logLevel === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = logLevel;
    }
  },
};

async function measure(runtime: LocalRuntime) {
  const errors: string[] = [];
  const siteId = `bench-timers-${Date.now().toString(36)}`;
  const email = 'timers-owner@example.com';
  const client = httpClient(runtime.url);
  const { token } = (await client.ok('POST', '/local/tokens', undefined, { role: 'admin', siteId, email }, 201)) as {
    token: string;
  };
  const site = `/sites/${siteId}`;
  await client.ok('PUT', `${site}/products/course`, token, { name: 'Course' });
  await client.ok('PUT', `${site}/offers/monthly`, token, {
    name: 'Monthly',
    productIds: ['course'],
    price: { type: 'subscription', amount: 1900, currency: 'usd', interval: 'month' },
  });
  const currentPeriodEnd = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const purchases: { purchaseId: string; customerId: string }[] = [];
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const customerId = `cus-${i}`;
    await client.ok('PUT', `${site}/customers/${customerId}`, token, { email: `m${i}@example.com`, name: `M ${i}` });
    const purchase = (await client.ok(
      'POST',
      `${site}/purchases`,
      token,
      { customerId, offerId: 'monthly', currentPeriodEnd },
      201,
    )) as { purchaseId: string };
    purchases.push({ purchaseId: purchase.purchaseId, customerId });
  }

  const due = new Map<string, { purchaseId: string; customerId: string; dueAt: string }>();
  for (const [i, { purchaseId, customerId }] of purchases.entries()) {
    const offset = FIRST_DUE_MS + Math.round(((LAST_DUE_MS - FIRST_DUE_MS) * i) / (SUBSCRIPTIONS - 1));
    const date = new Date(Date.now() + offset).toISOString();
    const view = (await client.ok('POST', `${site}/purchases/${purchaseId}/cancellation`, token, {
      when: 'date',
      date,
    })) as { status: string; cancellation: { effectiveAt: string } | null };
    if (view.status !== 'pending_cancellation') errors.push(`${purchaseId}: status ${view.status} after cancel`);
    due.set(timerName({ siteId, purchaseId, purpose: 'cancellation' }), {
      purchaseId,
      customerId,
      dueAt: view.cancellation?.effectiveAt ?? date,
    });
  }

  // Wait for the scheduler to report every one of them (fired or dead-lettered), without any other call.
  const deadline = Date.now() + LAST_DUE_MS + WAIT_LIMIT_MS;
  const records = new Map<string, FiredTimer>();
  while (records.size < due.size && Date.now() < deadline) {
    for (const record of runtime.scheduler.fired) if (due.has(record.name)) records.set(record.name, record);
    if (records.size < due.size) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const missing = [...due.keys()].filter((name) => !records.has(name));
  if (missing.length > 0) {
    errors.push(
      `${missing.length} of ${due.size} timers had not fired ${WAIT_LIMIT_MS / 1000} s after the last due time`,
    );
  }
  const failed = [...records.values()].filter((record) => !record.ok || record.attempts > 1);
  for (const record of failed) {
    errors.push(`timer ${record.name}: ok=${record.ok}, attempts=${record.attempts} ${record.error ?? ''}`.trim());
  }

  // Every purchase must have ended canceled, its grant Revoked, access false; lateness as the history shows it.
  const appliedLateMs: number[] = [];
  let canceled = 0;
  for (const { purchaseId, customerId, dueAt } of due.values()) {
    const view = (await client.ok('GET', `${site}/purchases/${purchaseId}`, token)) as {
      status: string;
      products: { label: string | null }[];
    };
    const access = (await client.ok('GET', `${site}/customers/${customerId}/access/course`, token)) as {
      hasAccess: boolean;
    };
    const history = (await client.ok('GET', `${site}/purchases/${purchaseId}/history`, token)) as {
      items: { type: string; at: string; details: { effectiveAt?: string } }[];
    };
    const effective = history.items.find((entry) => entry.type === 'cancellation.effective');
    const revoked = view.products.every((grant) => grant.label === 'Revoked');
    if (view.status === 'canceled' && revoked && !access.hasAccess && effective) canceled++;
    else {
      errors.push(
        `${purchaseId}: status ${view.status}, labels ${view.products.map((g) => g.label).join(',')}, ` +
          `hasAccess ${access.hasAccess}, cancellation.effective ${effective ? 'present' : 'missing'}`,
      );
    }
    if (effective) appliedLateMs.push(Date.parse(effective.at) - Date.parse(dueAt));
  }

  const firedLateMs = [...records.values()].map((record) => record.lateMs);
  const stats = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0
      ? null
      : {
          n: sorted.length,
          min: sorted[0]!,
          median: medianOfSorted(sorted),
          p99: percentileOfSorted(sorted, 99),
          max: sorted[sorted.length - 1]!,
        };
  };
  const fired = stats(firedLateMs);
  const applied = stats(appliedLateMs);
  const row = (name: string, s: ReturnType<typeof stats>) =>
    s
      ? [name, String(s.n), fmt.ms(s.median), fmt.ms(s.p99), fmt.ms(s.max), fmt.ms(s.min)]
      : [name, '0', '-', '-', '-', '-'];
  const budgets: Budget[] = fired
    ? [
        {
          name: 'local timer lateness, max (fired − due)',
          measured: fired.max,
          limit: BUDGET_MS,
          format: fmt.ms,
        },
      ]
    : [];
  if (!fired) errors.push('no timer fired: lateness not measured');
  return {
    tables: [
      {
        headers: ['lateness after the due time', 'n', 'median', 'p99', 'max', 'min'],
        rows: [
          row('fired: timer function done (scheduler record)', fired),
          row('applied: cancellation.effective `at` (history)', applied),
        ],
      },
    ],
    budgets,
    notes: [
      `${canceled}/${due.size} purchases ended canceled with every grant Revoked and no access; ` +
        `${records.size}/${due.size} timers fired, ${failed.length} needed a retry or were dead-lettered`,
      'fired = scheduler record taken after the timer function returned (includes its DynamoDB read and ' +
        'transactional write); a negative applied value would mean the handler ran early against its clock',
    ],
    errors,
  };
}

function httpClient(base: string) {
  return {
    async ok(method: string, path: string, token: string | undefined, body?: unknown, expected = 200) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status !== expected) {
        throw new Error(`${method} ${path} → ${response.status} (expected ${expected}): ${text}`);
      }
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    },
  };
}
