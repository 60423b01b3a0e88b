import { classifyAddress, explainBlockedAddress } from './address-classification';

describe('classifyAddress', () => {
  it.each([
    ['0.1.2.3', 'unspecified', '0.0.0.0/8'],
    ['10.255.0.1', 'private', '10.0.0.0/8'],
    ['100.127.255.254', 'shared-cgnat', '100.64.0.0/10'],
    ['127.255.0.1', 'loopback', '127.0.0.0/8'],
    ['169.254.169.254', 'cloud-metadata', '169.254.169.254/32'],
    ['169.254.170.2', 'cloud-metadata', '169.254.170.2/32'],
    ['169.254.0.1', 'link-local', '169.254.0.0/16'],
    ['172.20.0.1', 'private', '172.16.0.0/12'],
    ['192.168.255.255', 'private', '192.168.0.0/16'],
    ['192.0.2.200', 'documentation', '192.0.2.0/24'],
    ['198.19.255.1', 'benchmarking', '198.18.0.0/15'],
    ['239.255.255.250', 'multicast', '224.0.0.0/4'],
    ['255.255.255.255', 'broadcast', '255.255.255.255/32'],
    ['250.1.2.3', 'reserved', '240.0.0.0/4'],
    ['::', 'unspecified', '::/128'],
    ['::1', 'loopback', '::1/128'],
    ['::a00:1', 'ipv4-compatible', '::/96'],
    ['fd00:ec2::254', 'cloud-metadata', 'fd00:ec2::254/128'],
    ['fdff::1', 'unique-local', 'fc00::/7'],
    ['febf::1', 'link-local', 'fe80::/10'],
    ['fec0::1', 'site-local', 'fec0::/10'],
    ['ff05::2', 'multicast', 'ff00::/8'],
    ['2001::1', 'teredo', '2001::/32'],
    ['2001:db8:1::1', 'documentation', '2001:db8::/32'],
    ['2001:10::1', 'reserved', '2001::/23'],
    ['8000::1', 'reserved', 'outside global unicast 2000::/3'],
    ['0177.0.0.1', 'not-an-ip', 'expected dotted decimal or IPv6'],
    ['10.0.0.1%eth0', 'not-an-ip', 'expected dotted decimal or IPv6'],
  ])('classifies %s as %s (%s)', (address, addressClass, range) => {
    expect(classifyAddress(address)).toMatchObject({ addressClass, range });
  });

  it.each([
    ['::ffff:10.1.2.3', '10.1.2.3', 'private'],
    ['::ffff:a9fe:a9fe', '169.254.169.254', 'cloud-metadata'],
    ['64:ff9b::c0a8:1', '192.168.0.1', 'private'],
    ['2002:6440:1::', '100.64.0.1', 'shared-cgnat'],
  ])('judges %s by the IPv4 address %s it carries', (address, embeddedIpv4, addressClass) => {
    expect(classifyAddress(address)).toMatchObject({ address, embeddedIpv4, addressClass });
  });

  it.each([
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '2606:4700::1111',
    '::ffff:1.1.1.1',
    '2a00:1450:4001::200e',
  ])('leaves the public address %s alone', (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });

  it('ignores an IPv6 zone when matching, so it cannot hide a link-local address', () => {
    expect(classifyAddress('fe80::1%eth0')).toMatchObject({ addressClass: 'link-local' });
  });

  it('explains an embedded address in terms of what it carries', () => {
    const blocked = classifyAddress('64:ff9b::a00:1');
    expect(blocked && explainBlockedAddress(blocked)).toBe(
      '64:ff9b::a00:1 embeds 10.0.0.1, a private address (10.0.0.0/8)',
    );
  });
});
