import { randomBytes } from 'node:crypto';
import { SecretsError, SecretsErrorCode } from './secrets.error';
import { PUBLIC_KEY_PREFIX, SIGNING_KEY_PREFIX, signingPrivateKeyOf } from './signing-key-pair';

/** Marks a secret whose remainder is base64 (the Standard Webhooks secret format). */
export const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_';

/** 256-bit keys: the strength of HMAC-SHA256 itself, and inside Standard Webhooks' 24–64 bytes. */
const GENERATED_SECRET_KEY_BYTES = 32;

/**
 * A secret the receiver chose. 16 printable characters picked at random carry about 100 bits;
 * seeds let receivers choose freely (FlexOrch's documented example, `your_signing_secret`, has
 * 19), and refusing what their documentation shows would make a partner change its receiver.
 */
export const CALLER_SECRET_MIN_LENGTH = 16;
export const CALLER_SECRET_MAX_LENGTH = 256;

/** Printable ASCII without space: survives copy-paste, env files and every seed's verifier. */
const PRINTABLE_ASCII_WITHOUT_SPACE = /^[\x21-\x7E]+$/;

/** Padded standard base64, exactly what the `standardwebhooks` verifier decodes. */
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * How a signing secret string becomes the HMAC key bytes. Receivers verify with their own
 * code, so this must match what their verifier does with the secret string we gave them:
 *
 * - `standard-webhooks` — used by the Standard Webhooks signature scheme only. A secret of the
 *   form `whsec_<base64>` yields the base64-decoded bytes, exactly as the `standardwebhooks`
 *   libraries do. Any other secret (a caller-supplied one without the prefix) yields the UTF-8
 *   bytes of the whole string, which is what those libraries use with `{ format: 'raw' }`.
 *   Only the `whsec_` prefix marks a secret as base64: an unprefixed caller secret that happens
 *   to look like base64 is still used literally, so the rule never depends on the secret's
 *   characters. A `whsec_` secret whose remainder is not base64 is rejected, because a
 *   Standard Webhooks receiver could not decode it either.
 * - `raw` — used by every other scheme (timestamped hex HMAC, hex HMAC, base64 HMAC). The key
 *   is the UTF-8 bytes of the whole literal string, `whsec_` prefix included, because the
 *   seeds' verifiers key the HMAC with the secret as given: `secret.encode()` (Flightline,
 *   FlexOrch, AviationAlley in Python), `createHmac("sha256", secret)` (AviationAlley in Node),
 *   `[]byte(secret)` (Go), `hash_hmac(…, $secret)` (PHP). A generated `whsec_…` secret handed
 *   to such a receiver therefore works unchanged.
 */
export type HmacKeyEncoding = 'standard-webhooks' | 'raw';

/** A new Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return STANDARD_WEBHOOKS_SECRET_PREFIX + randomBytes(GENERATED_SECRET_KEY_BYTES).toString('base64');
}

/** The HMAC key for `secret` under the given encoding; see {@link HmacKeyEncoding}. */
export function hmacKeyFor(secret: string, encoding: HmacKeyEncoding): Buffer {
  switch (encoding) {
    case 'raw':
      return Buffer.from(secret, 'utf8');
    case 'standard-webhooks': {
      if (!secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)) {
        return Buffer.from(secret, 'utf8');
      }
      const encodedKey = secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length);
      if (!isStandardBase64(encodedKey)) {
        throw new SecretsError(
          SecretsErrorCode.MalformedSigningSecret,
          'signing secret starts with whsec_ but the rest is not base64',
        );
      }
      return Buffer.from(encodedKey, 'base64');
    }
  }
}

/**
 * Checks a secret a caller supplies instead of a generated one and returns it unchanged.
 * Throws a {@link SecretsError} whose message explains the rule and never echoes the secret.
 */
export function validateCallerSecret(secret: string): string {
  const problem = callerSecretProblem(secret);
  if (problem !== undefined) {
    throw new SecretsError(SecretsErrorCode.InvalidCallerSecret, problem);
  }
  return secret;
}

function callerSecretProblem(secret: string): string | undefined {
  if (secret.length < CALLER_SECRET_MIN_LENGTH || secret.length > CALLER_SECRET_MAX_LENGTH) {
    return `signing secret must be ${CALLER_SECRET_MIN_LENGTH}–${CALLER_SECRET_MAX_LENGTH} characters long`;
  }
  if (!PRINTABLE_ASCII_WITHOUT_SPACE.test(secret)) {
    return 'signing secret may contain only printable ASCII characters, without spaces';
  }
  // Checked here rather than at the first delivery: the secret may later be used under the
  // Standard Webhooks scheme, where the prefix promises base64.
  if (
    secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX) &&
    !isStandardBase64(secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length))
  ) {
    return 'a signing secret starting with whsec_ must continue with base64 (Standard Webhooks format); drop the prefix to use a literal secret';
  }
  if (secret.startsWith(PUBLIC_KEY_PREFIX)) {
    return 'a whpk_ public key cannot sign: give the whsk_ signing key, or leave the secret out to have a key pair made';
  }
  if (secret.startsWith(SIGNING_KEY_PREFIX)) {
    try {
      signingPrivateKeyOf(secret);
    } catch (error) {
      if (error instanceof SecretsError) return error.message;
      throw error;
    }
  }
  return undefined;
}

/** Prefixes that are a public format marker, not secret material, so a hint may show them. */
const PUBLIC_SECRET_PREFIXES = [STANDARD_WEBHOOKS_SECRET_PREFIX, SIGNING_KEY_PREFIX, 'sk_'] as const;
const HINT_TAIL_LENGTH = 4;
/** Below this, even four characters would be a large share of what is secret. */
const MIN_SECRET_LENGTH_FOR_TAIL = 16;

/**
 * A display hint like `whsec_…a1b2`: a known public prefix, an ellipsis and the last four
 * characters. Never more than four characters of secret material, and none for a short
 * secret. A caller-supplied secret's own prefix (`acme_…`) is not shown: it may be secret.
 */
export function secretHint(secret: string): string {
  const publicPrefix = PUBLIC_SECRET_PREFIXES.find((prefix) => secret.startsWith(prefix)) ?? '';
  const secretPart = secret.slice(publicPrefix.length);
  const tail = secretPart.length >= MIN_SECRET_LENGTH_FOR_TAIL ? secretPart.slice(-HINT_TAIL_LENGTH) : '';
  return `${publicPrefix}…${tail}`;
}

function isStandardBase64(value: string): boolean {
  return value.length > 0 && STANDARD_BASE64.test(value);
}
