import { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { blockedUnderPolicy, classifyAddress, explainBlockedAddress } from './address-classification';
import { type LookupAll, systemLookupAll } from './lookup-all';
import { type UrlPolicyOptions } from './url-policy-options';
import { UrlPolicyViolation, UrlPolicyViolationCode } from './url-policy-violation.error';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

// Names that resolve to the instance's own metadata service; refused by name so the error says so.
const METADATA_HOSTNAMES: ReadonlySet<string> = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
]);

// Suffixes that only ever name something on a local or private network (or nothing at all); a partner's
// public webhook endpoint never lives under them, while internal services routinely do.
const NON_PUBLIC_SUFFIXES: readonly { readonly suffix: string; readonly reason: string }[] = [
  { suffix: 'localhost', reason: 'a loopback name (RFC 6761)' },
  { suffix: 'local', reason: 'a multicast DNS name (RFC 6762)' },
  { suffix: 'localdomain', reason: 'a local network name' },
  { suffix: 'lan', reason: 'a local network name' },
  { suffix: 'internal', reason: 'a private-use name (.internal)' },
  { suffix: 'home.arpa', reason: 'a home network name (RFC 8375)' },
  { suffix: 'arpa', reason: 'an infrastructure name (.arpa)' },
  { suffix: 'test', reason: 'a reserved testing name (RFC 6761)' },
  { suffix: 'example', reason: 'a reserved documentation name (RFC 6761)' },
  { suffix: 'invalid', reason: 'a reserved invalid name (RFC 6761)' },
  { suffix: 'onion', reason: 'a Tor onion name (RFC 7686)' },
];

export interface ResolvedWebhookUrl {
  /** The normalised URL; store and call this one, not the string the partner sent. */
  readonly url: URL;
  /** Every address the host resolved to at check time (the literal itself for IP hosts). */
  readonly addresses: readonly string[];
}

export interface ResolutionCheckOptions extends UrlPolicyOptions {
  /** Defaults to the system resolver (dns.lookup). */
  readonly lookup?: LookupAll;
}

/** The URL without credentials, so messages never echo a secret back into responses or logs. */
function displayUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function quoteRaw(rawUrl: string): string {
  return JSON.stringify(rawUrl.length > 100 ? `${rawUrl.slice(0, 100)}…` : rawUrl);
}

/** The host as net.connect expects it: IPv6 literals without brackets, no trailing root dot. */
function connectHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname.replace(/\.+$/, '');
}

function hostnameRefusal(hostname: string, options: UrlPolicyOptions): string | undefined {
  if (hostname === '') return 'the host is empty';
  if (METADATA_HOSTNAMES.has(hostname)) return `${hostname} is a cloud metadata hostname`;
  if (hostname === 'localhost' && options.allowHttpLoopback === true) return undefined;
  const nonPublic = NON_PUBLIC_SUFFIXES.find(
    ({ suffix }) => hostname === suffix || hostname.endsWith(`.${suffix}`),
  );
  if (nonPublic) return `${hostname} is ${nonPublic.reason}`;
  // Single labels are resolved through the local search domains, i.e. into the internal network.
  if (!hostname.includes('.')) return `${hostname} is a single-label hostname`;
  return undefined;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || (isIP(host) !== 0 && classifyAddress(host)?.addressClass === 'loopback');
}

/**
 * Checks a webhook URL without touching DNS and returns it normalised by the WHATWG parser, which also
 * turns decimal/octal/hex/short IPv4 spellings (2130706433, 0177.0.0.1, 0x7f.1, 127.1) into dotted
 * decimal before the address check sees them. Throws UrlPolicyViolation.
 */
