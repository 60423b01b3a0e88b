import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import {
  SIGNATURE_SCHEME_TRAITS,
  STANDARD_WEBHOOKS_HEADERS,
  type SignaturePolicy,
} from '@skyhook/delivery-policy';
import { hmacKeyFor } from '@skyhook/secrets';
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
 * one only. Throws a {@link WebhookSigningError} if there is no secret, and a `SecretsError` if a
 * `whsec_` secret is not base64 under Standard Webhooks.
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
  const keyFor = (secret: string): KeyObject => createSecretKey(hmacKeyFor(secret, traits.hmacKeyEncoding));

  switch (signature.scheme) {
    case 'standard-webhooks':
      return standardWebhooksSigner(secretsNewestFirst.map(keyFor));
    case 'timestamped-hmac-hex':
      return timestampedHmacHexSigner(signature.header, secretsNewestFirst.map(keyFor));
    case 'hmac-hex':
    case 'hmac-base64':
      // A bare digest cannot carry two signatures, so the newest secret signs alone.
      return bodyHmacSigner(signature.header, keyFor(newestSecret), traits.digestEncoding);
  }
}

/**
 * `webhook-id`, `webhook-timestamp`, and `webhook-signature: v1,<sig> v1,<sig>` with base64
 * HMAC-SHA256 of `"<id>.<timestamp>.<body>"`, as the Standard Webhooks spec and its verifier
 * libraries expect.
 */
function standardWebhooksSigner(keys: readonly KeyObject[]): WebhookSigner {
  return {
    sign(messageId, timestampSeconds, body) {
      const timestamp = unixSecondsText(timestampSeconds);
      // Hashed as prefix then body, so the body is never copied into a concatenated string.
      const signedPrefix = `${messageId}.${timestamp}.`;
      const signatures = keys.map((key) => `v1,${hmacSha256(key, signedPrefix, body, 'base64')}`);
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
