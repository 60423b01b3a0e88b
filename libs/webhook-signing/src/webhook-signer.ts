import { createHmac, createSecretKey, type KeyObject, sign as signWithPrivateKey } from 'node:crypto';
import {
  SIGNATURE_SCHEME_TRAITS,
  STANDARD_WEBHOOKS_HEADERS,
  type SignaturePolicy,
} from '@skyhook/delivery-policy';
import { hmacKeyFor, isSigningKey, signingPrivateKeyOf } from '@skyhook/secrets';
import { WebhookSigningError, WebhookSigningErrorCode } from './webhook-signing.error';

/** Compiled once per (subscription, policy, secrets) and reused for every delivery. */
export interface WebhookSigner {
  /**
   * The signature headers for one attempt, named as the policy spells them. `messageId` and
   * `timestampSeconds` are used only by the schemes that sign them; `body` is the exact bytes
   * that will be sent.
   */
  sign(messageId: string, timestampSeconds: number, body: Buffer): Record<string, string>;
}

/**
 * Derives the HMAC keys once, so signing a delivery is only the HMACs themselves. Keys are
 * `KeyObject`s: on Node 24, `createHmac` with a `KeyObject` is several times faster than with a
 * `Buffer` key, and a `KeyObject` does not print its bytes if a signer is ever logged.
 *
 * `secretsNewestFirst` is the subscription's current secret followed by any still inside their
 * rotation grace period. Schemes whose header can carry several signatures sign with each, so a
 * receiver verifies with either the old or the new secret; a bare digest carries the current
 * one only. Under the Standard Webhooks schemes each secret signs as its kind: an HMAC secret
 * `v1`, an ed25519 signing key (`whsk_`) `v1a`. Throws a {@link WebhookSigningError} if there is
 * no secret or a signing key under an HMAC-only scheme, and a `SecretsError` if a `whsec_` secret
 * is not base64 under Standard Webhooks or a `whsk_` key is malformed.
 */
export function compileSigner(
  signature: SignaturePolicy,
  secretsNewestFirst: readonly string[],
): WebhookSigner {
  const [newestSecret] = secretsNewestFirst;
  if (newestSecret === undefined) {
    throw new WebhookSigningError(
      WebhookSigningErrorCode.NoSigningSecret,
      `cannot sign ${signature.scheme} deliveries without a signing secret`,
    );
  }
  if (secretsNewestFirst.some((secret) => secret.length === 0)) {
    // An empty HMAC key would yield signatures anyone can forge.
    throw new WebhookSigningError(
      WebhookSigningErrorCode.NoSigningSecret,
      `cannot sign ${signature.scheme} deliveries with an empty signing secret`,
    );
  }

  const traits = SIGNATURE_SCHEME_TRAITS[signature.scheme];
  const keyFor = (secret: string): KeyObject => {
    if (isSigningKey(secret)) {
      throw new WebhookSigningError(
        WebhookSigningErrorCode.SigningKeyNotUsable,
        `an ed25519 signing key (whsk_) signs only Standard Webhooks deliveries, not ${signature.scheme}: rotate to a shared secret`,
      );
    }
    return createSecretKey(hmacKeyFor(secret, traits.hmacKeyEncoding));
  };

  switch (signature.scheme) {
    case 'standard-webhooks':
    case 'standard-webhooks-v1a':
      return standardWebhooksSigner(
        secretsNewestFirst.map((secret) =>
          isSigningKey(secret)
            ? { version: 'v1a', key: signingPrivateKeyOf(secret) }
            : { version: 'v1', key: keyFor(secret) },
        ),
      );
    case 'timestamped-hmac-hex':
      return timestampedHmacHexSigner(signature.header, secretsNewestFirst.map(keyFor));
    case 'hmac-hex':
    case 'hmac-base64':
      // A bare digest cannot carry two signatures, so the newest secret signs alone.
      return bodyHmacSigner(signature.header, keyFor(newestSecret), traits.digestEncoding);
  }
}

