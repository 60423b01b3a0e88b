import { type LookupAddress, type LookupOptions } from 'node:dns';
import { get } from 'node:http';
import { type LookupFunction } from 'node:net';
import { assertAddressAllowed, createGuardedLookup } from './connect-guard';
import { type LookupAll } from './lookup-all';
import { UrlPolicyViolation, UrlPolicyViolationCode as Code } from './url-policy-violation.error';

interface LookupOutcome {
  readonly error: NodeJS.ErrnoException | null;
  readonly address: string | LookupAddress[];
  readonly family: number | undefined;
}

/** Calls the lookup exactly the way net.connect does and captures what it hands back. */
function callLikeNet(
  lookup: LookupFunction,
  hostname: string,
  options: LookupOptions,
): Promise<LookupOutcome> {
  return new Promise((resolve) => {
    lookup(hostname, options, (error, address, family) => resolve({ error, address, family }));
  });
}

function resolvingTo(...addresses: string[]): jest.MockedFunction<LookupAll> {
  return jest.fn<Promise<LookupAddress[]>, Parameters<LookupAll>>(() =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))),
  );
}

describe('createGuardedLookup', () => {
  it.each([true, false])('fails with ADDRESS_NOT_ALLOWED for a private address (all: %s)', async (all) => {
    const lookup = createGuardedLookup({ lookup: resolvingTo('10.0.0.5') });
    const { error } = await callLikeNet(lookup, 'rebound.partner.com', { all });
    expect(error).toBeInstanceOf(UrlPolicyViolation);
    expect(error?.code).toBe(Code.AddressNotAllowed);
    expect(error?.message).toBe(
      'refusing to connect to rebound.partner.com: 10.0.0.5 is a private address (10.0.0.0/8)',
    );
  });

  it.each([true, false])('fails when any of several addresses is disallowed (all: %s)', async (all) => {
    const lookup = createGuardedLookup({ lookup: resolvingTo('93.184.216.34', '::ffff:169.254.169.254') });
    const { error } = await callLikeNet(lookup, 'mixed.partner.com', { all });
    expect(error?.code).toBe(Code.AddressNotAllowed);
  });

  it('passes a public address through as address and family when all is false', async () => {
    const lookup = createGuardedLookup({ lookup: resolvingTo('2606:4700::1111', '93.184.216.34') });
    const outcome = await callLikeNet(lookup, 'hooks.partner.com', { all: false, family: 0 });
    expect(outcome).toEqual({ error: null, address: '2606:4700::1111', family: 6 });
  });

  it('passes public addresses through as a list when all is true', async () => {
    const lookup = createGuardedLookup({ lookup: resolvingTo('93.184.216.34', '2606:4700::1111') });
    const outcome = await callLikeNet(lookup, 'hooks.partner.com', { all: true });
    expect(outcome.error).toBeNull();
    expect(outcome.address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700::1111', family: 6 },
    ]);
  });

  it('forwards the family and hints net asked for, always resolving all addresses', async () => {
    const resolver = resolvingTo('93.184.216.34');
    await callLikeNet(createGuardedLookup({ lookup: resolver }), 'hooks.partner.com', {
      family: 4,
      hints: 32,
    });
    expect(resolver).toHaveBeenCalledWith('hooks.partner.com', { family: 4, hints: 32, all: true });
  });

  it('hands resolver errors through unchanged so DNS failures keep their usual retry handling', async () => {
    const dnsError = Object.assign(new Error('getaddrinfo EAI_AGAIN hooks.partner.com'), {
      code: 'EAI_AGAIN',
    });
    const lookup = createGuardedLookup({ lookup: () => Promise.reject(dnsError) });
    const { error } = await callLikeNet(lookup, 'hooks.partner.com', { all: true });
    expect(error).toBe(dnsError);
  });

  it('fails with RESOLUTION_FAILED when the resolver returns no addresses', async () => {
    const lookup = createGuardedLookup({ lookup: resolvingTo() });
    const { error } = await callLikeNet(lookup, 'empty.partner.com', { all: false });
    expect(error?.code).toBe(Code.ResolutionFailed);
  });

  it('lets loopback through only with the dev switch', async () => {
    const devLookup = createGuardedLookup({ lookup: resolvingTo('127.0.0.1'), allowHttpLoopback: true });
    expect((await callLikeNet(devLookup, 'localhost', { all: false })).address).toBe('127.0.0.1');

    const prodLookup = createGuardedLookup({ lookup: resolvingTo('127.0.0.1') });
    expect((await callLikeNet(prodLookup, 'localhost', { all: false })).error?.code).toBe(
      Code.AddressNotAllowed,
    );
  });

  it('makes an http request fail with the violation before any socket connects', async () => {
    const lookup = createGuardedLookup({ lookup: resolvingTo('169.254.169.254') });
    const error = await new Promise<unknown>((resolve) => {
      const request = get({ host: 'metadata.partner.com', port: 80, path: '/', lookup, agent: false }, () =>
        resolve(new Error('the request unexpectedly got a response')),
      );
      request.on('error', resolve);
    });
    expect(error).toBeInstanceOf(UrlPolicyViolation);
    expect((error as UrlPolicyViolation).code).toBe(Code.AddressNotAllowed);
  });
});

describe('assertAddressAllowed', () => {
  it.each(['93.184.216.34', '2606:4700::1111', '[2606:4700::1111]'])(
    'allows the public literal %s',
    (address) => {
      expect(() => assertAddressAllowed(address)).not.toThrow();
    },
  );

  it.each(['10.0.0.5', '127.0.0.1', '[::1]', '::ffff:10.0.0.1', 'fe80::1%eth0', '0177.0.0.1', 'not-an-ip'])(
    'refuses %s with ADDRESS_NOT_ALLOWED',
    (address) => {
      expect(() => assertAddressAllowed(address)).toThrow(
        expect.objectContaining({ code: Code.AddressNotAllowed }) as Error,
      );
    },
  );

  it('allows loopback literals only with the dev switch', () => {
    expect(() => assertAddressAllowed('127.0.0.1', { allowHttpLoopback: true })).not.toThrow();
    expect(() => assertAddressAllowed('[::1]', { allowHttpLoopback: true })).not.toThrow();
    expect(() => assertAddressAllowed('10.0.0.1', { allowHttpLoopback: true })).toThrow(UrlPolicyViolation);
  });
});
