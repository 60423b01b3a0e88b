import { type LookupAddress } from 'node:dns';
import { type LookupAll } from './lookup-all';
import { UrlPolicyViolation, UrlPolicyViolationCode as Code } from './url-policy-violation.error';
import { checkWebhookUrl, checkWebhookUrlAndResolve } from './webhook-url';

function violationOf(action: () => unknown): UrlPolicyViolation {
  try {
    action();
  } catch (error: unknown) {
    if (error instanceof UrlPolicyViolation) return error;
    throw error;
  }
  throw new Error('expected a UrlPolicyViolation, but the URL was accepted');
}

async function rejectionOf(promise: Promise<unknown>): Promise<UrlPolicyViolation> {
  const error: unknown = await promise.then(
    () => new Error('expected a UrlPolicyViolation, but the URL was accepted'),
    (rejection: unknown) => rejection,
  );
  if (error instanceof UrlPolicyViolation) return error;
  throw error;
}

function fakeLookup(answers: Record<string, readonly string[]>): jest.MockedFunction<LookupAll> {
  return jest.fn<Promise<LookupAddress[]>, Parameters<LookupAll>>((hostname) => {
    const addresses = answers[hostname];
    if (addresses === undefined) {
      return Promise.reject(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
      );
    }
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  });
}

