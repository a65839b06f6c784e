import { assertDocumentedResponse } from './openapi-validation.ts';

/**
 * `fetch`, and the answer held to the OpenAPI document (./openapi-validation.ts) before the test sees it: an
 * undocumented status, content type or field fails the request. The e2e tests call the local runtime through
 * this (or through `httpClient`), so every answer they receive is checked. Answers of the local-only
 * `/local/*` routes are not part of the API and pass unchecked.
 */
export async function documentedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  const text = await response.text();
  const { pathname, search } = new URL(url);
  const contentType = response.headers.get('content-type');
  let body: unknown;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  assertDocumentedResponse({
    method: init.method ?? 'GET',
    path: `${pathname}${search}`,
    status: response.status,
    contentType,
    body,
  });
  // The body was read to check it: the test gets an unread copy with the same status and headers.
  return new Response(text === '' ? null : text, { status: response.status, headers: response.headers });
}

/** A JSON answer of the local runtime, inspected field by field by the e2e tests. */
export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected field by field
  body: any;
}

/** An HTTP client of one local runtime, as a user calls it: JSON bodies, a bearer token when given. */
export function httpClient(base: () => string) {
  async function http(method: string, path: string, init: { token?: string; body?: unknown } = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await documentedFetch(`${base()}${path}`, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  /** Fails with the response in the message, so a broken step says which one and why. */
  async function ok(method: string, path: string, token: string, body?: unknown, expected = 200) {
    const reply = await http(method, path, { token, body });
    if (reply.status !== expected) {
      throw new Error(`${method} ${path} → ${reply.status} (expected ${expected}) ${JSON.stringify(reply.body)}`);
    }
    return reply.body;
  }

  return { http, ok };
}
