import { BlockList, isIP } from 'node:net';
import { type UrlPolicyOptions } from './url-policy-options';

/** Why an address is refused; stable values, safe to log and to branch on. */
export type BlockedAddressClass =
  | 'not-an-ip'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared-cgnat'
  | 'link-local'
  | 'cloud-metadata'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'benchmarking'
  | 'unique-local'
  | 'site-local'
  | 'teredo'
  | 'ipv4-compatible';

export interface BlockedAddress {
  readonly address: string;
  readonly addressClass: BlockedAddressClass;
  /** The range that matched, e.g. `10.0.0.0/8`. */
  readonly range: string;
  /** Set when the verdict is about an IPv4 address carried inside this IPv6 one (mapped, NAT64, 6to4). */
  readonly embeddedIpv4?: string;
}

const CLASS_PHRASES: Record<BlockedAddressClass, string> = {
  'not-an-ip': 'not a canonical IP address',
  unspecified: 'an unspecified address',
  loopback: 'a loopback address',
  private: 'a private address',
  'shared-cgnat': 'a carrier-grade NAT address',
  'link-local': 'a link-local address',
  'cloud-metadata': 'a cloud metadata address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  documentation: 'a documentation address',
  benchmarking: 'a benchmarking address',
  'unique-local': 'a unique-local address',
  'site-local': 'a site-local address',
  teredo: 'a Teredo tunnel address',
  'ipv4-compatible': 'a deprecated IPv4-compatible address',
};

interface AddressRange {
  readonly cidr: string;
  readonly addressClass: BlockedAddressClass;
}

// First match wins, so the specific entries (metadata endpoints, broadcast) precede the ranges that contain
// them: the message then tells an operator what was actually targeted.
const IPV4_RANGES: readonly AddressRange[] = [
  { cidr: '169.254.169.254/32', addressClass: 'cloud-metadata' }, // AWS, GCP, Azure, OpenStack, ...
  { cidr: '169.254.170.2/32', addressClass: 'cloud-metadata' }, // AWS ECS task credentials
  { cidr: '169.254.170.23/32', addressClass: 'cloud-metadata' }, // AWS EKS Pod Identity
  { cidr: '100.100.100.200/32', addressClass: 'cloud-metadata' }, // Alibaba Cloud
  { cidr: '192.0.0.192/32', addressClass: 'cloud-metadata' }, // Oracle Cloud (legacy)
  { cidr: '0.0.0.0/8', addressClass: 'unspecified' }, // "this network"; 0.0.0.0 reaches localhost on Linux
  { cidr: '10.0.0.0/8', addressClass: 'private' },
  { cidr: '100.64.0.0/10', addressClass: 'shared-cgnat' },
  { cidr: '127.0.0.0/8', addressClass: 'loopback' },
  { cidr: '169.254.0.0/16', addressClass: 'link-local' },
  { cidr: '172.16.0.0/12', addressClass: 'private' },
  { cidr: '192.0.0.0/24', addressClass: 'reserved' }, // IETF protocol assignments
  { cidr: '192.0.2.0/24', addressClass: 'documentation' },
  { cidr: '192.88.99.0/24', addressClass: 'reserved' }, // deprecated 6to4 relay anycast
  { cidr: '192.168.0.0/16', addressClass: 'private' },
  { cidr: '198.18.0.0/15', addressClass: 'benchmarking' },
  { cidr: '198.51.100.0/24', addressClass: 'documentation' },
  { cidr: '203.0.113.0/24', addressClass: 'documentation' },
  { cidr: '224.0.0.0/4', addressClass: 'multicast' },
  { cidr: '255.255.255.255/32', addressClass: 'broadcast' },
  { cidr: '240.0.0.0/4', addressClass: 'reserved' },
];

// IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) are not listed: they are judged by the IPv4
// address they carry, see classifyIpv6. Anything outside 2000::/3 that is not listed is refused anyway.
const IPV6_RANGES: readonly AddressRange[] = [
  { cidr: 'fd00:ec2::254/128', addressClass: 'cloud-metadata' }, // AWS IMDS over IPv6
  { cidr: 'fd00:ec2::23/128', addressClass: 'cloud-metadata' }, // AWS EKS Pod Identity over IPv6
  { cidr: '::/128', addressClass: 'unspecified' },
  { cidr: '::1/128', addressClass: 'loopback' },
  { cidr: '::/96', addressClass: 'ipv4-compatible' },
  { cidr: '64:ff9b:1::/48', addressClass: 'reserved' }, // local-use NAT64: translates into private networks
  { cidr: '100::/64', addressClass: 'reserved' }, // discard-only
  { cidr: '2001::/32', addressClass: 'teredo' }, // the tunnelled IPv4 client is obfuscated; refuse outright
  { cidr: '2001:2::/48', addressClass: 'benchmarking' },
  { cidr: '2001:db8::/32', addressClass: 'documentation' },
  { cidr: '2001::/23', addressClass: 'reserved' }, // IETF protocol assignments
  { cidr: '3fff::/20', addressClass: 'documentation' },
  { cidr: 'fc00::/7', addressClass: 'unique-local' },
  { cidr: 'fe80::/10', addressClass: 'link-local' },
  { cidr: 'fec0::/10', addressClass: 'site-local' },
  { cidr: 'ff00::/8', addressClass: 'multicast' },
];