describe('checkWebhookUrl', () => {
  describe('refuses', () => {
    it.each([
      // Not a URL at all, or one the WHATWG parser cannot read.
      ['not a url', Code.InvalidUrl],
      ['', Code.InvalidUrl],
      ['/relative/hook', Code.InvalidUrl],
      ['https://', Code.InvalidUrl],
      ['https://1.2.3.4.5/', Code.InvalidUrl],
      ['https://ex ample.com/', Code.InvalidUrl],
      ['https://[fe80::1%25eth0]/', Code.InvalidUrl],
      ['https://example.com:65536/', Code.InvalidUrl],
      ['https://example.com:99999/', Code.InvalidUrl],
      [`https://example.com/${'a'.repeat(2040)}`, Code.UrlTooLong],
      // Schemes other than https.
      ['http://example.com/hook', Code.SchemeNotAllowed],
      ['ftp://example.com/file', Code.SchemeNotAllowed],
      ['file:///etc/passwd', Code.SchemeNotAllowed],
      ['gopher://example.com:70/_x', Code.SchemeNotAllowed],
      ['javascript:alert(1)', Code.SchemeNotAllowed],
      ['data:text/plain,hello', Code.SchemeNotAllowed],
      ['wss://example.com/socket', Code.SchemeNotAllowed],
      // Credentials, fragments, port 0.
      ['https://user:pass@example.com/hook', Code.CredentialsNotAllowed],
      ['https://user@example.com/hook', Code.CredentialsNotAllowed],
      ['https://:secret@example.com/hook', Code.CredentialsNotAllowed],
      ['https://example.com/hook#section', Code.FragmentNotAllowed],
      ['https://example.com/hook#', Code.FragmentNotAllowed],
      ['https://example.com:0/hook', Code.PortNotAllowed],
      // Names that only exist on internal networks.
      ['https://localhost/hook', Code.HostNotAllowed],
      ['https://LOCALHOST./hook', Code.HostNotAllowed],
      ['https://api.localhost/hook', Code.HostNotAllowed],
      ['https://printer.local/', Code.HostNotAllowed],
      ['https://metadata.google.internal/computeMetadata/v1/', Code.HostNotAllowed],
      ['https://metadata.tencentyun.com/latest/meta-data/', Code.HostNotAllowed],
      ['https://db.prod.internal/', Code.HostNotAllowed],
      ['https://nas.home.arpa/', Code.HostNotAllowed],
      ['https://5.0.0.10.in-addr.arpa/', Code.HostNotAllowed],
      ['https://hooks.test/', Code.HostNotAllowed],
      ['https://intranet/hook', Code.HostNotAllowed],
      ['https://com./hook', Code.HostNotAllowed],
      ['https:///hook', Code.HostNotAllowed],
      // Non-public IPv4 literals.
      ['https://10.0.0.5/hook', Code.AddressNotAllowed],
      ['https://172.16.0.1/', Code.AddressNotAllowed],
      ['https://172.31.255.255/', Code.AddressNotAllowed],
      ['https://192.168.1.1/', Code.AddressNotAllowed],
      ['https://127.0.0.1/', Code.AddressNotAllowed],
      ['https://0.0.0.0/', Code.AddressNotAllowed],
      ['https://169.254.169.254/latest/meta-data/', Code.AddressNotAllowed],
      ['https://169.254.1.1/', Code.AddressNotAllowed],
      ['https://100.64.0.1/', Code.AddressNotAllowed],
      ['https://100.100.100.200/', Code.AddressNotAllowed],
      ['https://224.0.0.1/', Code.AddressNotAllowed],
      ['https://255.255.255.255/', Code.AddressNotAllowed],
      ['https://240.0.0.1/', Code.AddressNotAllowed],
      ['https://192.0.0.8/', Code.AddressNotAllowed],
      ['https://192.0.2.1/', Code.AddressNotAllowed],
      ['https://198.51.100.7/', Code.AddressNotAllowed],
      ['https://203.0.113.9/', Code.AddressNotAllowed],
      ['https://198.18.0.1/', Code.AddressNotAllowed],
      // Odd IPv4 spellings, which the WHATWG parser turns into dotted decimal first.
      ['http://2130706433/', Code.AddressNotAllowed],
      ['https://0177.0.0.1/', Code.AddressNotAllowed],
      ['https://0x7f.0.0.1/', Code.AddressNotAllowed],
      ['https://0x7f000001/', Code.AddressNotAllowed],
      ['https://017700000001/', Code.AddressNotAllowed],
      ['https://127.1/', Code.AddressNotAllowed],
      ['https://10.1/', Code.AddressNotAllowed],
      ['https://0x0a.0.0.01/', Code.AddressNotAllowed],
      ['https://0x7f.1/', Code.AddressNotAllowed],
      ['https://%31%32%37.0.0.1/', Code.AddressNotAllowed],
      ['https://127\u30020\u30020\u30021/', Code.AddressNotAllowed],
      // Non-public IPv6 literals, including IPv6 forms that carry a private IPv4 address.
      ['https://[::1]/', Code.AddressNotAllowed],
      ['https://[::]/', Code.AddressNotAllowed],
      ['https://[::ffff:127.0.0.1]/', Code.AddressNotAllowed],
      ['https://[::ffff:7f00:1]/', Code.AddressNotAllowed],
      ['https://[::ffff:a9fe:a9fe]/', Code.AddressNotAllowed],
      ['https://[::127.0.0.1]/', Code.AddressNotAllowed],
      ['https://[64:ff9b::10.0.0.1]/', Code.AddressNotAllowed],
      ['https://[64:ff9b:1::a00:1]/', Code.AddressNotAllowed],
      ['https://[2002:a00:1::]/', Code.AddressNotAllowed],
      ['https://[2002:7f00:1::1]/', Code.AddressNotAllowed],
      ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', Code.AddressNotAllowed],
      ['https://[fc00::1]/', Code.AddressNotAllowed],
      ['https://[fd12:3456:789a::1]/', Code.AddressNotAllowed],
      ['https://[fd00:ec2::254]/', Code.AddressNotAllowed],
      ['https://[fe80::1]/', Code.AddressNotAllowed],
      ['https://[fec0::1]/', Code.AddressNotAllowed],
      ['https://[ff02::1]/', Code.AddressNotAllowed],
      ['https://[2001:db8::1]/', Code.AddressNotAllowed],
      ['https://[3fff::1]/', Code.AddressNotAllowed],
      ['https://[100::1]/', Code.AddressNotAllowed],
      ['https://[4000::1]/', Code.AddressNotAllowed],
      // Loopback over http is refused without the dev switch.
      ['http://127.0.0.1:8080/x', Code.AddressNotAllowed],
      ['http://localhost:3000', Code.HostNotAllowed],
      ['http://[::1]:9/', Code.AddressNotAllowed],
    ])('%s with %s', (url, code) => {
      expect(violationOf(() => checkWebhookUrl(url)).code).toBe(code);
    });
  });

  it.each([
    'https://93.184.216.34/hook',
    'https://example.com:8443/x',
    'https://[2606:4700::1111]/',
    'https://example.com/',
    'https://hooks.partner.co.uk/v1/events?tenant=42',
    'https://example.com:1/',
    'https://example.com:65535/',
    'https://Example.COM./hook',
    'https://bücher.de/hook',
    'https://8.8.8.8/',
    'https://[::ffff:93.184.216.34]/',
    'https://[64:ff9b::5db8:d822]/',
    'https://[2002:5db8:d822::1]/',
  ])('accepts the public URL %s', (url) => {
    expect(() => checkWebhookUrl(url)).not.toThrow();
  });

  it('returns the normalised URL, which is what must be stored and called', () => {
    expect(checkWebhookUrl('HTTPS://Example.COM:443/a/../hook').href).toBe('https://example.com/hook');
  });

  it('names the URL, the address and its range in the message', () => {
    const violation = violationOf(() => checkWebhookUrl('https://10.0.0.5/hook'));
    expect(violation.message).toBe('https://10.0.0.5/hook: 10.0.0.5 is a private address (10.0.0.0/8)');
    expect(violation.blockedAddress).toMatchObject({ addressClass: 'private', range: '10.0.0.0/8' });
  });

  it('names the embedded IPv4 address of an IPv4-mapped IPv6 literal', () => {
    expect(violationOf(() => checkWebhookUrl('https://[::ffff:127.0.0.1]/')).message).toBe(
      'https://[::ffff:7f00:1]/: ::ffff:7f00:1 embeds 127.0.0.1, a loopback address (127.0.0.0/8)',
    );
  });

  it('reports a decimal IPv4 spelling as the dotted address it stands for', () => {
    expect(violationOf(() => checkWebhookUrl('https://2130706433/')).message).toBe(
      'https://127.0.0.1/: 127.0.0.1 is a loopback address (127.0.0.0/8)',
    );
  });

  it('never echoes credentials back in the message', () => {
    const violation = violationOf(() => checkWebhookUrl('https://admin:hunter2@example.com/hook'));
    expect(violation.message).not.toContain('hunter2');
    expect(violation.message).toContain('https://example.com/hook');
  });

  it('names a cloud metadata hostname as such', () => {
    expect(violationOf(() => checkWebhookUrl('https://metadata.google.internal/')).message).toContain(
      'metadata.google.internal is a cloud metadata hostname',
    );
  });

  describe('with the dev/test loopback switch', () => {
    const dev = { allowHttpLoopback: true };

    it.each([
      'http://127.0.0.1:8080/x',
      'http://localhost:3000',
      'http://[::1]:9/',
      'http://127.8.9.10/',
      'http://localhost./hook',
      'https://localhost:8443/hook',
      'https://example.com/hook',
    ])('accepts %s', (url) => {
      expect(() => checkWebhookUrl(url, dev)).not.toThrow();
    });

    it.each([
      ['http://10.0.0.1', Code.AddressNotAllowed],
      ['http://169.254.169.254', Code.AddressNotAllowed],
      ['http://0.0.0.0:8080/', Code.AddressNotAllowed],
      ['http://[::ffff:127.0.0.1]/', Code.AddressNotAllowed],
      ['http://api.localhost/', Code.HostNotAllowed],
      ['http://intranet/', Code.HostNotAllowed],
      ['http://example.com/hook', Code.SchemeNotAllowed],
      ['http://93.184.216.34/hook', Code.SchemeNotAllowed],
    ])('still refuses %s with %s', (url, code) => {
      expect(violationOf(() => checkWebhookUrl(url, dev)).code).toBe(code);
    });
  });
});

