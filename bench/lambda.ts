import { randomUUID } from 'node:crypto';
import { lambdaContext } from '../infra/local/gateway.ts';
import type { ApiEvent, ApiResult } from '../shared/http/api.ts';
import { CLAIMS } from '../shared/http/principal.ts';
import type { RouteKey } from '../shared/http/routes.ts';

export type LambdaHandler = (event: ApiEvent, context: ReturnType<typeof lambdaContext>) => Promise<ApiResult>;
export type Claims = Record<string, string>;

/** What the HTTP API's JWT authorizer hands to Lambda for an admin of `siteId` (claims arrive as strings). */
export function adminClaims(siteId: string, email = 'owner@example.com'): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    [CLAIMS.role]: 'admin',
    [CLAIMS.siteId]: siteId,
    [CLAIMS.email]: email,
    sub: 'bench-admin',
    token_use: 'id',
    iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_bench',
    aud: 'bench-client',
    iat: String(now),
    exp: String(now + 3600),
  };
}

/**
 * An API Gateway HTTP API (payload 2.0) event as Lambda receives it for `routeKey`, with the path
 * parameters substituted into the raw path and the JWT authorizer's claims in the request context.
 */
export function apiEvent(
  routeKey: RouteKey,
  pathParameters: Record<string, string>,
  init: { claims?: Claims; body?: unknown } = {},
): ApiEvent {
  const [method, template] = routeKey.split(' ') as [string, string];
  const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = pathParameters[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${routeKey}`);
    return encodeURIComponent(value);
  });
  const now = new Date();
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  const event = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      'content-length': String(body?.length ?? 0),
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'user-agent': 'membergate-bench',
      'x-amzn-trace-id': `Root=1-${randomUUID().replaceAll('-', '').slice(0, 8)}-${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      'x-forwarded-for': '203.0.113.10',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...(init.claims ? { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.bench.signature' } : {}),
    },
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'membergate-bench' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      authorizer: init.claims
        ? { principalId: '', integrationLatency: 0, jwt: { claims: init.claims, scopes: [] } }
        : undefined,
    },
    body,
    isBase64Encoded: false,
  };
  return event as unknown as ApiEvent;
}

export interface Invocation {
  status: number;
  body: unknown;
}

/** Invokes a handler in-process and parses its JSON reply. */
export async function invoke(handler: LambdaHandler, event: ApiEvent, functionName: string): Promise<Invocation> {
  const result = await handler(event, lambdaContext(functionName));
  return { status: result.statusCode ?? 200, body: result.body ? JSON.parse(result.body) : undefined };
}

/** Like `invoke`, but a status other than `expected` is an error that names the route and the reply. */
export async function invokeOk(
  handler: LambdaHandler,
  event: ApiEvent,
  functionName: string,
  expected = 200,
): Promise<Invocation> {
  const reply = await invoke(handler, event, functionName);
  if (reply.status !== expected) {
    throw new Error(`${event.routeKey} → ${reply.status} (expected ${expected}): ${JSON.stringify(reply.body)}`);
  }
  return reply;
}
