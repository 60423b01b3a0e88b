import { randomBytes } from 'node:crypto';
import { type StoredSecret } from '@skyhook/contracts';
import {
  isStandardWebhooksScheme,
  SIGNATURE_SCHEME_TRAITS,
  type SignaturePolicy,
} from '@skyhook/delivery-policy';
import {
  generateSigningKeyPair,
  generateSigningSecret,
  isSigningKey,
  publicKeyOf,
  secretHint,
  validateCallerSecret,
} from '@skyhook/secrets';
import { type SecretSealer } from './ports';
import { SubscriptionInputError, SubscriptionInputErrorCode } from './subscription-command.error';

/**
 * A new secret for a subscription signing under `signature`: generated of the kind the scheme's
 * new secrets are (an ed25519 key pair under `standard-webhooks-v1a`, an HMAC secret otherwise),
 * or the caller's, checked against the scheme: an ed25519 signing key (`whsk_`) signs only the
 * Standard Webhooks schemes, and `standard-webhooks-v1a` signs only with one.
 */
export function newSigningSecret(signature: SignaturePolicy, callerSecret: string | undefined): string {
  const keyPairs = SIGNATURE_SCHEME_TRAITS[signature.scheme].newSecrets === 'ed25519';
  if (callerSecret === undefined)
    return keyPairs ? generateSigningKeyPair().signingKey : generateSigningSecret();
  const secret = validateCallerSecret(callerSecret);
  if (keyPairs && !isSigningKey(secret)) {
    throw new SubscriptionInputError(
      SubscriptionInputErrorCode.Invalid,
      'standard-webhooks-v1a signs with an ed25519 key pair: give a whsk_ signing key, or leave the secret out to have one made',
      [{ path: 'secret', message: 'a whsk_ signing key expected' }],
    );
  }
  if (isSigningKey(secret) && !isStandardWebhooksScheme(signature)) {
    throw new SubscriptionInputError(
      SubscriptionInputErrorCode.Invalid,
      `an ed25519 signing key (whsk_) signs only Standard Webhooks deliveries, not ${signature.scheme}`,
      [{ path: 'secret', message: 'a shared secret expected' }],
    );
  }
  return secret;
}

/**
 * Refuses a signature the subscription's secrets cannot sign: an HMAC-only scheme while an ed25519
 * key pair is among them (retired ones aside: they sign nothing). The way there is through a
 * Standard Webhooks scheme: rotate to a shared secret under it, and change the scheme once the
 * key pair has retired.
 */
export function assertSecretsSignUnder(
  signature: SignaturePolicy,
  secrets: readonly StoredSecret[],
  now: Date,
): void {
  if (isStandardWebhooksScheme(signature)) return;
  const keyPairs = secrets.filter(
    (secret) =>
      secret.publicKey !== undefined &&
      (secret.retiresAt === null || Date.parse(secret.retiresAt) > now.getTime()),
  );
  if (keyPairs.length === 0) return;
  throw new SubscriptionInputError(
    SubscriptionInputErrorCode.Invalid,
    `${signature.scheme} signs with shared secrets, and this subscription signs with an ed25519 key pair (${keyPairs
      .map((secret) => secret.id)
      .join(
        ', ',
      )}): rotate to a shared secret first (under a Standard Webhooks scheme both sign during the grace period), then change the scheme once the key pair has retired`,
    [{ path: 'policy.signature', message: 'not signable with the subscription’s key pair' }],
  );
}

/**
 * What the partner is shown of a new secret, this once: the secret itself, or for an ed25519
 * key pair its public key (`whpk_`): the signing key never leaves Skyhook.
 */
export function verifiedWith(secret: string): string {
  return isSigningKey(secret) ? publicKeyOf(secret) : secret;
}

/** A new secret as stored: encrypted, bound to its subscription and id, with the hint shown later. */
export function sealSigningSecret(
  sealer: SecretSealer,
  subscriptionId: string,
  signingSecret: string,
  now: Date,
): StoredSecret {
  const id = `sec_${randomBytes(8).toString('hex')}`;
  return {
    id,
    encrypted: sealer.encrypt(signingSecret, `${subscriptionId}:${id}`),
    hint: secretHint(signingSecret),
    // Public: listed with the subscription and in the organisation's key set without decrypting.
    ...(isSigningKey(signingSecret) ? { publicKey: publicKeyOf(signingSecret) } : {}),
    createdAt: now.toISOString(),
    retiresAt: null,
  };
}

/** What a command that makes a secret answers: the secret is shown this once. */
export interface SubscriptionWithSecret<State> {
  readonly subscription: State;
  /**
   * Shown once, at creation and rotation; only a hint is ever shown again. For an ed25519 key
   * pair, its public key (`whpk_`), which is also listed with the subscription.
   */
  readonly signingSecret: string;
  /** Its id: what `POST …/secrets/{secretId}/activation` names. */
  readonly secretId: string;
}