/** A Standard Webhooks signing key: an HMAC key (`v1`) or an ed25519 private key (`v1a`). */
interface StandardWebhooksKey {
  readonly version: 'v1' | 'v1a';
  readonly key: KeyObject;
}

/**
 * `webhook-id`, `webhook-timestamp`, and `webhook-signature: v1,<sig> v1a,<sig>` with each
 * secret's signature of `"<id>.<timestamp>.<body>"`: base64 HMAC-SHA256 (`v1`) or base64
 * ed25519 (`v1a`), as the Standard Webhooks spec and its verifier libraries expect.
 */
function standardWebhooksSigner(keys: readonly StandardWebhooksKey[]): WebhookSigner {
  return {
    sign(messageId, timestampSeconds, body) {
      const timestamp = unixSecondsText(timestampSeconds);
      // HMACs hash prefix then body, so the body is copied only for an ed25519 signature.
      const signedPrefix = `${messageId}.${timestamp}.`;
      const signatures = keys.map(({ version, key }) =>
        version === 'v1'
          ? `v1,${hmacSha256(key, signedPrefix, body, 'base64')}`
          : `v1a,${signWithPrivateKey(null, Buffer.concat([Buffer.from(signedPrefix, 'utf8'), body]), key).toString('base64')}`,
      );
      return {
        [STANDARD_WEBHOOKS_HEADERS.id]: messageId,
        [STANDARD_WEBHOOKS_HEADERS.timestamp]: timestamp,
        [STANDARD_WEBHOOKS_HEADERS.signature]: signatures.join(' '),
      };
    },
  };
}

/**
 * `<header>: t=<unix seconds>,v1=<hex>[,v1=<hex>…]` with HMAC-SHA256 of `"<t>.<raw body>"`
 * (Flightline). Flightline's verifier decodes the body as UTF-8 before signing; that is
 * lossless here because `JSON.stringify` always produces well-formed UTF-16 (lone surrogates are
 * escaped), so the body bytes are valid UTF-8. Flightline's published verifier reads only the
 * last `v1` (a Python dict), so the current secret's signature comes **last**: a receiver built
 * from the sample verifies with the current secret, and one that tries every `v1` with either.
 */
function timestampedHmacHexSigner(header: string, keysCurrentFirst: readonly KeyObject[]): WebhookSigner {
  const keysCurrentLast = [...keysCurrentFirst].reverse();
  return {
    sign(_messageId, timestampSeconds, body) {
      const timestamp = unixSecondsText(timestampSeconds);
      const signedPrefix = `${timestamp}.`;
      let value = `t=${timestamp}`;
      for (const key of keysCurrentLast) {
        value += `,v1=${hmacSha256(key, signedPrefix, body, 'hex')}`;
      }
      return { [header]: value };
    },
  };
}

/** `<header>: <hex or base64 HMAC-SHA256 of the raw body>` (FlexOrch, AviationAlley, Flintn). */
function bodyHmacSigner(header: string, key: KeyObject, digestEncoding: 'hex' | 'base64'): WebhookSigner {
  return {
    sign(_messageId, _timestampSeconds, body) {
      return { [header]: hmacSha256(key, '', body, digestEncoding) };
    },
  };
}

function hmacSha256(key: KeyObject, signedPrefix: string, body: Buffer, encoding: 'hex' | 'base64'): string {
  const hmac = createHmac('sha256', key);
  if (signedPrefix !== '') {
    hmac.update(signedPrefix, 'utf8');
  }
  return hmac.update(body).digest(encoding);
}

/** A fractional or negative timestamp would be signed as given, then rejected by every receiver. */
function unixSecondsText(timestampSeconds: number): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new WebhookSigningError(
      WebhookSigningErrorCode.InvalidTimestamp,
      `signature timestamp must be whole, non-negative Unix seconds, got ${timestampSeconds}`,
    );
  }
  return String(timestampSeconds);
}
