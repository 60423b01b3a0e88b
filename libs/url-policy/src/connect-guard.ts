import { type LookupAddress, type LookupOptions } from 'node:dns';
import { type LookupFunction } from 'node:net';
import { blockedUnderPolicy, explainBlockedAddress } from './address-classification';
import { type LookupAll, systemLookupAll } from './lookup-all';
import { type UrlPolicyOptions } from './url-policy-options';
import { UrlPolicyViolation, UrlPolicyViolationCode } from './url-policy-violation.error';

export interface GuardedLookupOptions extends UrlPolicyOptions {
  /** Defaults to the system resolver (dns.lookup), which is what net uses without a guard. */
  readonly lookup?: LookupAll;
}

/**
 * Throws ADDRESS_NOT_ALLOWED unless `address` (an IP literal; `[::1]` brackets are accepted) may be
 * contacted. The dispatcher must call this itself when the URL host is an IP literal: net.connect skips
 * the `lookup` option for IP literals, so the guarded lookup never sees them.
 */
export function assertAddressAllowed(address: string, options: UrlPolicyOptions = {}): void {
  const blocked = blockedUnderPolicy(address, options);
  if (blocked) {
    throw new UrlPolicyViolation(
      UrlPolicyViolationCode.AddressNotAllowed,
      `refusing to connect: ${explainBlockedAddress(blocked)}`,
      { host: address, blockedAddress: blocked },
    );
  }
}

async function resolveAllowed(
  hostname: string,
  lookupOptions: LookupOptions,
  options: GuardedLookupOptions,
): Promise<[LookupAddress, ...LookupAddress[]]> {
  const lookup = options.lookup ?? systemLookupAll;
  // Always resolve everything: with all:false we still refuse a host that also resolves somewhere private,
  // so the answer does not depend on which record happens to come first.
  const [first, ...rest] = await lookup(hostname, { ...lookupOptions, all: true });
  if (first === undefined) {
    throw new UrlPolicyViolation(
      UrlPolicyViolationCode.ResolutionFailed,
      `refusing to connect to ${hostname}: it resolved to no addresses`,
      { host: hostname },
    );
  }
  const addresses: [LookupAddress, ...LookupAddress[]] = [first, ...rest];
  for (const { address } of addresses) {
    const blocked = blockedUnderPolicy(address, options);
    if (blocked) {
      throw new UrlPolicyViolation(
        UrlPolicyViolationCode.AddressNotAllowed,
        `refusing to connect to ${hostname}: ${explainBlockedAddress(blocked)}`,
        { host: hostname, blockedAddress: blocked },
      );
    }
  }
  return addresses;
}

/**
 * A `lookup` for net.connect / http(s).Agent options that checks the addresses right before the socket
 * connects, so a host that passed registration and was later re-pointed at an internal address (DNS
 * rebinding) is still refused. The callback gets a UrlPolicyViolation (code ADDRESS_NOT_ALLOWED) for a
 * disallowed address; resolver errors (ENOTFOUND, EAI_AGAIN) pass through unchanged so the dispatcher's
 * usual retry handling for DNS failures still applies.
 */
export function createGuardedLookup(options: GuardedLookupOptions = {}): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    resolveAllowed(hostname, lookupOptions, options).then(
      (addresses) => {
        if (lookupOptions.all === true) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (error: unknown) => {
        callback(
          error instanceof Error ? error : new Error(String(error)),
          lookupOptions.all === true ? [] : '',
        );
      },
    );
  };
}
