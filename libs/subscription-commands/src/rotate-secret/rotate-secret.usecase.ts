import { decideRotateSecret, type SecretActivation, type SubscriptionState } from '@skyhook/subscriptions';
import { changeSubscription } from '../apply-decisions';
import {
  newSigningSecret,
  sealSigningSecret,
  verifiedWith,
  type SubscriptionWithSecret,
} from '../signing-secret-seal';
import { effectiveSignatureOf } from '../subscriber-organisation';
import { SubscriptionInputError, SubscriptionInputErrorCode } from '../subscription-command.error';
import { type SubscriptionCommandDependencies } from '../subscription-command-dependencies';
import { type RotateSecretCommand } from './rotate-secret.command';

/** A scheduled activation may be set this far ahead at most. */
export const MAX_ACTIVATION_LEAD_DAYS = 30;

/**
 * Adds a new signing secret: it signs at once, when activated, or at a set time, while the one it
 * replaces keeps its grace (receivers of multi-signature schemes accept either meanwhile).
 */
export class RotateSecret {
  constructor(private readonly dependencies: SubscriptionCommandDependencies) {}

  async execute(command: RotateSecretCommand): Promise<SubscriptionWithSecret<SubscriptionState>> {
    const { store, secrets, clock, settings } = this.dependencies;
    let signingSecret = '';
    const graceMs =
      command.graceSeconds === undefined ? settings.defaultRotationGraceMs : command.graceSeconds * 1_000;
    const activation = activationOf(command);
    let secretId = '';
    const target = { ...command, organisationId: command.organisation.id };
    const { state } = await changeSubscription(store, clock, target, (current, now) => {
      if (activation.kind === 'scheduled') assertActivationAhead(activation.at, now);
      // Of the kind the subscription's scheme signs with now: a rotation is how a subscription
      // moves between HMAC secrets and key pairs (both sign during the grace period).
      signingSecret = newSigningSecret(
        effectiveSignatureOf(command.organisation, current.policy),
        command.secret,
      );
      const sealed = sealSigningSecret(secrets, current.id, signingSecret, now);
      secretId = sealed.id;
      return [decideRotateSecret(current, sealed, { graceMs, activation }, now)];
    });
    return { subscription: state, signingSecret: verifiedWith(signingSecret), secretId };
  }
}

function activationOf(command: RotateSecretCommand): SecretActivation {
  if (command.activation === 'manual') return { kind: 'manual' };
  if (command.activation !== 'scheduled') return { kind: 'immediate' };
  const at = new Date(command.activateAt ?? Number.NaN);
  if (Number.isNaN(at.getTime())) {
    throw new SubscriptionInputError(
      SubscriptionInputErrorCode.Invalid,
      'a scheduled activation needs activateAt, an ISO 8601 instant',
      [{ path: 'activateAt', message: 'required with activation "scheduled"' }],
    );
  }
  return { kind: 'scheduled', at };
}

/** A scheduled activation lies ahead of the clock, and not too far. */
function assertActivationAhead(at: Date, now: Date): void {
  const leadMs = at.getTime() - now.getTime();
  if (leadMs <= 0 || leadMs > MAX_ACTIVATION_LEAD_DAYS * 24 * 3600 * 1_000) {
    throw new SubscriptionInputError(
      SubscriptionInputErrorCode.Invalid,
      `activateAt must lie after now and within ${MAX_ACTIVATION_LEAD_DAYS} days`,
      { activateAt: at.toISOString(), now: now.toISOString() },
    );
  }
}