describe('checkWebhookUrlAndResolve', () => {
  it('accepts a host that resolves only to public addresses and reports them', async () => {
    const lookup = fakeLookup({ 'hooks.partner.com': ['93.184.216.34', '2606:4700::1111'] });
    const resolved = await checkWebhookUrlAndResolve('https://hooks.partner.com/hook', { lookup });
    expect(resolved.url.href).toBe('https://hooks.partner.com/hook');
    expect(resolved.addresses).toEqual(['93.184.216.34', '2606:4700::1111']);
    expect(lookup).toHaveBeenCalledWith('hooks.partner.com', { all: true });
  });

  it('refuses a public-looking host that resolves to a private address, naming host and class', async () => {
    const lookup = fakeLookup({ 'hooks.partner.com': ['10.0.0.5'] });
    const violation = await rejectionOf(
      checkWebhookUrlAndResolve('https://hooks.partner.com/hook', { lookup }),
    );
    expect(violation.code).toBe(Code.AddressNotAllowed);
    expect(violation.host).toBe('hooks.partner.com');
    expect(violation.message).toBe(
      'https://hooks.partner.com/hook: hooks.partner.com resolves to a disallowed address: ' +
        '10.0.0.5 is a private address (10.0.0.0/8)',
    );
  });

  it('refuses a host that resolves to both public and private addresses', async () => {
    const lookup = fakeLookup({ 'mixed.partner.com': ['93.184.216.34', '169.254.169.254'] });
    const violation = await rejectionOf(checkWebhookUrlAndResolve('https://mixed.partner.com/', { lookup }));
    expect(violation.code).toBe(Code.AddressNotAllowed);
    expect(violation.blockedAddress?.addressClass).toBe('cloud-metadata');
  });

  it.each(['::ffff:127.0.0.1', 'fe80::1%eth0', 'fd00:ec2::254', '::1'])(
    'refuses a host that resolves to the IPv6 address %s',
    async (address) => {
      const lookup = fakeLookup({ 'v6.partner.com': [address] });
      const violation = await rejectionOf(checkWebhookUrlAndResolve('https://v6.partner.com/', { lookup }));
      expect(violation.code).toBe(Code.AddressNotAllowed);
    },
  );

  it('reports a resolution failure as RESOLUTION_FAILED with the resolver error as cause', async () => {
    const lookup = fakeLookup({});
    const violation = await rejectionOf(
      checkWebhookUrlAndResolve('https://nxdomain.partner.com/', { lookup }),
    );
    expect(violation.code).toBe(Code.ResolutionFailed);
    expect(violation.message).toBe(
      'https://nxdomain.partner.com/: could not resolve nxdomain.partner.com (ENOTFOUND)',
    );
    expect(violation.cause).toBeInstanceOf(Error);
  });

  it('reports an empty answer as RESOLUTION_FAILED', async () => {
    const lookup = fakeLookup({ 'empty.partner.com': [] });
    const violation = await rejectionOf(checkWebhookUrlAndResolve('https://empty.partner.com/', { lookup }));
    expect(violation.code).toBe(Code.ResolutionFailed);
  });

  it('does not resolve an IP literal host', async () => {
    const lookup = fakeLookup({});
    const resolved = await checkWebhookUrlAndResolve('https://[2606:4700::1111]/', { lookup });
    expect(resolved.addresses).toEqual(['2606:4700::1111']);
    expect(lookup).not.toHaveBeenCalled();
  });

  it('refuses a statically bad URL before resolving anything', async () => {
    const lookup = fakeLookup({});
    const violation = await rejectionOf(checkWebhookUrlAndResolve('http://hooks.partner.com/', { lookup }));
    expect(violation.code).toBe(Code.SchemeNotAllowed);
    expect(lookup).not.toHaveBeenCalled();
  });

  it('lets localhost resolve to loopback with the dev switch', async () => {
    const lookup = fakeLookup({ localhost: ['127.0.0.1', '::1'] });
    const resolved = await checkWebhookUrlAndResolve('http://localhost:3000/hook', {
      lookup,
      allowHttpLoopback: true,
    });
    expect(resolved.addresses).toEqual(['127.0.0.1', '::1']);
  });

  it('still refuses a host resolving to a private address with the dev switch', async () => {
    const lookup = fakeLookup({ 'hooks.partner.com': ['192.168.0.10'] });
    const violation = await rejectionOf(
      checkWebhookUrlAndResolve('https://hooks.partner.com/', { lookup, allowHttpLoopback: true }),
    );
    expect(violation.code).toBe(Code.AddressNotAllowed);
  });
});
