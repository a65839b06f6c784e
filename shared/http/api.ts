import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { UnauthorizedError } from '../domain/errors.ts';
import { type Clock, systemClock } from '../domain/time.ts';
import type { Actor } from '../domain/types.ts';
import { describeError, log } from '../log.ts';
import { observability } from '../observability.ts';
import { HttpError, toErrorResponse } from './errors.ts';
import { actorOf, authorize, type Principal, principalFromClaims } from './principal.ts';
import { type ApiFunctionName, ROUTES, type RouteDefinition, type RouteKeyOf, routeKey } from './routes.ts';

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** Bodies above this are refused with 413 before parsing; no route needs more. */
export const MAX_BODY_BYTES = 256 * 1024;

export type JsonObject = Readonly<Record<string, unknown>>;

export interface ApiRequest {
  route: RouteDefinition;
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  /**
   * The JSON body: always an object, or `undefined` when the request had none (absent or empty). A body
   * that was sent but is not an object (`null`, `[]`, `3`, `"x"`) is a 400 before any handler runs, so
   * `request.body ?? {}` only ever turns "no body" into "no fields", never a sent `null`.
   */
  body: JsonObject | undefined;
  rawBody: string;
  headers: Readonly<Record<string, string>>;
  now: Date;
  principal: Principal | null;
}

export interface Reply {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (request: ApiRequest) => Promise<Reply>;

/** Per function, exactly its routes: a missing or extra route is a compile error. */
export type RouteHandlers = { [F in ApiFunctionName]: Record<RouteKeyOf<F>, RouteHandler> };

/** The caller as an actor; only on routes that require a token (the gateway guarantees one there). */
export function actorFor(request: ApiRequest): Actor {
  if (!request.principal) throw new UnauthorizedError('a bearer token is required');
  return actorOf(request.principal);
}

export function param(request: ApiRequest, name: string): string {
  const value = request.params[name];
  if (value === undefined) throw new HttpError(404, 'not_found', `missing path parameter ${name}`);
  return value;
}

export const json = (statusCode: number, body: unknown, headers?: Record<string, string>): Reply =>
  headers ? { statusCode, body, headers } : { statusCode, body };

function lowerCaseHeaders(headers: ApiEvent['headers'] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined) result[name.toLowerCase()] = value;
  return result;
}

/** What a parsed JSON value is, for the message when a body is not an object. */
function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function readBody(event: ApiEvent, headers: Record<string, string>): { raw: string; parsed: JsonObject | undefined } {
  if (event.body === undefined || event.body === null || event.body === '') return { raw: '', parsed: undefined };
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
    throw new HttpError(413, 'payload_too_large', `the body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  const contentType = headers['content-type'] ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not valid JSON', [
      { field: 'body', message: 'malformed JSON' },
    ]);
  }
  // Decided here, where "no body" and "a body of null" are still two different things: past this point
  // handlers read `undefined` as "no body", and a sent `null` must not mean "revoke everything".
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'invalid_request', 'the body, when sent, must be a JSON object', [
      { field: 'body', message: `must be a JSON object, not ${describeJson(parsed)}` },
    ]);
  }
  return { raw, parsed: parsed as JsonObject };
}

function toResult(reply: Reply): ApiResult {
  return {
    statusCode: reply.statusCode,
    headers: { 'content-type': 'application/json', ...reply.headers },
    body: reply.body === undefined ? '' : JSON.stringify(reply.body),
  };
}

/**
 * Maps every thrown error to the documented error body, and writes one log line per request: what was
 * asked and how it was answered. A refusal (4xx) is logged with its error code only, since its message may
 * quote the input; a failure (5xx) with the error's name, message and stack, and the caller gets the bare
 * error body.
 */
const replies = (): MiddlewareObj<ApiEvent, ApiResult> => ({
  after: async (request) => {
    log.info('request handled', { routeKey: request.event.routeKey, statusCode: request.response?.statusCode });
  },
  onError: async (request) => {
    const correlationId = request.context?.awsRequestId;
    const { statusCode, body } = toErrorResponse(request.error, correlationId);
    const routeKey = request.event.routeKey;
    if (statusCode >= 500) {
      log.error('request failed', { routeKey, statusCode, correlationId, error: describeError(request.error) });
    } else log.info('request refused', { routeKey, statusCode, errorCode: body.error.code });
    request.response = toResult({ statusCode, body });
  },
});

/** The request's ids, for every log line of the invocation (cleared by the observability middleware). */
function appendRequestKeys(keys: { siteId?: string | null | undefined; purchaseId?: string | undefined }): void {
  const known = Object.entries(keys).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  if (known.length > 0) log.appendKeys(Object.fromEntries(known));
}

export interface ApiHandlerOptions {
  clock?: Clock;
}

/**
 * Builds a Lambda handler for one API function. It finds the route by API Gateway's `routeKey`, turns the
 * JWT authorizer's claims into a principal, enforces tenancy and role before any handler code runs,
 * parses the JSON body, and maps errors; the route handlers only call a use case and shape the reply.
 */
export function createApiHandler<F extends ApiFunctionName>(
  fn: F,
  handlers: RouteHandlers[F],
  options: ApiHandlerOptions = {},
) {
  const clock = options.clock ?? systemClock;
  const routes = new Map<string, { route: RouteDefinition; handle: RouteHandler }>();
  for (const route of ROUTES) {
    if (route.fn !== fn) continue;
    const key = routeKey(route);
    routes.set(key, { route, handle: (handlers as Record<string, RouteHandler>)[key]! });
  }

  const dispatch = async (event: ApiEvent, _context: Context): Promise<ApiResult> => {
    const entry = routes.get(event.routeKey);
    if (!entry) throw new HttpError(404, 'not_found', `no route ${event.routeKey}`);
    const params = (event.pathParameters ?? {}) as Record<string, string>;
    appendRequestKeys({ siteId: params.siteId, purchaseId: params.purchaseId });
    const access = entry.route.access;
    let principal: Principal | null = null;
    if (access === 'staff' || access === 'customer') {
      principal = principalFromClaims(event.requestContext.authorizer?.jwt?.claims);
      // `/me` paths carry no site: the customer's token does.
      if (params.siteId === undefined) appendRequestKeys({ siteId: principal.siteId });
      authorize(principal, access, params.siteId);
    }
    const headers = lowerCaseHeaders(event.headers);
    const body = readBody(event, headers);
    const reply = await entry.handle({
      route: entry.route,
      params,
      query: (event.queryStringParameters ?? {}) as Record<string, string>,
      body: body.parsed,
      rawBody: body.raw,
      headers,
      now: clock(),
      principal,
    });
    return toResult(reply);
  };

  // Observability first: its `after`/`onError` run last, so the reply line still carries the request's keys.
  return middy<ApiEvent, ApiResult>().use(observability<ApiEvent, ApiResult>()).use(replies()).handler(dispatch);
}
