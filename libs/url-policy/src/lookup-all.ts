import { type LookupAddress, type LookupAllOptions } from 'node:dns';
import { lookup } from 'node:dns/promises';

/** The shape of `dns.promises.lookup(hostname, { all: true })`; injectable so tests need no DNS. */
export type LookupAll = (hostname: string, options: LookupAllOptions) => Promise<LookupAddress[]>;

// dns.lookup (getaddrinfo) rather than dns.resolve: it is what net.connect uses, so /etc/hosts and the
// system resolver configuration are honoured the same way at registration and at connect time.
export const systemLookupAll: LookupAll = (hostname, options) => lookup(hostname, options);
