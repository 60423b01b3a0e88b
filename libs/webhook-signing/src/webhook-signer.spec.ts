import { createHmac, timingSafeEqual } from 'node:crypto';
import { SecretsError, generateSigningKeyPair, generateSigningSecret } from '@skyhook/secrets';
import { Webhook } from 'standardwebhooks';
import nacl from 'tweetnacl';
import { compileSigner } from './webhook-signer';
import { WebhookSigningError, WebhookSigningErrorCode } from './webhook-signing.error';

const body = Buffer.from(JSON.stringify({ id: 'evt_1', type: 'booking.created', data: { note: 'Zoë' } }));
const tamperedBody = Buffer.from(body.toString().replace('Zoë', 'Zoe'));
const messageId = 'del_abc123';
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Flightline's published Python verifier, line for line: `dict(...)` keeps the last `v1`. */
function flightlineVerify(rawBody: Buffer, header: string, secret: string): boolean {
  const parts = new Map(header.split(',').map((part) => splitOnce(part, '=')));
  const signed = Buffer.from(`${parts.get('t')}.${rawBody.toString('utf8')}`, 'utf8');
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(signed).digest('hex');
  return safeEqual(expected, parts.get('v1') ?? '');
}

/** The same scheme checked Stripe-style: any `v1` entry may match. */
function anyTimestampedSignatureMatches(rawBody: Buffer, header: string, secret: string): boolean {
  const parts = header.split(',').map((part) => splitOnce(part, '='));
  const timestamp = parts.find(([name]) => name === 't')?.[1];
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody.toString()}`).digest('hex');
  return parts.some(([name, value]) => name === 'v1' && safeEqual(expected, value));
}

/** AviationAlley's and FlexOrch's verifier: hex HMAC-SHA256 of the raw body, keyed by the secret string. */
function rawBodyHexVerify(rawBody: Buffer, header: string, secret: string): boolean {
  return safeEqual(createHmac('sha256', secret).update(rawBody).digest('hex'), header);
}

/** Flintn's: base64 HMAC-SHA256 of the raw body. */
function rawBodyBase64Verify(rawBody: Buffer, header: string, secret: string): boolean {
  return safeEqual(createHmac('sha256', secret).update(rawBody).digest('base64'), header);
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)];
}

function safeEqual(expected: string, actual: string): boolean {
  return expected.length === actual.length && timingSafeEqual(Buffer.from(expected), Buffer.from(actual));
}

function headerOf(headers: Record<string, string>, name: string): string {
  const value = headers[name];
  if (value === undefined) {
    throw new Error(`no ${name} header in ${JSON.stringify(Object.keys(headers))}`);
  }
  return value;
}

describe('compileSigner: standard-webhooks', () => {
  const signature = { scheme: 'standard-webhooks' } as const;

  it('emits webhook-id, webhook-timestamp and a v1 signature the standardwebhooks library verifies', () => {
    const secret = generateSigningSecret();
    const timestamp = nowSeconds();
    const headers = compileSigner(signature, [secret]).sign(messageId, timestamp, body);

    expect(Object.keys(headers)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    expect(headers['webhook-id']).toBe(messageId);
    expect(headers['webhook-timestamp']).toBe(String(timestamp));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body.toString()));
  });

  it('signs with every secret, newest first, and each secret alone verifies', () => {
    const newest = generateSigningSecret();
    const previous = generateSigningSecret();
    const timestamp = nowSeconds();
    const headers = compileSigner(signature, [newest, previous]).sign(messageId, timestamp, body);

    const newestOnly = compileSigner(signature, [newest]).sign(messageId, timestamp, body);
    const previousOnly = compileSigner(signature, [previous]).sign(messageId, timestamp, body);
    expect(headers['webhook-signature']).toBe(
      `${headerOf(newestOnly, 'webhook-signature')} ${headerOf(previousOnly, 'webhook-signature')}`,
    );
    expect(() => new Webhook(newest).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
  });

  it('fails verification for a tampered body, another message id or a wrong secret', () => {
    const secret = generateSigningSecret();
    const headers = compileSigner(signature, [secret]).sign(messageId, nowSeconds(), body);

    expect(() => new Webhook(secret).verify(tamperedBody, headers)).toThrow('No matching signature');
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'del_other' })).toThrow(
      'No matching signature',
    );
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers)).toThrow('No matching signature');
  });

  it('keys a caller secret without the whsec_ prefix with its literal bytes, as the library does with format raw', () => {
    const secret = 'acme-partner-secret-0123456789';
    const headers = compileSigner(signature, [secret]).sign(messageId, nowSeconds(), body);
    expect(() => new Webhook(secret, { format: 'raw' }).verify(body, headers)).not.toThrow();
  });

  it('rejects a whsec_ secret that is not base64 when compiling, not when signing', () => {
    expect(() => compileSigner(signature, ['whsec_not*base64'])).toThrow(SecretsError);
  });
});

/**
 * A Standard Webhooks v1a verifier written from the specification's text, on TweetNaCl (an ed25519
 * implementation that shares nothing with Node's OpenSSL, which signs): the whpk_ key is base64
 * of the 32-byte public key; each space-separated `v1a,<base64>` entry is an ed25519 signature of
 * `"<webhook-id>.<webhook-timestamp>.<body>"`; any one verifying is enough.
 */
function v1aVerify(rawBody: Buffer, headers: Record<string, string>, publicKey: string): boolean {
  const key = new Uint8Array(Buffer.from(publicKey.replace(/^whpk_/, ''), 'base64'));
  const signed = new Uint8Array(
    Buffer.concat([Buffer.from(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`), rawBody]),
  );
  return (headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((entry) => entry.startsWith('v1a,'))
    .some((entry) => {
      const signature = new Uint8Array(Buffer.from(entry.slice(4), 'base64'));
      return signature.length === 64 && nacl.sign.detached.verify(signed, signature, key);
    });
}