interface CompiledRange extends AddressRange {
  readonly list: BlockList;
}

// One BlockList per range so a match can name its range. Each address is only checked against ranges of
// its own family: BlockList matches IPv4 rules against IPv4-mapped IPv6 input (and the reverse), which
// would blur the messages; mapped addresses are unwrapped explicitly instead.
function compile(ranges: readonly AddressRange[], family: 'ipv4' | 'ipv6'): readonly CompiledRange[] {
  return ranges.map((range) => {
    const [network = '', prefix = ''] = range.cidr.split('/');
    const list = new BlockList();
    list.addSubnet(network, Number(prefix), family);
    return { ...range, list };
  });
}

const COMPILED_IPV4 = compile(IPV4_RANGES, 'ipv4');
const COMPILED_IPV6 = compile(IPV6_RANGES, 'ipv6');
const IPV6_GLOBAL_UNICAST = new BlockList();
IPV6_GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

function matchRange(
  address: string,
  ranges: readonly CompiledRange[],
  family: 'ipv4' | 'ipv6',
): AddressRange | undefined {
  return ranges.find((range) => range.list.check(address, family));
}

/** Expands a valid IPv6 address into its eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  const text = address.replace(
    /(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
    (_match, a: string, b: string, c: string, d: string) => {
      const high = (Number(a) << 8) | Number(b);
      const low = (Number(c) << 8) | Number(d);
      return `${high.toString(16)}:${low.toString(16)}`;
    },
  );
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const elided = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array<string>(elided).fill('0'), ...tailGroups].map((group) =>
    parseInt(group, 16),
  );
}

function ipv4FromGroups(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The IPv4 address an IPv6 address forwards to, for the forms a connection really ends up at. */
function embeddedIpv4(groups: readonly number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0xffff) return ipv4FromGroups(g6, g7); // ::ffff:0:0/96, IPv4-mapped
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return ipv4FromGroups(g6, g7); // 64:ff9b::/96, well-known NAT64 prefix
  }
  if (g0 === 0x2002) return ipv4FromGroups(g1 ?? 0, g2 ?? 0); // 2002::/16, 6to4
  return undefined;
}

function classifyIpv4(address: string): BlockedAddress | undefined {
  const range = matchRange(address, COMPILED_IPV4, 'ipv4');
  return range && { address, addressClass: range.addressClass, range: range.cidr };
}

function classifyIpv6(address: string): BlockedAddress | undefined {
  const range = matchRange(address, COMPILED_IPV6, 'ipv6');
  if (range) return { address, addressClass: range.addressClass, range: range.cidr };

  const ipv4 = embeddedIpv4(ipv6Groups(address));
  if (ipv4 !== undefined) {
    const inner = classifyIpv4(ipv4);
    return inner && { ...inner, address, embeddedIpv4: ipv4 };
  }
  if (!IPV6_GLOBAL_UNICAST.check(address, 'ipv6')) {
    return { address, addressClass: 'reserved', range: 'outside global unicast 2000::/3' };
  }
  return undefined;
}

/**
 * Why `address` must not be contacted, or undefined for a public unicast address. Accepts a bracketed
 * IPv6 host (`[::1]`) and a zone suffix (`fe80::1%eth0`). Anything that is not a canonical IP address
 * (e.g. `0177.0.0.1`) is refused rather than guessed at: net would not read it the way we might.
 */
export function classifyAddress(address: string): BlockedAddress | undefined {
  const unbracketed = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // BlockList silently fails to match an address with a zone, so drop the zone before checking.
  const bare = unbracketed.includes(':') ? unbracketed.replace(/%.*$/, '') : unbracketed;
  switch (isIP(bare)) {
    case 4:
      return classifyIpv4(bare);
    case 6: {
      const blocked = classifyIpv6(bare);
      return blocked && { ...blocked, address: unbracketed };
    }
    default:
      return { address, addressClass: 'not-an-ip', range: 'expected dotted decimal or IPv6' };
  }
}

/** Like classifyAddress, but lets loopback through when the dev/test switch is on. */
export function blockedUnderPolicy(address: string, options: UrlPolicyOptions): BlockedAddress | undefined {
  const blocked = classifyAddress(address);
  const allowedLoopback =
    options.allowHttpLoopback === true &&
    blocked?.addressClass === 'loopback' &&
    blocked.embeddedIpv4 === undefined;
  return allowedLoopback ? undefined : blocked;
}

/** "10.0.0.5 is a private address (10.0.0.0/8)" */
export function explainBlockedAddress(blocked: BlockedAddress): string {
  const what = `${CLASS_PHRASES[blocked.addressClass]} (${blocked.range})`;
  return blocked.embeddedIpv4 === undefined
    ? `${blocked.address} is ${what}`
    : `${blocked.address} embeds ${blocked.embeddedIpv4}, ${what}`;
}
