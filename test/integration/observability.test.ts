import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { Context, SQSRecord } from 'aws-lambda';
import Stripe from 'stripe';

// As on Lambda: no development mode (so one JSON object per line, and metrics on) at INFO, in an on-demand
// execution environment (the only kind Powertools reports cold starts for). The logger and the metrics read
// these once, when their modules load: hence the dynamic imports below, after them.
process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
process.env.POWERTOOLS_DEV = 'false';
process.env.LOG_LEVEL = 'INFO';
process.env.POWERTOOLS_SERVICE_NAME = 'observability-test';
delete process.env.POWERTOOLS_METRICS_DISABLED;

const { apiEvent } = await import('../../bench/lambda.ts');
const { lambdaContext } = await import('../../infra/local/gateway.ts');
const { createAccessHandler } = await import('../../functions/access/app.ts');
const { createPurchasesHandler } = await import('../../functions/purchases/app.ts');
const { createTimerHandler } = await import('../../functions/timer/app.ts');
const { createPageWorkerHandler } = await import('../../functions/bulk-worker/app.ts');
const { createStripeWebhookHandler } = await import('../../functions/webhook-stripe/app.ts');
const { createStripeTranslator } = await import('../../shared/adapters/stripe-webhook.ts');
const { admin, apiHarness, seedSite, uniqueId } = await import('../support/harness.ts');

type Line = Record<string, unknown>;

/** What an invocation wrote to stdout and stderr (where CloudWatch reads a Lambda's logs from), line by line. */
async function captured(invoke: () => Promise<unknown>): Promise<{ raw: string; lines: Line[] }> {
  const written: string[] = [];
  const keep = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(keep);
  jest.spyOn(process.stderr, 'write').mockImplementation(keep);
  try {
    await invoke();
  } finally {
    jest.restoreAllMocks();
  }
  const raw = written.join('');
  // Each line must be one whole JSON object: that is what CloudWatch and Logs Insights parse.
  const lines = raw
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Line);
  return { raw, lines };
}

/** Seeding runs handlers too; their lines are not what a test looks at, nor worth printing. */
async function quietly<T>(act: () => Promise<T>): Promise<T> {
  let result: T | undefined;
  await captured(async () => {
    result = await act();
  });
  return result as T;
}

interface EmfLine {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [field: string]: unknown;
}

/** The embedded-metric-format line that carries `metric`, with its dimensions and value. */
function metricLine(lines: Line[], metric: string): EmfLine | undefined {
  return lines.find(
    (line): line is EmfLine =>
      '_aws' in line && (line as EmfLine)._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === metric)),
  );
}