export function checkWebhookUrl(rawUrl: string, options: UrlPolicyOptions = {}): URL {
  const tooLong = (length: number) =>
    new UrlPolicyViolation(
      UrlPolicyViolationCode.UrlTooLong,
      `${quoteRaw(rawUrl)}: the URL is ${length} characters long; at most ${MAX_WEBHOOK_URL_LENGTH} are allowed`,
    );
  if (rawUrl.length > MAX_WEBHOOK_URL_LENGTH) throw tooLong(rawUrl.length);

  const url = URL.parse(rawUrl);
  if (url === null) {
    throw new UrlPolicyViolation(
      UrlPolicyViolationCode.InvalidUrl,
      `${quoteRaw(rawUrl)}: not a valid absolute URL (check the host and that the port is 1-65535)`,
    );
  }
  // Percent-encoding during normalisation can grow the URL past the limit.
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) throw tooLong(url.href.length);

  if (url.username !== '' || url.password !== '') {
    throw new UrlPolicyViolation(
      UrlPolicyViolationCode.CredentialsNotAllowed,
      `${displayUrl(url)}: credentials in the URL (user:password@) are not allowed; webhooks are signed instead`,
    );
  }
  const shown = displayUrl(url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UrlPolicyViolation(
      UrlPolicyViolationCode.SchemeNotAllowed,
      `${shown}: the scheme ${url.protocol.slice(0, -1)} is not allowed; use https`,
    );
  }
  // Fragments are never sent to the server, so one in a registered URL is a mistake or an attempt to make
  // the URL look like something else; refusing it keeps what the partner sees equal to what we call.
  if (url.href.includes('#')) {
    throw new UrlPolicyViolation(
      UrlPolicyViolationCode.FragmentNotAllowed,
      `${shown}: a fragment (#...) is not allowed; it is never sent to the server`,
    );
  }
  if (url.port === '0') {
    throw new UrlPolicyViolation(UrlPolicyViolationCode.PortNotAllowed, `${shown}: port 0 is not allowed`);
  }

  const host = connectHost(url);
  if (isIP(host) !== 0) {
    const blocked = blockedUnderPolicy(host, options);
    if (blocked) {
      throw new UrlPolicyViolation(
        UrlPolicyViolationCode.AddressNotAllowed,
        `${shown}: ${explainBlockedAddress(blocked)}`,
        { host, blockedAddress: blocked },
      );
    }
  } else {
    const refusal = hostnameRefusal(host, options);
    if (refusal !== undefined) {
      throw new UrlPolicyViolation(UrlPolicyViolationCode.HostNotAllowed, `${shown}: ${refusal}`, { host });
    }
  }

  // Checked after the host so that http://10.0.0.1 is reported as the private address it is.
  if (url.protocol === 'http:' && !(options.allowHttpLoopback === true && isLoopbackHost(host))) {
    throw new UrlPolicyViolation(
      UrlPolicyViolationCode.SchemeNotAllowed,
      `${shown}: plain http is not allowed; use https`,
      { host },
    );
  }
  return url;
}

/**
 * Registration-time check: checkWebhookUrl, then resolves the host and refuses the URL if ANY address
 * it resolves to is disallowed (an attacker only needs one). This does not protect against DNS
 * rebinding later; the dispatcher's connect-time guard does.
 */
export async function checkWebhookUrlAndResolve(
  rawUrl: string,
  options: ResolutionCheckOptions = {},
): Promise<ResolvedWebhookUrl> {
  const url = checkWebhookUrl(rawUrl, options);
  const host = connectHost(url);
  if (isIP(host) !== 0) return { url, addresses: [host] };

  const shown = displayUrl(url);
  const lookup = options.lookup ?? systemLookupAll;
  let resolved: LookupAddress[];
  try {
    resolved = await lookup(host, { all: true });
  } catch (error: unknown) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new UrlPolicyViolation(
      UrlPolicyViolationCode.ResolutionFailed,
      `${shown}: could not resolve ${host} (${reason})`,
      { host, cause: error },
    );
  }
  if (resolved.length === 0) {
    throw new UrlPolicyViolation(
      UrlPolicyViolationCode.ResolutionFailed,
      `${shown}: ${host} resolved to no addresses`,
      { host },
    );
  }

  const addresses = resolved.map((entry) => entry.address);
  for (const address of addresses) {
    const blocked = blockedUnderPolicy(address, options);
    if (blocked) {
      throw new UrlPolicyViolation(
        UrlPolicyViolationCode.AddressNotAllowed,
        `${shown}: ${host} resolves to a disallowed address: ${explainBlockedAddress(blocked)}`,
        { host, blockedAddress: blocked },
      );
    }
  }
  return { url, addresses };
}
