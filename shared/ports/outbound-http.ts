/**
 * Ports for talking to integrators' servers. Both are injected so that the SSRF guard and the delivery
 * rules can be tested without DNS or network, and so that the address that was checked is the address
 * that is connected to.
 */

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a host name to every address it has (on AWS and locally: `dns.promises.lookup(host, {all: true})`,
 * shared/adapters/webhook-sender.ts). An IP literal resolves to itself. Throws when the name does not resolve.
 */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

export interface WebhookRequest {
  url: URL;
  /** The checked address: the connection goes there, whatever DNS says by then (no rebinding). */
  address: string;
  family: 4 | 6;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** What came back: a status, or why none did; never throws for a network failure or a timeout. */
export interface WebhookResponse {
  responseCode: number | null;
  durationMs: number;
  error: string | null;
}

/** POSTs one signed delivery. Redirects are not followed (a 3xx is a failed attempt): they could lead anywhere. */
export interface WebhookSender {
  post(request: WebhookRequest): Promise<WebhookResponse>;
}
