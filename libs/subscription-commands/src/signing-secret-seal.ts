import { randomBytes } from 'node:crypto';
import { type StoredSecret } from '@skyhook/contracts';
import { secretHint } from '@skyhook/secrets';
import { type SecretSealer } from './ports';

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
    createdAt: now.toISOString(),
    retiresAt: null,
  };
}

/** What a command that makes a secret answers: the secret is shown this once. */
export interface SubscriptionWithSecret<State> {
  readonly subscription: State;
  /** Shown once, at creation and rotation; only a hint is ever shown again. */
  readonly signingSecret: string;
  /** Its id: what `POST …/secrets/{secretId}/activation` names. */
  readonly secretId: string;
}
