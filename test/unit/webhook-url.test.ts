import { describe, expect, it } from '@jest/globals';
import { forbiddenAddress, urlShape } from '../../shared/domain/webhook-url.ts';
import { checkWebhookUrl, UnsafeWebhookUrlError } from '../../shared/usecases/webhook-url.ts';
import { FakeDns } from '../support/fake-dns.ts';

// DESIGN.md §5: webhook URLs are https and never resolve to a private, loopback, link-local, unique-local,
// CGNAT, multicast, unspecified or metadata address (no SSRF into the VPC or the metadata service).

describe('forbiddenAddress', () => {
  it.each([
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['169.254.10.10', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.100.100.200', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique-local'],
    ['fd00:ec2::254', 'metadata'],
    ['fc00::5', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a00:1', 'special-purpose'],
    ['2002:a00:1::', 'special-purpose'],
    ['2001:db8::1', 'reserved'],
  ])('refuses %s (%s)', (address, words) => {
    expect(forbiddenAddress(address)).toContain(words);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:93.184.215.14'])(
    'allows public %s',
    (address) => {
      expect(forbiddenAddress(address)).toBeNull();
    },
  );

  it('allows loopback only when asked (the local runtime), and nothing else private even then', () => {
    expect(forbiddenAddress('127.0.0.1', { allowLoopback: true })).toBeNull();
    expect(forbiddenAddress('::1', { allowLoopback: true })).toBeNull();
    expect(forbiddenAddress('10.0.0.1', { allowLoopback: true })).toContain('private');
    expect(forbiddenAddress('169.254.169.254', { allowLoopback: true })).toContain('metadata');
  });

  it('refuses what is not an address', () => {
    expect(forbiddenAddress('example.com')).toContain('not an IP address');
  });
});

describe('urlShape', () => {
  it('requires https on AWS, also for localhost', () => {
    expect(urlShape('https://hooks.example.com/x', { allowLocalHttp: false })).toMatchObject({
      ok: true,
      local: false,
    });
    expect(urlShape('http://localhost:4000/x', { allowLocalHttp: false })).toEqual({
      ok: false,
      problem: 'must use https',
    });
    expect(urlShape('http://127.0.0.1:4000/x', { allowLocalHttp: false })).toMatchObject({ ok: false });
  });

  it('accepts http only to localhost and 127.0.0.1 on the local runtime', () => {
    expect(urlShape('http://localhost:4000/x', { allowLocalHttp: true })).toMatchObject({ ok: true, local: true });
    expect(urlShape('http://127.0.0.1:4000/x', { allowLocalHttp: true })).toMatchObject({ ok: true, local: true });
    expect(urlShape('http://hooks.example.com/x', { allowLocalHttp: true })).toMatchObject({ ok: false });
    expect(urlShape('ftp://localhost/x', { allowLocalHttp: true })).toMatchObject({ ok: false });
  });

  it('refuses relative URLs and credentials', () => {
    expect(urlShape('/hooks', { allowLocalHttp: false })).toMatchObject({ ok: false });
    expect(urlShape('https://a:b@hooks.example.com/', { allowLocalHttp: false })).toMatchObject({ ok: false });
  });
});

describe('checkWebhookUrl', () => {
  const guard = (dns: FakeDns, allowLocalHttp = false) => ({ resolveHost: dns.resolve, allowLocalHttp });

  it('answers the address the host resolves to, for the connection to use', async () => {
    const dns = new FakeDns().set('hooks.example.com', '93.184.215.14');

    const target = await checkWebhookUrl('https://hooks.example.com/x', guard(dns));

    expect(target).toMatchObject({ address: '93.184.215.14', family: 4 });
    expect(target.url.href).toBe('https://hooks.example.com/x');
  });

  it('refuses a host with any private address among its answers', async () => {
    const dns = new FakeDns().set('mixed.example.com', '93.184.215.14', '10.0.0.7');

    await expect(checkWebhookUrl('https://mixed.example.com/', guard(dns))).rejects.toThrow(UnsafeWebhookUrlError);
  });

  it('on AWS, localhost is refused even over https (it resolves to loopback)', async () => {
    const dns = new FakeDns();

    await expect(checkWebhookUrl('https://localhost/x', guard(dns))).rejects.toThrow(/loopback/);
  });

  it('on the local runtime, http://localhost passes', async () => {
    const dns = new FakeDns();

    await expect(checkWebhookUrl('http://localhost:4000/x', guard(dns, true))).resolves.toMatchObject({
      address: '127.0.0.1',
    });
  });

  it('names the field: url', async () => {
    const dns = new FakeDns();

    const error = await checkWebhookUrl('https://10.0.0.1/', guard(dns)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnsafeWebhookUrlError);
    expect((error as UnsafeWebhookUrlError).details).toEqual([
      { field: 'url', message: expect.stringContaining('10.0.0.1') },
    ]);
  });
});
