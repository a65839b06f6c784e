import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createPublisherHandler } from '../../functions/publisher/app.ts';
import { createSweeperHandler } from '../../functions/sweeper/app.ts';
import { createTimerHandler } from '../../functions/timer/app.ts';
import { processorRegistry } from '../../shared/adapters/processors.ts';
import { systemResolver } from '../../shared/adapters/webhook-sender.ts';
import { type Clock, systemClock } from '../../shared/domain/time.ts';
import { toErrorResponse } from '../../shared/http/errors.ts';
import { parseInput } from '../../shared/http/validation.ts';
import { createDocumentClient } from '../../shared/store/client.ts';
import { createDynamoStores, createDynamoWebhookStore } from '../../shared/store/index.ts';
import type { Dependencies } from '../../shared/usecases/deps.ts';
import { newId } from '../../shared/wiring.ts';
import { LocalScheduler } from './scheduler.ts';

/** The stack's EventBridge rule runs the sweeper every 5 minutes; locally every 30 s is cheap. */
const SWEEP_EVERY_MS = 30_000;

import { reconciliationThrottle } from '../../shared/wiring.ts';
import { type LocalBulkJobs, type LocalBulkJobsOptions, startLocalBulkJobs } from './bulk-jobs.ts';
import { serveDocs } from './docs.ts';
import { ensureTable, startDynamoDbLocal } from './dynamodb.ts';
import { LocalEventBus } from './event-bus.ts';
import { LOCAL_API_FUNCTIONS, type LocalWiring } from './functions.ts';
import {
  buildEvent,
  compileRoutes,
  type LambdaHandler,
  lambdaContext,
  matchRoute,
  readRequestBody,
  send,
  sendBodyTooLarge,
  sendResult,
} from './gateway.ts';
import { type LocalProcessors, startLocalProcessors } from './processors.ts';
import { type LocalReconciliations, startLocalReconciliations } from './reconciliations.ts';
import { LocalScheduleStore } from './schedule-store.ts';
import { LocalStreamPoller } from './stream-poller.ts';
import { LocalTokenIssuer, tokenRequest } from './tokens.ts';
import { type LocalWebhooks, startLocalWebhooks } from './webhooks.ts';

export interface LocalRuntimeOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Keep DynamoDB Local's data in this folder across restarts; in memory when absent. */
  dataDir?: string | undefined;
  /** Use an already running DynamoDB (tests share one); otherwise DynamoDB Local is started and stopped here. */
  dynamodbEndpoint?: string | undefined;
  tableName?: string;
  clock?: Clock;
  /** Where processor credentials are read from (default: process.env); none → local sandboxes. */
  env?: Record<string, string | undefined>;
  /**
   * Tests: wraps each API function's handler, by function name. The fuzz plants a bug through it (a handler
   * that throws on an empty string) to prove that it finds and shrinks one.
   */
  wrapHandler?: (functionName: string, handler: LambdaHandler) => LambdaHandler;
  /** Bulk jobs' queue settings (tests: a short visibility timeout, a fault-injecting worker). */
  bulkJobs?: Pick<LocalBulkJobsOptions, 'visibilityTimeoutMs' | 'workerDeps'>;
  /** Reconciliations' queue settings (tests: a short visibility timeout). */
  reconciliations?: { visibilityTimeoutMs?: number };
}

export interface LocalRuntime {
  url: string;
  dynamodbEndpoint: string;
  tableName: string;
  deps: Dependencies;
  /** The runtime's DynamoDB client (the stores' and the local Scheduler's), for tools that observe its calls. */
  documentClient: DynamoDBDocumentClient;
  tokens: LocalTokenIssuer;
  scheduler: LocalScheduler;
  processors: LocalProcessors;
  /** The local event bus: what the outbox publisher published (`GET /local/events`); `subscribe` for local rules. */
  events: LocalEventBus;
  /** Feeds the table's stream to the publisher, as Lambda's event source mapping does on AWS. */
  publisher: LocalStreamPoller;
  /** Integrator webhooks: the local bus → fan-out queue → delivery queue, run by the Lambdas' handlers. */
  webhooks: LocalWebhooks;
  /** Bulk revocation jobs: the local job queue (persisted in DynamoDB Local) run by the bulk-worker handler. */
  bulkJobs: LocalBulkJobs;
  /** Reconciliations: the local page queue run by the reconciliation-worker handler against the sandboxes. */
  reconciliations: LocalReconciliations;
  /** How many persisted timers were re-armed (or fired, when overdue) at start-up. */
  schedulesAtStart: number;
  stop(): Promise<void>;
}

