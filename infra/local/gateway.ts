import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import type { ApiEvent, ApiResult } from '../../shared/http/api.ts';
import { MAX_BODY_BYTES } from '../../shared/http/api.ts';
import { HttpError } from '../../shared/http/errors.ts';
import { ROUTES, type RouteDefinition, routeKey } from '../../shared/http/routes.ts';

export type LambdaHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

interface CompiledRoute {
  route: RouteDefinition;
  key: string;
  pattern: RegExp;
  names: string[];
}

/** API Gateway's matching: exact segments, `{name}` matches one non-empty segment. */
export function compileRoutes(routes: readonly RouteDefinition[] = ROUTES): CompiledRoute[] {
  return routes.map((route) => {
    const names: string[] = [];
    const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_match, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    return { route, key: routeKey(route), pattern: new RegExp(`^${source}$`), names };
  });
}

export function matchRoute(compiled: CompiledRoute[], method: string, path: string) {
  for (const candidate of compiled) {
    if (candidate.route.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    for (const [i, name] of candidate.names.entries()) {
      try {
        params[name] = decodeURIComponent(match[i + 1]!);
      } catch {
        throw new HttpError(400, 'invalid_request', `path parameter ${name} is not valid percent-encoding`, [
          { field: name, message: 'malformed percent-encoding' },
        ]);
      }
    }
    return { ...candidate, params };
  }
  return null;
}

/**
 * Past this the gateway stops buffering a body and only counts it: bodies up to here still reach the
 * handler, so the handler, not the gateway, produces the documented 413 for them.
 */
const MAX_BUFFERED_BYTES = MAX_BODY_BYTES * 4;

/**
 * How much of an oversized body is read and thrown away before answering. Answering while the client is
 * still sending makes the server close a socket with unread data in it, which the kernel turns into a
 * reset: the client (Node's `fetch` in particular) then sees ECONNRESET instead of the 413. Reading the
 * rest first means the client has finished sending when the answer arrives. The cap keeps a runaway
 * client from holding the server forever; past it the answer is sent anyway and the connection closed,
 * where a reset is the price of not reading an unbounded upload.
 */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

/**
 * The request's body, or `'too_large'` when it exceeds what the gateway buffers; answer that with
 * {@link sendBodyTooLarge}. Never destroys the request (an early `return` out of `for await` would, and
 * the client would get a connection reset instead of an answer).
 */
export function readRequestBody(request: IncomingMessage): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Buffer | 'too_large' | Error) => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BUFFERED_BYTES) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      if (size > MAX_BUFFERED_BYTES + MAX_DISCARDED_BYTES) {
        // Stop reading: the answer goes out with `connection: close`, and closing the socket ends the upload.
        request.pause();
        finish('too_large');
      }
    };
    const onEnd = () => finish(size > MAX_BUFFERED_BYTES ? 'too_large' : Buffer.concat(chunks));
    const onError = (error: Error) => finish(error);
    const onClose = () => {
      if (!request.complete) finish(new Error('the client closed the connection before sending the whole body'));
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

/**
 * The gateway's 413 (API Gateway's own limit, locally): the documented error shape, and `connection: close`
 * so that a client still sending (past {@link MAX_DISCARDED_BYTES}) is not left on a half-read connection.
 */
export function sendBodyTooLarge(response: ServerResponse) {
  send(
    response,
    413,
    { error: { code: 'payload_too_large', message: `the body exceeds ${MAX_BODY_BYTES} bytes`, details: [] } },
    { connection: 'close' },
  );
}

const TEXT_TYPES = /^(application\/([\w.+-]+\+)?json|text\/|application\/x-www-form-urlencoded)/i;

/** Builds the API Gateway HTTP API (payload 2.0) event that Lambda would receive for this request. */
export function buildEvent(input: {
  request: IncomingMessage;
  url: URL;
  body: Buffer;
  key: string;
  params: Record<string, string>;
  claims: Record<string, string> | null;
  now: Date;
}): ApiEvent {
  const { request, url, body } = input;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  const event = {
    version: '2.0',
    routeKey: input.key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters: Object.keys(input.params).length > 0 ? input.params : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: input.key,
      stage: '$default',
      time: input.now.toUTCString(),
      timeEpoch: input.now.getTime(),
      authorizer: input.claims
        ? { principalId: '', integrationLatency: 0, jwt: { claims: input.claims, scopes: [] } }
        : undefined,
    },
    body: body.length === 0 ? undefined : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !isText,
  };
  return event as unknown as ApiEvent;
}

/**
 * The deadline the local runtime gives a handler, as Lambda would: the API functions' timeout (10 s) unless
 * `LOCAL_FUNCTION_TIMEOUT_MS` says otherwise. The test suite raises it, so that a machine busy with other
 * tests (DynamoDB Local slowed down) does not turn a slow answer into a 500 that says nothing about the code.
 */
export function localFunctionTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const configured = Number(env.LOCAL_FUNCTION_TIMEOUT_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : 10_000;
}

export function lambdaContext(functionName: string, timeoutMs = localFunctionTimeoutMs()): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function send(
  response: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(statusCode, { 'content-type': 'application/json', ...headers });
  response.end(text);
}

export function sendResult(response: ServerResponse, result: ApiResult) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const body =
    result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}
