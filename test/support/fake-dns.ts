import ipaddr from 'ipaddr.js';
import type { HostResolver, ResolvedAddress } from '../../shared/ports/outbound-http.ts';

/**
 * A resolver tests program: host → addresses, changeable at any time (a rebinding attacker's DNS). IP
 * literals resolve to themselves, as `dns.lookup` does; `localhost` is 127.0.0.1; any other unknown name
 * fails like ENOTFOUND.
 */
export class FakeDns {
  private readonly records = new Map<string, ResolvedAddress[]>([['localhost', [{ address: '127.0.0.1', family: 4 }]]]);
  readonly lookups: string[] = [];

  set(host: string, ...addresses: string[]): this {
    this.records.set(
      host,
      addresses.map((address) => ({ address, family: ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4 })),
    );
    return this;
  }

  readonly resolve: HostResolver = async (host) => {
    this.lookups.push(host);
    if (ipaddr.isValid(host)) return [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }];
    const found = this.records.get(host);
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
}