function logLine(lines: Line[], message: string): Line | undefined {
  return lines.find((line) => line.message === message);
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('a Lambda invocation, as CloudWatch receives it', () => {
  // First: the first invocation of these modules is the cold start.
  it('logs one JSON object per line, with level, message, request id, cold start and the request’s site', async () => {
    const api = apiHarness();
    const siteId = uniqueId('site');
    const context: Context = lambdaContext('access');
    const event = apiEvent(
      'GET /sites/{siteId}/customers/{customerId}/access/{productId}',
      { siteId, customerId: 'cus-1', productId: 'course' },
      { claims: admin(siteId) },
    );

    const { lines } = await captured(() => createAccessHandler(api.deps)(event, context));

    expect(logLine(lines, 'request handled')).toMatchObject({
      level: 'INFO',
      function_request_id: context.awsRequestId,
      function_name: 'access',
      cold_start: true,
      service: 'observability-test',
      siteId,
      routeKey: 'GET /sites/{siteId}/customers/{customerId}/access/{productId}',
      statusCode: 200,
    });
    expect(metricLine(lines, 'ColdStart')?._aws.CloudWatchMetrics[0]?.Namespace).toBe('membergate');
  });

  it('counts a revocation by actor type as an EMF metric, and logs the purchase without the bearer token', async () => {
    const api = apiHarness();
    const { siteId, purchaseId, claims } = await quietly(() => seedSite(api));
    const context = lambdaContext('purchases');
    const event = apiEvent(
      'POST /sites/{siteId}/purchases/{purchaseId}/access/revoke',
      { siteId, purchaseId },
      { claims, body: { productIds: ['course'] } },
    );

    const { raw, lines } = await captured(() => createPurchasesHandler(api.deps)(event, context));

    const metric = metricLine(lines, 'AccessRevoked');
    expect(metric?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'membergate',
      Dimensions: [expect.arrayContaining(['service', 'actorType'])],
      Metrics: [{ Name: 'AccessRevoked', Unit: 'Count' }],
    });
    expect(metric).toMatchObject({ service: 'observability-test', actorType: 'admin', AccessRevoked: 1 });
    expect(logLine(lines, 'request handled')).toMatchObject({
      function_request_id: context.awsRequestId,
      cold_start: false,
      siteId,
      purchaseId,
    });
    expect(raw).not.toContain(String(event.headers.authorization).replace('Bearer ', ''));
  });

  it('forgets one request’s keys before the next: no purchase of the last request on this one’s lines', async () => {
    const api = apiHarness();
    const seeded = await quietly(() => seedSite(api));
    await captured(() =>
      createPurchasesHandler(api.deps)(
        apiEvent(
          'GET /sites/{siteId}/purchases/{purchaseId}',
          { siteId: seeded.siteId, purchaseId: seeded.purchaseId },
          { claims: seeded.claims },
        ),
        lambdaContext('purchases'),
      ),
    );
    const otherSite = uniqueId('site');

    const { lines } = await captured(() =>
      createAccessHandler(api.deps)(
        apiEvent(
          'GET /sites/{siteId}/customers/{customerId}/access',
          { siteId: otherSite, customerId: 'cus-1' },
          { claims: admin(otherSite) },
        ),
        lambdaContext('access'),
      ),
    );

    const line = logLine(lines, 'request handled');
    expect(line).toMatchObject({ siteId: otherSite });
    expect(line).not.toHaveProperty('purchaseId');
  });

  it('counts a forged webhook as rejected, logging neither its signature nor its body', async () => {
    const api = apiHarness();
    const handler = createStripeWebhookHandler(api.deps, createStripeTranslator({ webhookSecret: 'whsec_observe' }));
    const event = apiEvent('POST /webhooks/stripe', {}, { body: { id: 'evt_forged_body', object: 'event' } });
    event.headers['stripe-signature'] = 't=1,v1=forgedsignature';

    const { raw, lines } = await captured(() => handler(event, lambdaContext('webhook-stripe')));

    expect(metricLine(lines, 'WebhookDelivery')).toMatchObject({ processor: 'stripe', outcome: 'rejected' });
    // Exactly the dimension set the stack's signature-failure alarm names (infra/constructs/operations.ts).
    expect(metricLine(lines, 'WebhookDelivery')?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', 'processor', 'outcome'],
    ]);
    expect(logLine(lines, 'request refused')).toMatchObject({ statusCode: 400, errorCode: 'invalid_request' });
    expect(raw).not.toContain('forgedsignature');
    expect(raw).not.toContain('evt_forged_body');
  });

  it('counts a verified webhook of a type membergate does not use as ignored, logging its event id', async () => {
    const api = apiHarness();
    const secret = 'whsec_observe';
    const handler = createStripeWebhookHandler(api.deps, createStripeTranslator({ webhookSecret: secret }));
    const eventId = uniqueId('evt');
    const body = { id: eventId, object: 'event', type: 'product.created', created: 1, data: { object: {} } };
    const event = apiEvent('POST /webhooks/stripe', {}, { body });
    event.headers['stripe-signature'] = Stripe.webhooks.generateTestHeaderString({
      payload: JSON.stringify(body),
      secret,
      timestamp: Math.floor(api.clock.now().getTime() / 1000),
    });

    const { lines } = await captured(() => handler(event, lambdaContext('webhook-stripe')));

    expect(metricLine(lines, 'WebhookDelivery')).toMatchObject({ processor: 'stripe', outcome: 'ignored' });
    expect(logLine(lines, 'request handled')).toMatchObject({ eventId, statusCode: 200 });
  });

  it('counts the purchases each job page settled, by job and outcome (the jobs’ progress); a page not counted adds none', async () => {
    const results = [{ counted: { done: 3, skipped: 1, failed: 0 } }, 'already_counted'];
    const worker = createPageWorkerHandler('bulk job page', 'bulk_revocation', async () => results.shift()!);
    const message = (messageId: string) => ({ messageId, body: '{}' }) as SQSRecord;

    const { lines } = await captured(() => worker({ Records: [message('m-1'), message('m-2')] }));

    const jobLines = lines.filter((line): line is EmfLine => metricLine([line], 'JobPurchases') !== undefined);
    expect(jobLines.map((line) => [line.job, line.outcome, line.JobPurchases])).toEqual([
      ['bulk_revocation', 'done', 3],
      ['bulk_revocation', 'skipped', 1],
    ]);
    expect(jobLines[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'job', 'outcome']]);
  });

  it('measures how late a timer ran, and logs it with the timer’s name and purchase', async () => {
    const api = apiHarness();
    const { siteId, purchaseId } = await quietly(() => seedSite(api));
    const dueAt = new Date(api.clock.now().getTime() - 1_500).toISOString();
    const context = lambdaContext('timer');

    const { lines } = await captured(() =>
      createTimerHandler(api.deps)({ siteId, purchaseId, purpose: 'cancellation', dueAt }, context),
    );

    expect(metricLine(lines, 'TimerLateness')).toMatchObject({ purpose: 'cancellation', TimerLateness: 1_500 });
    // The dimension set the dashboard's timer lateness lines name.
    expect(metricLine(lines, 'TimerLateness')?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'purpose']]);
    expect(logLine(lines, 'timer fired')).toMatchObject({
      function_request_id: context.awsRequestId,
      siteId,
      purchaseId,
      timer: expect.stringMatching(/^mg-cancellation-/),
    });
  });
});