describe('compileSigner: standard-webhooks-v1a (ed25519)', () => {
  const signature = { scheme: 'standard-webhooks-v1a' } as const;

  it('sends a v1a signature that an independent ed25519 implementation verifies with the whpk_ key', () => {
    const pair = generateSigningKeyPair();
    const headers = compileSigner(signature, [pair.signingKey]).sign(messageId, nowSeconds(), body);
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    expect(headers['webhook-signature']).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(v1aVerify(body, headers, pair.publicKey)).toBe(true);
    expect(v1aVerify(tamperedBody, headers, pair.publicKey)).toBe(false);
    expect(v1aVerify(body, { ...headers, 'webhook-id': 'del_other' }, pair.publicKey)).toBe(false);
    expect(v1aVerify(body, headers, generateSigningKeyPair().publicKey)).toBe(false);
  });

  it('signs with every live key while one rotates, and each public key alone verifies', () => {
    const [next, previous] = [generateSigningKeyPair(), generateSigningKeyPair()];
    const headers = compileSigner(signature, [next.signingKey, previous.signingKey]).sign(
      messageId,
      nowSeconds(),
      body,
    );
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(v1aVerify(body, headers, next.publicKey)).toBe(true);
    expect(v1aVerify(body, headers, previous.publicKey)).toBe(true);
  });

  it('signs v1 and v1a side by side while a subscription moves from a shared secret to a key pair', () => {
    const pair = generateSigningKeyPair();
    const secret = generateSigningSecret();
    for (const scheme of ['standard-webhooks', 'standard-webhooks-v1a'] as const) {
      const headers = compileSigner({ scheme }, [pair.signingKey, secret]).sign(
        messageId,
        nowSeconds(),
        body,
      );
      expect(headers['webhook-signature']).toMatch(/^v1a,\S+ v1,\S+$/);
      expect(v1aVerify(body, headers, pair.publicKey)).toBe(true);
      // The standardwebhooks library (v1 only) verifies the same request with the shared secret.
      expect(new Webhook(secret).verify(body.toString(), headers)).toEqual(JSON.parse(body.toString()));
    }
  });
});

