import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { SecretsError, SecretsErrorCode } from './secrets.error';

/** Standard Webhooks' serialisation of an ed25519 secret (signing) key: `whsk_` + base64. */
export const SIGNING_KEY_PREFIX = 'whsk_';
/** Standard Webhooks' serialisation of an ed25519 public key: `whpk_` + base64 of its 32 bytes. */
export const PUBLIC_KEY_PREFIX = 'whpk_';

const ED25519_KEY_BYTES = 32;
/** RFC 8410's PKCS #8 wrapping of a 32-byte ed25519 private key, before the key bytes. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** RFC 8410's SubjectPublicKeyInfo wrapping of a 32-byte ed25519 public key, before the key bytes. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface SigningKeyPair {
  /** `whsk_…`: kept by Skyhook (encrypted like every secret), never shown again. */
  readonly signingKey: string;
  /** `whpk_…`: what the partner verifies `v1a` signatures with. */
  readonly publicKey: string;
}

/** Whether a secret is an ed25519 signing key (signs `v1a`) rather than an HMAC secret. */
export function isSigningKey(secret: string): boolean {
  return secret.startsWith(SIGNING_KEY_PREFIX);
}

/** A new ed25519 key pair in Standard Webhooks' serialisation. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'jwk' }).d;
  if (seed === undefined) throw new Error('an ed25519 private key exports its seed');
  const signingKey = SIGNING_KEY_PREFIX + Buffer.from(seed, 'base64url').toString('base64');
  return { signingKey, publicKey: publicKeyOf(signingKey) };
}

/**
 * The private key of a `whsk_` signing key: base64 of the 32-byte ed25519 seed (RFC 8032's
 * private key), or of the 64 bytes libsodium writes (seed, then public key), whose second half
 * must then be the seed's public key. Throws a {@link SecretsError} otherwise, never echoing it.
 */
export function signingPrivateKeyOf(signingKey: string): KeyObject {
  const encoded = signingKey.startsWith(SIGNING_KEY_PREFIX)
    ? signingKey.slice(SIGNING_KEY_PREFIX.length)
    : '';
  const bytes = STANDARD_BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
  if (bytes.length !== ED25519_KEY_BYTES && bytes.length !== 2 * ED25519_KEY_BYTES) {
    throw new SecretsError(
      SecretsErrorCode.MalformedSigningSecret,
      'a whsk_ signing key must continue with the base64 of a 32-byte ed25519 key (or of libsodium’s 64 bytes)',
    );
  }
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, bytes.subarray(0, ED25519_KEY_BYTES)]),
    format: 'der',
    type: 'pkcs8',
  });
  if (bytes.length === 2 * ED25519_KEY_BYTES) {
    const publicBytes = rawPublicKeyOf(createPublicKey(privateKey));
    if (!publicBytes.equals(bytes.subarray(ED25519_KEY_BYTES))) {
      throw new SecretsError(
        SecretsErrorCode.MalformedSigningSecret,
        'a 64-byte whsk_ signing key must end with the public key of its first 32 bytes',
      );
    }
  }
  return privateKey;
}

/** The `whpk_` public key of a `whsk_` signing key. */
export function publicKeyOf(signingKey: string): string {
  return (
    PUBLIC_KEY_PREFIX + rawPublicKeyOf(createPublicKey(signingPrivateKeyOf(signingKey))).toString('base64')
  );
}

/** The key a `whpk_` public key verifies `v1a` signatures with. Throws a {@link SecretsError} if malformed. */
export function verifyingKeyOf(publicKey: string): KeyObject {
  const encoded = publicKey.startsWith(PUBLIC_KEY_PREFIX) ? publicKey.slice(PUBLIC_KEY_PREFIX.length) : '';
  const bytes = STANDARD_BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
  if (bytes.length !== ED25519_KEY_BYTES) {
    throw new SecretsError(
      SecretsErrorCode.MalformedSigningSecret,
      'a whpk_ public key must continue with the base64 of a 32-byte ed25519 public key',
    );
  }
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, bytes]), format: 'der', type: 'spki' });
}

/**
 * A public key as a JSON Web Key (RFC 8037), with its RFC 7638 thumbprint as `kid`: what a
 * receiver's JOSE library reads from a key set.
 */
export function publicKeyJwk(publicKey: string): {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  use: 'sig';
  alg: 'EdDSA';
} {
  const raw = Buffer.from(publicKey.slice(PUBLIC_KEY_PREFIX.length), 'base64');
  const x = raw.toString('base64url');
  // The thumbprint hashes the required members in lexicographic order, without whitespace.
  const kid = createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
  return { kty: 'OKP', crv: 'Ed25519', x, kid, use: 'sig', alg: 'EdDSA' };
}

function rawPublicKeyOf(publicKey: KeyObject): Buffer {
  const x = publicKey.export({ format: 'jwk' }).x;
  if (x === undefined) throw new Error('an ed25519 public key exports its x');
  return Buffer.from(x, 'base64url');
}
