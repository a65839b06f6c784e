import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { startReceiver } from '../support/webhook-harness.ts';

/**
 * Ctrl-C on `npm start`, as a terminal sends it: SIGINT to the whole foreground process group, DynamoDB
 * Local's JVM included unless it runs in a group of its own. A burst of changes with a webhook endpoint
 * registered, Ctrl-C right after it, `npm start` again on the same DATA_DIR: every event of the burst still
 * reaches the endpoint (the ones published before the stop included, whose fan-out was still in progress).
 */

const root = resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Started {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

/** `npm start` (tsx infra/local/main.ts) in its own process group, as a terminal runs a foreground job. */
async function npmStart(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'infra/local/main.ts'], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'error', DYNAMODB_ENDPOINT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let output = '';
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`npm start did not come up:\n${output.slice(-2000)}`)), 90_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        done(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', () => fail(new Error(`npm start exited:\n${output.slice(-2000)}`)));
  });
  return { child, url, exited };
}

/** What a terminal's Ctrl-C does: SIGINT to every process of the foreground group. */
async function ctrlC(started: Started) {
  process.kill(-started.child.pid!, 'SIGINT');
  await started.exited;
}

async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected field by field
  return { status: response.status, body: (await response.json()) as any };
}

async function adminToken(base: string) {
  return (await call(base, 'POST', '/local/tokens', undefined, { role: 'admin', siteId: 'site-1', email: 'o@x.io' }))
    .body.token as string;
}

describe('Ctrl-C on npm start right after a burst of changes', () => {
  let dataDir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let running: Started | null = null;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'membergate-ctrl-c-'));
    receiver = await startReceiver();
  });

  afterAll(async () => {
    if (running) await ctrlC(running);
    await receiver?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('loses no webhook: every event of the burst reaches the endpoint after the restart', async () => {
    running = await npmStart(dataDir);
    let base = running.url;
    let token = await adminToken(base);
    await call(base, 'PUT', '/sites/site-1/products/course', token, { name: 'Course' });
    await call(base, 'PUT', '/sites/site-1/offers/course', token, {
      name: 'Course',
      productIds: ['course'],
      price: { type: 'one_time', amount: 4900, currency: 'usd' },
    });
    await call(base, 'PUT', '/sites/site-1/customers/cus-1', token, { email: 'ada@example.com' });
    const endpoint = await call(base, 'PUT', '/sites/site-1/webhook-endpoints/app', token, {
      url: receiver.url('/ok'),
    });
    expect(endpoint.status).toBe(201);
    const webhook = new Webhook(endpoint.body.secret as string);

    const purchaseIds = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const granted = await call(base, 'POST', '/sites/site-1/purchases', token, {
          customerId: 'cus-1',
          offerId: 'course',
        });
        const purchaseId = granted.body.purchaseId as string;
        await call(base, 'POST', `/sites/site-1/purchases/${purchaseId}/access/revoke`, token, {});
        await call(base, 'POST', `/sites/site-1/purchases/${purchaseId}/access/resume`, token, {});
        return purchaseId;
      }),
    );
    await ctrlC(running);
    running = null;

    running = await npmStart(dataDir);
    base = running.url;
    token = await adminToken(base);
    const expected = new Set<string>();
    for (const purchaseId of purchaseIds) {
      const events = await call(base, 'GET', `/sites/site-1/events?purchaseId=${purchaseId}`, token);
      for (const event of events.body.items) expected.add(event.id as string);
    }
    expect(expected.size).toBe(60);

    const delivered = () =>
      new Set(
        receiver
          .on('/ok')
          .map((request) => (webhook.verify(request.body, request.headers as never) as { id: string }).id),
      );
    const deadline = Date.now() + 90_000;
    while ([...expected].some((id) => !delivered().has(id)) && Date.now() < deadline) await sleep(200);

    expect([...expected].filter((id) => !delivered().has(id))).toEqual([]);
  });
});
