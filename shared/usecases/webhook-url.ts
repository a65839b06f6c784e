import { InvalidInputError } from '../domain/errors.ts';
import { type DeliveryTarget, forbiddenAddress, urlShape } from '../domain/webhook-url.ts';
import type { HostResolver } from '../ports/outbound-http.ts';

/** A webhook URL the SSRF guard refuses: a 400 naming `url` at registration, a failed attempt at delivery. */
export class UnsafeWebhookUrlError extends InvalidInputError {
  constructor(readonly problem: string) {
    super(`url ${problem}`, [{ field: 'url', message: problem }]);
  }
}

export interface UrlGuard {
  resolveHost: HostResolver;
  /** Local runtime only: also accept `http://localhost` and `http://127.0.0.1`. False on AWS. */
  allowLocalHttp: boolean;
}

/**
 * The SSRF guard (DESIGN.md §5). Input: a URL. Output: the URL and the one address a delivery may connect
 * to. Main course: check the URL's shape, resolve its host, judge every address it resolves to (one bad
 * address refuses the URL: a host that answers with both a public and a private address is not trusted).
 * Run at registration and again before every attempt, whose connection then goes to the address returned
 * here and nowhere else.
 */
export async function checkWebhookUrl(value: string, guard: UrlGuard): Promise<DeliveryTarget> {
  const shape = urlShape(value, { allowLocalHttp: guard.allowLocalHttp });
  if (!shape.ok) throw new UnsafeWebhookUrlError(shape.problem);
  let addresses: Awaited<ReturnType<HostResolver>>;
  try {
    addresses = await guard.resolveHost(shape.host);
  } catch {
    throw new UnsafeWebhookUrlError(`host ${shape.host} does not resolve`);
  }
  if (addresses.length === 0) throw new UnsafeWebhookUrlError(`host ${shape.host} does not resolve`);
  for (const { address } of addresses) {
    const problem = forbiddenAddress(address, { allowLoopback: shape.local });
    if (problem) throw new UnsafeWebhookUrlError(`must not resolve to a private or internal address: ${problem}`);
  }
  const [first] = addresses;
  return { url: shape.url, address: first!.address, family: first!.family };
}
