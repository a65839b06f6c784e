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
    const response = await fetch(`${base()}${path}`, {
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
