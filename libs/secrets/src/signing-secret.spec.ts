import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { SecretsError, SecretsErrorCode } from './secrets.error';
import { generateSigningSecret, hmacKeyFor, secretHint, validateCallerSecret } from './signing-secret';

function errorCodeOf(action: () => unknown): SecretsErrorCode | undefined {
  try {
    action();
    return undefined;
  } catch (error: unknown) {
    if (error instanceof SecretsError) {
      return error.code;
    }
    throw error;
  }
}

describe('generateSigningSecret', () => {
  it('is whsec_ followed by the base64 of 32 random bytes', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
  });

  it('never repeats', () => {
    expect(generateSigningSecret()).not.toBe(generateSigningSecret());
  });
});

describe('hmacKeyFor', () => {
  it('HMAC key for a whsec_ secret under standard-webhooks is the base64-decoded bytes', () => {
    const keyBytes = randomBytes(32);
    const secret = `whsec_${keyBytes.toString('base64')}`;
    expect(hmacKeyFor(secret, 'standard-webhooks').equals(keyBytes)).toBe(true);
  });

  it('HMAC key for the same whsec_ secret under raw is the literal UTF-8 string, prefix included', () => {
    const secret = generateSigningSecret();
    expect(hmacKeyFor(secret, 'raw').equals(Buffer.from(secret, 'utf8'))).toBe(true);
  });

  it('a caller secret without the prefix is used literally under standard-webhooks, even if it looks like base64', () => {
    const secret = 'abcdefghijklmnopqrstuvwx';
    expect(hmacKeyFor(secret, 'standard-webhooks').toString('utf8')).toBe(secret);
  });

  it('rejects a whsec_ secret whose remainder is not base64 under standard-webhooks', () => {
    expect(errorCodeOf(() => hmacKeyFor('whsec_not base64!', 'standard-webhooks'))).toBe(
      SecretsErrorCode.MalformedSigningSecret,
    );
  });

  it('signs like the standardwebhooks package: HMAC over "<id>.<timestamp>.<body>" with the derived key', () => {
    const secret = generateSigningSecret();
    const messageId = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
    const sentAt = new Date('2026-05-31T14:03:22.000Z');
    const body = JSON.stringify({ type: 'booking.created', data: { bookingId: 'b-1', note: 'ünïcode' } });
    const timestampSeconds = Math.floor(sentAt.getTime() / 1000);

    const ours = createHmac('sha256', hmacKeyFor(secret, 'standard-webhooks'))
      .update(`${messageId}.${timestampSeconds}.${body}`)
      .digest('base64');

    expect(new Webhook(secret).sign(messageId, sentAt, body)).toBe(`v1,${ours}`);
  });

  it('matches the standardwebhooks package in raw format for a literal caller secret', () => {
    const secret = 'caller-supplied-secret-0123456789';
    const sentAt = new Date('2026-05-31T14:03:22.000Z');
    const ours = createHmac('sha256', hmacKeyFor(secret, 'standard-webhooks'))
      .update(`msg_1.${sentAt.getTime() / 1000}.{}`)
      .digest('base64');
    expect(new Webhook(secret, { format: 'raw' }).sign('msg_1', sentAt, '{}')).toBe(`v1,${ours}`);
  });

  it("matches AviationAlley's Node verifier, which keys the HMAC with the literal secret string", () => {
    const secret = generateSigningSecret();
    const rawBody = Buffer.from('{"id":"del_1","type":"booking.created"}');
    const receiverExpects = createHmac('sha256', secret).update(rawBody).digest('hex');
    expect(createHmac('sha256', hmacKeyFor(secret, 'raw')).update(rawBody).digest('hex')).toBe(
      receiverExpects,
    );
  });
});

describe('validateCallerSecret', () => {
  it('accepts a printable ASCII secret of 16–256 characters and returns it unchanged', () => {
    for (const secret of ['your_signing_secret', 'a'.repeat(16), 'b'.repeat(256)]) {
      expect(validateCallerSecret(secret)).toBe(secret);
    }
  });

  it('accepts a Standard Webhooks secret', () => {
    const secret = generateSigningSecret();
    expect(validateCallerSecret(secret)).toBe(secret);
  });

  it.each([
    ['15 characters', 'a'.repeat(15)],
    ['257 characters', 'a'.repeat(257)],
    ['a space', 'this secret has spaces in it'],
    ['a newline', `${'a'.repeat(24)}\n`],
    ['non-ASCII', `${'a'.repeat(24)}é`],
    ['whsec_ followed by non-base64', 'whsec_this-is-not-base64-at-all'],
  ])('rejects a secret with %s', (_description, secret) => {
    expect(errorCodeOf(() => validateCallerSecret(secret))).toBe(SecretsErrorCode.InvalidCallerSecret);
  });

  it('never echoes the rejected secret in the error message', () => {
    const secret = 'short-secret';
    try {
      validateCallerSecret(secret);
      throw new Error('expected a rejection');
    } catch (error: unknown) {
      expect(error).toBeInstanceOf(SecretsError);
      expect((error as SecretsError).message).not.toContain(secret);
    }
  });
});

describe('secretHint', () => {
  it('shows the whsec_ prefix, an ellipsis and the last four characters', () => {
    expect(secretHint('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwa1b2')).toBe('whsec_…a1b2');
  });

  it('does not show the leading part of a caller secret', () => {
    expect(secretHint('acme_production_signing_key_9f8e')).toBe('…9f8e');
  });

  it('the hint never reveals more than 4 characters of the secret', () => {
    for (const secret of [
      generateSigningSecret(),
      'your_signing_secret_0123456789',
      'x'.repeat(256),
      'sk_abcdefghijkl_0123456789012345678901234567890123456789012',
    ]) {
      const hint = secretHint(secret);
      const revealed = hint.slice(hint.indexOf('…') + 1);
      expect(revealed.length).toBeLessThanOrEqual(4);
      expect(secret.endsWith(revealed)).toBe(true);
    }
  });

  it('reveals nothing of a short secret', () => {
    expect(secretHint('whsec_abcd')).toBe('whsec_…');
    expect(secretHint('tiny')).toBe('…');
  });
});
