import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.ts';
import { tokenRequest } from '../../infra/local/tokens.ts';
import { MAX_BODY_BYTES } from '../../shared/http/api.ts';
import { documentedFetch } from '../support/e2e-http.ts';

/**
 * Oversized bodies against the local runtime over real HTTP. The gateway stops buffering past 1 MiB and
 * answers 413 itself; it must read the rest of the upload before answering, or the client, still sending,
 * gets a connection reset instead of the answer (Node's `fetch` did in about 3 of 10 tries).
 */

let runtime: LocalRuntime;
let token: string;
let revokePath: string;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
    // A table of its own: the runtime's stream publisher starts at this table's first record, not at every earlier test's.
    tableName: `e2e-body-limit-${randomUUID().slice(0, 8)}`,
  });
  const siteId = `site-${randomUUID()}`;
  token = await runtime.tokens.mint(
    tokenRequest.parse({ role: 'admin', siteId, email: 'owner@example.com' }),
    new Date(),
  );
  revokePath = `/sites/${siteId}/purchases/pur_missing/access/revoke`;
});

afterAll(async () => {
  await runtime?.stop();
});

const TWO_MIB = 2 * 1024 * 1024;
const tooLargeBody = { error: { code: 'payload_too_large', message: expect.any(String), details: [] } };

async function postWithFetch(path: string, body: string) {
  const response = await documentedFetch(`${runtime.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
    // A reset can also leave fetch waiting forever; a bounded wait turns that into a recorded failure.
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.json() };
}

describe('a body over the gateway limit', () => {
  it('gets 413 with the error body on every one of 20 fetch() uploads of 2 MiB, never a reset', async () => {
    const body = JSON.stringify({ productIds: ['x'.repeat(TWO_MIB)] });
    const outcomes: string[] = [];

    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const reply = await postWithFetch(revokePath, body);
        expect(reply.contentType).toMatch(/application\/json/);
        expect(reply.body).toEqual(tooLargeBody);
        outcomes.push(String(reply.status));
      } catch (error) {
        // Recorded rather than thrown, so a failure shows how many tries were reset, not just the first.
        outcomes.push(`${(error as Error).message}: ${String((error as Error).cause)}`);
      }
    }

    expect(outcomes).toEqual(Array.from({ length: 20 }, () => '413'));
  }, 120_000);

  it('gets 413 over node:http too, and the connection is closed after the answer', async () => {
    const reply = await new Promise<{ status: number; connection: string | undefined; text: string }>(
      (resolve, reject) => {
        const request = httpRequest(
          `${runtime.url}${revokePath}`,
          { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              text += chunk;
            });
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, text }),
            );
          },
        );
        request.on('error', reject);
        request.end('x'.repeat(TWO_MIB));
      },
    );

    expect(reply.status).toBe(413);
    expect(reply.connection).toBe('close');
    expect(JSON.parse(reply.text)).toEqual(tooLargeBody);
  });

  it('leaves a body between the API limit and the gateway limit to the handler, which answers 413', async () => {
    const reply = await postWithFetch(revokePath, JSON.stringify({ productIds: ['x'.repeat(MAX_BODY_BYTES)] }));

    expect(reply.status).toBe(413);
    expect(reply.body).toEqual(tooLargeBody);
  });

  it('still serves the next request normally', async () => {
    const response = await documentedFetch(`${runtime.url}/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});