/**
 * The local stand-in for API Gateway + Lambda + Cognito: serves every route of the route list by building
 * payload-2.0 events for the same handler code, verifies bearer tokens as the JWT authorizer would, and
 * adds the local-only `/local/*` routes.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const clock = options.clock ?? systemClock;
  const tableName = options.tableName ?? 'membergate';
  const dynamo = options.dynamodbEndpoint ? null : await startDynamoDbLocal({ dataDir: options.dataDir });
  const dynamodbEndpoint = options.dynamodbEndpoint ?? dynamo!.endpoint;
  let server: Server | null = null;
  let processors: LocalProcessors | null = null;
  let publisher: LocalStreamPoller | null = null;
  let webhooks: LocalWebhooks | null = null;
  let bulkJobs: LocalBulkJobs | null = null;
  let reconciliations: LocalReconciliations | null = null;
  // The webhook workers' writes (queue messages, jobs) are the system's, not a request's: a client of their own.
  const webhookDb = createDocumentClient({ endpoint: dynamodbEndpoint });
  try {
    await ensureTable(dynamodbEndpoint, tableName);
    const db = createDocumentClient({ endpoint: dynamodbEndpoint });
    const scheduler = new LocalScheduler(new LocalScheduleStore(db, tableName), clock);
    processors = await startLocalProcessors(options.env ?? process.env);
    const deps: Dependencies = {
      ...createDynamoStores(db, tableName),
      clock,
      newId,
      scheduler,
      processors: processorRegistry(processors.settings),
    };
    // Bulk jobs: the worker's writes are the system's, like the webhook workers' (their own client).
    bulkJobs = startLocalBulkJobs({
      db: webhookDb,
      tableName,
      clock,
      deps: { ...deps, ...createDynamoStores(webhookDb, tableName) },
      ...options.bulkJobs,
    });
    reconciliations = startLocalReconciliations({
      db: webhookDb,
      tableName,
      clock,
      deps: { ...deps, ...createDynamoStores(webhookDb, tableName) },
      throttle: reconciliationThrottle(processors.settings),
      ...options.reconciliations,
    });
    const wiring: LocalWiring = {
      deps,
      bulk: { ...bulkJobs.deps, ...deps },
      reconciliations: { ...reconciliations.deps, ...deps },
      stripeWebhooks: processors.stripeWebhooks,
      payPalWebhooks: processors.payPalWebhooks,
      payPalRedirect: processors.payPalRedirect,
      // Locally, endpoints on this machine (http://localhost, http://127.0.0.1) are accepted; on AWS never.
      webhookEndpoints: {
        webhooks: createDynamoWebhookStore(db, tableName),
        clock,
        resolveHost: systemResolver,
        allowLocalHttp: true,
        randomBytes,
      },
    };
    // The timer and sweeper functions, run by the local Scheduler and by an interval like the EventBridge rule.
    scheduler.setTarget(createTimerHandler(deps));
    const sweepHandler = createSweeperHandler(deps);
    // One sweep at a time, and `stop()` waits for the one in flight before closing DynamoDB.
    let sweeping: Promise<unknown> = Promise.resolve();
    const sweep = () => {
      sweeping = sweeping.then(() => sweepHandler()).catch((error) => console.error('sweep failed', error));
    };
    // The outbox publisher on DynamoDB Local's stream, publishing to the local bus (DESIGN.md §5).
    const events = new LocalEventBus();
    publisher = new LocalStreamPoller({
      endpoint: dynamodbEndpoint,
      tableName,
      handler: createPublisherHandler(events),
    });
    await publisher.start();
    // Integrator webhooks, fed by the local bus as the EventBridge rule feeds them on AWS (DESIGN.md §5).
    webhooks = startLocalWebhooks({
      db: webhookDb,
      tableName,
      clock,
      webhooks: createDynamoWebhookStore(webhookDb, tableName),
      bus: events,
    });
    webhooks.start();
    bulkJobs.start();
    reconciliations.start();
    const overdueAtStart = await scheduler.start();
    const sweeper = setInterval(sweep, SWEEP_EVERY_MS);
    sweeper.unref();
    sweep();
    const handlers = new Map<string, LambdaHandler>(
      Object.entries(LOCAL_API_FUNCTIONS).map(([name, create]) => {
        const handler = create(wiring);
        return [name, options.wrapHandler ? options.wrapHandler(name, handler) : handler];
      }),
    );
    const tokens = await LocalTokenIssuer.create();
    const compiled = compileRoutes();

    server = createServer(async (request, response) => {
      try {
        const url = new URL(request.url ?? '/', `http://127.0.0.1:${(request.socket.localPort ?? 3000).toString()}`);
        const method = request.method ?? 'GET';
        const body = await readRequestBody(request);
        if (body === 'too_large') {
          sendBodyTooLarge(response);
          return;
        }
        if (url.pathname.startsWith('/local/')) {
          await serveLocalRoute(method, url, body, response, request.headers);
          return;
        }
        if (await serveDocs(method, url.pathname, response)) return;
        const match = matchRoute(compiled, method, url.pathname);
        if (!match) {
          send(response, 404, {
            error: { code: 'not_found', message: `no route ${method} ${url.pathname}`, details: [] },
          });
          return;
        }
        let claims: Record<string, string> | null = null;
        if (match.route.access === 'staff' || match.route.access === 'customer') {
          claims = await authorizerClaims(request.headers.authorization);
          if (!claims) {
            send(response, 401, {
              error: { code: 'unauthorized', message: 'a valid bearer token is required', details: [] },
            });
            return;
          }
        }
        const event = buildEvent({ request, url, body, key: match.key, params: match.params, claims, now: clock() });
        const handler = handlers.get(match.route.fn)!;
        sendResult(response, await handler(event, lambdaContext(match.route.fn)));
      } catch (error) {
        const { statusCode, body } = toErrorResponse(error);
        if (statusCode >= 500) console.error(error);
        send(response, statusCode, body);
      }
    });

    async function authorizerClaims(header: string | undefined): Promise<Record<string, string> | null> {
      const token = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1];
      if (!token) return null;
      const payload = await tokens.verify(token.trim(), clock());
      if (!payload) return null;
      // The HTTP API hands claims to Lambda as strings.
      return Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, String(value)]));
    }

    async function serveLocalRoute(
      method: string,
      url: URL,
      body: Buffer,
      response: import('node:http').ServerResponse,
      headers: import('node:http').IncomingHttpHeaders,
    ) {
      if (method === 'POST' && url.pathname === '/local/tokens') {
        let parsed: unknown;
        try {
          parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
        } catch {
          send(response, 400, { error: { code: 'invalid_json', message: 'the body is not valid JSON', details: [] } });
          return;
        }
        const input = parseInput(tokenRequest, parsed);
        send(response, 201, { token: await tokens.mint(input, clock()) });
        return;
      }
      const deliver = /^\/local\/webhooks\/(stripe|paypal)$/.exec(url.pathname);
      if (method === 'POST' && deliver) {
        // Signs the posted event as the processor would and delivers it to the real webhook route.
        const processor = deliver[1] as 'stripe' | 'paypal';
        const rawBody = body.toString('utf8');
        const sign = processor === 'stripe' ? processors!.signStripe : processors!.signPayPal;
        if (!sign) {
          send(response, 409, {
            error: {
              code: 'conflict',
              message: 'a real PayPal certificate is configured; local signing is off',
              details: [],
            },
          });
          return;
        }
        if (processor === 'stripe') processors!.observeStripeEvent(rawBody);
        const forwarded = await fetch(`${url.origin.replace('localhost', '127.0.0.1')}/webhooks/${processor}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...sign(rawBody) },
          body: rawBody,
        });
        response.writeHead(forwarded.status, { 'content-type': 'application/json' });
        response.end(await forwarded.text());
        return;
      }
      if (method === 'GET' && url.pathname === '/local/timers') {
        send(response, 200, {
          pending: scheduler.pending(),
          fired: scheduler.fired,
          deadLetters: scheduler.deadLetters,
        });
        return;
      }
      if (method === 'GET' && url.pathname === '/local/events') {
        const purchaseId = url.searchParams.get('purchaseId') ?? undefined;
        const siteId = url.searchParams.get('siteId') ?? undefined;
        send(response, 200, { items: events.events({ purchaseId, siteId }) });
        return;
      }
      if (method === 'GET' && url.pathname === '/local/webhooks') {
        // The two local queues: what waits (retries included), what is in flight, what was dead-lettered.
        send(response, 200, {
          fanout: { ...(await webhooks!.fanoutQueue.stats()), deadLetters: webhooks!.fanoutQueue.deadLetters },
          delivery: { ...(await webhooks!.deliveryQueue.stats()), deadLetters: webhooks!.deliveryQueue.deadLetters },
        });
        return;
      }
      if (method === 'GET' && url.pathname === '/local/bulk-jobs') {
        // The job queue: pages waiting, in flight, dead-lettered.
        send(response, 200, { ...(await bulkJobs!.queue.stats()), deadLetters: bulkJobs!.queue.deadLetters });
        return;
      }
      if (method === 'GET' && url.pathname === '/local/reconciliations') {
        // The reconciliation page queue: pages waiting, in flight, dead-lettered.
        send(response, 200, {
          ...(await reconciliations!.queue.stats()),
          deadLetters: reconciliations!.queue.deadLetters,
        });
        return;
      }
      const sandbox = /^\/local\/sandbox\/(stripe|paypal)(\/.*)$/.exec(url.pathname);
      if (sandbox) {
        // A change made only at the processor (as in its dashboard, with no webhook): forwarded to the sandbox.
        const base = processors!.sandboxes[sandbox[1] as 'stripe' | 'paypal'];
        if (!base) {
          send(response, 409, {
            error: { code: 'conflict', message: 'real processor credentials are configured; no sandbox', details: [] },
          });
          return;
        }
        const forwarded = await forwardToSandbox(base, sandbox[2]!, url.search, method, headers, body);
        response.writeHead(forwarded.status, { 'content-type': 'application/json' });
        response.end(forwarded.body);
        return;
      }
      if (method === 'GET' && url.pathname === '/local/jwks.json') {
        send(response, 200, await tokens.jwks());
        return;
      }
      send(response, 404, { error: { code: 'not_found', message: `no route ${method} ${url.pathname}`, details: [] } });
    }

    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(options.port ?? 3000, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;

    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(sweeper);
      // The job queues stop at once: a worker left running while the rest stops only burns receives of its
      // messages (a page failing five times is dead-lettered).
      await Promise.all([sweeping, scheduler.stop(), publisher!.stop(), bulkJobs!.stop(), reconciliations!.stop()]);
      // What the publisher has published and checkpointed is handed to the bus's subscribers asynchronously
      // (as EventBridge hands it to its targets): let them finish (the webhook fan-out's queue writes) while
      // DynamoDB Local is still up, or those events would never reach an integrator's endpoint.
      await events.idle();
      await webhooks!.stop();
      await new Promise<void>((resolve) => {
        server!.close(() => resolve());
        server!.closeAllConnections();
      });
      db.destroy();
      webhookDb.destroy();
      await processors?.stop();
      await dynamo?.stop();
    };
    return {
      url,
      dynamodbEndpoint,
      tableName,
      deps,
      documentClient: db,
      tokens,
      scheduler,
      processors,
      events,
      publisher,
      webhooks,
      bulkJobs,
      reconciliations,
      schedulesAtStart: overdueAtStart,
      stop,
    };
  } catch (error) {
    server?.close();
    await webhooks?.stop();
    await bulkJobs?.stop();
    await reconciliations?.stop();
    webhookDb.destroy();
    await publisher?.stop();
    await processors?.stop();
    await dynamo?.stop();
    throw error;
  }
}

/**
 * A request to a local processor sandbox, as a dashboard change would be made: the caller's
 * `Stripe-Account` / `PayPal-Auth-Assertion`, content type and authorization are passed on (a Stripe sandbox
 * call without one gets the local test key).
 */
async function forwardToSandbox(
  base: string,
  path: string,
  search: string,
  method: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  const pass: Record<string, string> = { authorization: 'Bearer sk_test_membergate_local' };
  for (const name of ['authorization', 'content-type', 'stripe-account', 'paypal-auth-assertion', 'idempotency-key']) {
    const value = headers[name];
    if (typeof value === 'string') pass[name] = value;
  }
  const answer = await fetch(`${base}${path}${search}`, {
    method,
    headers: pass,
    ...(method === 'GET' || method === 'HEAD' || body.length === 0 ? {} : { body }),
  });
  return { status: answer.status, body: await answer.text() };
}
