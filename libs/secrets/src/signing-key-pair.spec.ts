import { sign, verify } from 'node:crypto';
import { SecretsError } from './secrets.error';
import {
  generateSigningKeyPair,
  isSigningKey,
  publicKeyJwk,
  publicKeyOf,
  signingPrivateKeyOf,
  verifyingKeyOf,
} from './signing-key-pair';
import { secretHint, validateCallerSecret } from './signing-secret';

// RFC 8032 §7.1, test 1 (the key RFC 8037 Appendix A uses too).
const RFC_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const RFC_PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
const RFC_EMPTY_MESSAGE_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const RFC_SIGNING_KEY = `whsk_${RFC_SEED.toString('base64')}`;

describe('ed25519 signing key pairs (Standard Webhooks whsk_/whpk_)', () => {
  it('derives RFC 8032’s public key and signature from its seed', () => {
    expect(publicKeyOf(RFC_SIGNING_KEY)).toBe(`whpk_${RFC_PUBLIC.toString('base64')}`);
    expect(sign(null, Buffer.alloc(0), signingPrivateKeyOf(RFC_SIGNING_KEY)).toString('hex')).toBe(
      RFC_EMPTY_MESSAGE_SIGNATURE,
    );
  });

  it('reads libsodium’s 64-byte form (seed, then public key) and refuses one whose halves disagree', () => {
    const libsodium = `whsk_${Buffer.concat([RFC_SEED, RFC_PUBLIC]).toString('base64')}`;
    expect(sign(null, Buffer.alloc(0), signingPrivateKeyOf(libsodium)).toString('hex')).toBe(
      RFC_EMPTY_MESSAGE_SIGNATURE,
    );
    const mismatched = `whsk_${Buffer.concat([RFC_SEED, Buffer.alloc(32, 1)]).toString('base64')}`;
    expect(() => signingPrivateKeyOf(mismatched)).toThrow(SecretsError);
  });

  it('gives RFC 8037’s JSON Web Key and thumbprint for the public key', () => {
    expect(publicKeyJwk(publicKeyOf(RFC_SIGNING_KEY))).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
      kid: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
      use: 'sig',
      alg: 'EdDSA',
    });
  });

  it('makes pairs whose public key verifies what the signing key signs, each pair its own', () => {
    const first = generateSigningKeyPair();
    const second = generateSigningKeyPair();
    expect(first.signingKey).toMatch(/^whsk_[A-Za-z0-9+/]{43}=$/);
    expect(first.publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(second.signingKey).not.toBe(first.signingKey);
    expect(isSigningKey(first.signingKey)).toBe(true);
    expect(isSigningKey(first.publicKey)).toBe(false);
    const message = Buffer.from('msg_1.1700000000.{"a":1}');
    const signature = sign(null, message, signingPrivateKeyOf(first.signingKey));
    expect(verify(null, message, verifyingKeyOf(first.publicKey), signature)).toBe(true);
    expect(verify(null, message, verifyingKeyOf(second.publicKey), signature)).toBe(false);
  });

  it.each([
    ['no key material', 'whsk_'],
    ['not base64', 'whsk_not*base64*at*all'],
    ['a key of the wrong length', `whsk_${Buffer.alloc(31).toString('base64')}`],
  ])('refuses a signing key with %s, never echoing it', (_, key) => {
    expect(() => signingPrivateKeyOf(key)).toThrow(SecretsError);
    try {
      signingPrivateKeyOf(key);
    } catch (error) {
      expect((error as Error).message).not.toContain(key.slice(5) || 'whsk_x');
    }
  });

  it('refuses a malformed public key', () => {
    expect(() => verifyingKeyOf(`whpk_${Buffer.alloc(33).toString('base64')}`)).toThrow(SecretsError);
    expect(() => verifyingKeyOf(RFC_SIGNING_KEY)).toThrow(SecretsError);
  });

  it('takes a caller’s whsk_ key when it is one, refuses a public key given as a secret, and hints only the prefix and tail', () => {
    expect(validateCallerSecret(RFC_SIGNING_KEY)).toBe(RFC_SIGNING_KEY);
    expect(() => validateCallerSecret(`whsk_${Buffer.alloc(20, 7).toString('base64')}`)).toThrow(/32-byte/);
    expect(() => validateCallerSecret(publicKeyOf(RFC_SIGNING_KEY))).toThrow(/public key cannot sign/);
    expect(secretHint(RFC_SIGNING_KEY)).toBe(`whsk_…${RFC_SIGNING_KEY.slice(-4)}`);
  });
});
