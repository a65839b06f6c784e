import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HostResolver, WebhookRequest, WebhookResponse, WebhookSender } from '../ports/outbound-http.ts';

/** The system resolver: every address of the host, as the OS (and so the connection) would resolve it. */
export const systemResolver: HostResolver = async (host) => {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for one request that answers every name with the address the SSRF guard checked. Node's
 * connection code asks again for the host at connect time; answering from here (and not from DNS) means a
 * record that changed between the check and the connect (DNS rebinding) is never used. TLS still checks
 * the certificate against the URL's host name.
 */
function pinnedLookup(address: string, family: 4 | 6) {
  return (_hostname: string, options: LookupOptions, callback: LookupCallback) => {
    // With `autoSelectFamily` (Node 20's default) the socket asks for every address at once.
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** Why a request failed, in a line fit for the delivery log (no stack, no internals). */
function describeNetworkError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * POSTs deliveries with node:http(s): to the checked address only, within the timeout (connect, TLS and
 * the response status all count), without following redirects, and without keeping the connection (a
 * Lambda may freeze between deliveries; each one is to a server of its own anyway). The response body is
 * not read: the status decides.
 */
export const httpWebhookSender: WebhookSender = {
  post(input: WebhookRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (response: WebhookResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(response);
      };
      const send = input.url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(
        input.url,
        {
          method: 'POST',
          headers: { ...input.headers, 'content-length': String(Buffer.byteLength(input.body)) },
          lookup: pinnedLookup(input.address, input.family) as never,
          agent: false,
        },
        (response) => {
          finish({ responseCode: response.statusCode ?? null, durationMs: elapsed(), error: null });
          response.destroy();
        },
      );
      const timer = setTimeout(() => {
        finish({ responseCode: null, durationMs: elapsed(), error: `no response within ${input.timeoutMs} ms` });
        request.destroy();
      }, input.timeoutMs);
      request.on('error', (error) =>
        finish({ responseCode: null, durationMs: elapsed(), error: describeNetworkError(error) }),
      );
      request.end(input.body);
    });
  },
};
