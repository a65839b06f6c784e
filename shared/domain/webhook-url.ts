import ipaddr from 'ipaddr.js';

/**
 * The SSRF guard's rules (DESIGN.md §5): a webhook URL is `https`, and every address its host resolves to
 * is a public unicast address. Pure functions; resolving the host is the caller's (shared/usecases/webhook-url.ts),
 * so the same rules judge the address at registration and the one a delivery connects to.
 */

/** Where a delivery may go, once checked: the URL, and the address the connection must use. */
export interface DeliveryTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/**
 * Cloud metadata and platform services that sit on addresses the range check alone would not catch (or
 * that deserve their own message): AWS IMDS (IPv4 and IPv6) and the ECS task endpoint, Azure's wire
 * server (a public address), Alibaba's metadata service.
 */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254',
  '169.254.170.2',
  'fd00:ec2::254',
  '168.63.129.16',
  '100.100.100.200',
]);

/** How ipaddr.js range names read in an error message. */
const RANGE_NAMES: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT (100.64.0.0/10) address',
  private: 'a private address',
  uniqueLocal: 'a unique-local address',
  reserved: 'a reserved address',
  deprecatedSiteLocal: 'a site-local address',
};

/**
 * Why a delivery must not connect to this address, or null when it may. An allow-list: only ipaddr.js's
 * `unicast` range passes, so every special range (private, loopback, link-local, unique-local, CGNAT,
 * multicast, unspecified, reserved, documentation, NAT64, 6to4, Teredo…) is refused, including ranges
 * that embed an IPv4 address an attacker could choose. An IPv4-mapped IPv6 address is judged as the IPv4
 * address it carries (`::ffff:10.0.0.1` is private).
 */
export function forbiddenAddress(address: string, options: { allowLoopback?: boolean } = {}): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const normalized = parsed.toString();
  if (METADATA_ADDRESSES.has(normalized)) return `${normalized} is a cloud metadata address`;
  const range = parsed.range();
  if (range === 'unicast') return null;
  if (range === 'loopback' && options.allowLoopback) return null;
  return `${normalized} is ${RANGE_NAMES[range] ?? `a special-purpose address (${range})`}`;
}

/** Hosts the local runtime may deliver to over plain http (a receiver on the developer's machine). */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export type UrlShape = { ok: true; url: URL; host: string; local: boolean } | { ok: false; problem: string };

/**
 * The URL's own rules, before any lookup: absolute, `https` (or, with `allowLocalHttp`, `http` to localhost),
 * no credentials in it (they would be sent to the receiver on every delivery and shown in every view).
 */
export function urlShape(value: string, options: { allowLocalHttp: boolean }): UrlShape {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, problem: 'must be an absolute URL such as https://example.com/webhooks' };
  }
  if (url.username || url.password) return { ok: false, problem: 'must not contain a user name or password' };
  const local = options.allowLocalHttp && LOCAL_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    return {
      ok: false,
      problem: options.allowLocalHttp
        ? 'must use https (or http to localhost / 127.0.0.1, on the local runtime only)'
        : 'must use https',
    };
  }
  // `[::1]` → `::1`: the resolver takes the bare address.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') return { ok: false, problem: 'must name a host' };
  return { ok: true, url, host, local };
}