describe('compileSigner: timestamped-hmac-hex (Flightline)', () => {
  const signature = { scheme: 'timestamped-hmac-hex', header: 'X-Flightline-Signature' } as const;

  it("sends t=<unix seconds>,v1=<hex> in the configured header, verified by Flightline's own verifier", () => {
    // A generated whsec_ secret is used literally, prefix included, as Flightline's verifier does.
    const secret = generateSigningSecret();
    const headers = compileSigner(signature, [secret]).sign(messageId, 1_780_236_202, body);

    expect(Object.keys(headers)).toEqual(['X-Flightline-Signature']);
    const header = headerOf(headers, 'X-Flightline-Signature');
    expect(header).toMatch(/^t=1780236202,v1=[0-9a-f]{64}$/);
    expect(flightlineVerify(body, header, secret)).toBe(true);
    expect(flightlineVerify(tamperedBody, header, secret)).toBe(false);
    expect(flightlineVerify(body, header, generateSigningSecret())).toBe(false);
  });

  it('binds the timestamp: the same signature under another t fails', () => {
    const secret = generateSigningSecret();
    const header = headerOf(
      compileSigner(signature, [secret]).sign(messageId, 1_780_236_202, body),
      'X-Flightline-Signature',
    );
    expect(flightlineVerify(body, header.replace('t=1780236202', 't=1780236203'), secret)).toBe(false);
  });

  it('adds one v1 per retiring secret, the current one last, each verifying with its own secret', () => {
    const newest = generateSigningSecret();
    const previous = generateSigningSecret();
    const header = headerOf(
      compileSigner(signature, [newest, previous]).sign(messageId, 1_780_236_202, body),
      'X-Flightline-Signature',
    );

    expect(header).toMatch(/^t=1780236202,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    const newestOnly = headerOf(
      compileSigner(signature, [newest]).sign(messageId, 1_780_236_202, body),
      'X-Flightline-Signature',
    );
    expect(header.endsWith(newestOnly.slice('t=1780236202'.length))).toBe(true);
    expect(anyTimestampedSignatureMatches(body, header, newest)).toBe(true);
    expect(anyTimestampedSignatureMatches(body, header, previous)).toBe(true);
    expect(anyTimestampedSignatureMatches(tamperedBody, header, newest)).toBe(false);
  });

  it("once a new secret is active, Flightline's published verifier (last v1 wins) accepts it, and only it", () => {
    // Its `dict(...)` keeps the last v1: the current secret's. A receiver holding one secret
    // switches when the new one activates (docs/profiles/flightline.md); one that tries every v1
    // accepts either during the grace period.
    const newest = generateSigningSecret();
    const previous = generateSigningSecret();
    const header = headerOf(
      compileSigner(signature, [newest, previous]).sign(messageId, 1_780_236_202, body),
      'X-Flightline-Signature',
    );
    expect(flightlineVerify(body, header, newest)).toBe(true);
    expect(flightlineVerify(body, header, previous)).toBe(false);
  });
});

describe.each([
  {
    scheme: 'hmac-hex',
    header: 'X-AviationAlley-Signature',
    verify: rawBodyHexVerify,
    digest: /^[0-9a-f]{64}$/,
  },
  {
    scheme: 'hmac-base64',
    header: 'X-Signature-Primary',
    verify: rawBodyBase64Verify,
    digest: /^[A-Za-z0-9+/]{43}=$/,
  },
] as const)('compileSigner: $scheme', ({ scheme, header, verify, digest }) => {
  const signature = { scheme, header };

  it('sends the bare digest of the raw body in the configured header', () => {
    const secret = generateSigningSecret();
    const headers = compileSigner(signature, [secret]).sign(messageId, nowSeconds(), body);

    expect(Object.keys(headers)).toEqual([header]);
    expect(headerOf(headers, header)).toMatch(digest);
    expect(verify(body, headerOf(headers, header), secret)).toBe(true);
    expect(verify(tamperedBody, headerOf(headers, header), secret)).toBe(false);
  });

  it('signs with the newest secret only, since a bare digest cannot carry two', () => {
    const newest = generateSigningSecret();
    const previous = generateSigningSecret();
    const value = headerOf(compileSigner(signature, [newest, previous]).sign(messageId, 0, body), header);

    expect(verify(body, value, newest)).toBe(true);
    expect(verify(body, value, previous)).toBe(false);
  });
});

describe('compileSigner: misuse', () => {
  function signingErrorCodeOf(action: () => unknown): WebhookSigningErrorCode | undefined {
    try {
      action();
      return undefined;
    } catch (error: unknown) {
      if (error instanceof WebhookSigningError) {
        return error.code;
      }
      throw error;
    }
  }

  it.each([
    { scheme: 'standard-webhooks' },
    { scheme: 'standard-webhooks-v1a' },
    { scheme: 'timestamped-hmac-hex', header: 'X-Sig' },
    { scheme: 'hmac-hex', header: 'X-Sig' },
    { scheme: 'hmac-base64', header: 'X-Sig' },
  ] as const)('$scheme: throws without a secret, or with an empty one', (signature) => {
    expect(signingErrorCodeOf(() => compileSigner(signature, []))).toBe(
      WebhookSigningErrorCode.NoSigningSecret,
    );
    expect(signingErrorCodeOf(() => compileSigner(signature, [generateSigningSecret(), '']))).toBe(
      WebhookSigningErrorCode.NoSigningSecret,
    );
  });

  it.each([
    { scheme: 'timestamped-hmac-hex', header: 'X-Sig' },
    { scheme: 'hmac-hex', header: 'X-Sig' },
    { scheme: 'hmac-base64', header: 'X-Sig' },
  ] as const)(
    '$scheme: refuses an ed25519 signing key, which only Standard Webhooks carries',
    (signature) => {
      expect(signingErrorCodeOf(() => compileSigner(signature, [generateSigningKeyPair().signingKey]))).toBe(
        WebhookSigningErrorCode.SigningKeyNotUsable,
      );
    },
  );

  it.each([1.5, -1, Number.NaN])('throws for the timestamp %p instead of signing it', (timestamp) => {
    const signer = compileSigner({ scheme: 'standard-webhooks' }, [generateSigningSecret()]);
    expect(signingErrorCodeOf(() => signer.sign(messageId, timestamp, body))).toBe(
      WebhookSigningErrorCode.InvalidTimestamp,
    );
  });
});
