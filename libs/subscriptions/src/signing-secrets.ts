import { type StoredSecret } from '@skyhook/contracts';
import { SubscriptionError, SubscriptionErrorCode } from './subscription.error';

/**
 * Where a secret is in its life at a moment:
 * - `pending`: rotated in, waiting for its activation (the partner's call, or the time they chose);
 *   it signs nothing yet, so a receiver holding the current secret keeps verifying;
 * - `current`: the latest activated secret; every delivery is signed with it;
 * - `retiring`: activated earlier and replaced, inside its grace period: schemes whose header
 *   carries several signatures still sign with it, after the current one;
 * - `retired`: past its grace period; kept in the log only.
 */
export type SecretPhase = 'pending' | 'current' | 'retiring' | 'retired';

/** At most this many secrets at once: current, retiring and pending together. */
export const MAX_LIVE_SECRETS = 3;

/** How a rotated-in secret becomes current. */
export type SecretActivation =
  | { readonly kind: 'immediate' }
  | { readonly kind: 'manual' }
  | { readonly kind: 'scheduled'; readonly at: Date };

export interface SigningSecrets {
  readonly current: StoredSecret;
  /** Replaced but inside their grace period, the most recently replaced first. */
  readonly retiring: readonly StoredSecret[];
  readonly pending: readonly StoredSecret[];
  /** When the current secret was activated by a rotation; undefined for the first secret. */
  readonly currentActivatedAt: number | undefined;
  /** The next moment a phase changes (an activation or a retirement): recompute then. */
  readonly nextChangeAt: number;
}

/** When a secret became (or becomes) active; `undefined` while it waits for its activation call. */
export function activationTimeOf(secret: StoredSecret): number | undefined {
  if (secret.activatesAt === undefined) return Date.parse(secret.createdAt);
  return secret.activatesAt === null ? undefined : Date.parse(secret.activatesAt);
}

function isRetiredAt(secret: StoredSecret, now: number): boolean {
  return secret.retiresAt !== null && Date.parse(secret.retiresAt) <= now;
}

/** Which secret signs at `now`, which still sign beside it, which wait, and when that changes. */
export function signingSecretsAt(secrets: readonly StoredSecret[], now: number): SigningSecrets {
  const activatedNewestFirst = secrets
    .filter((secret) => (activationTimeOf(secret) ?? Number.POSITIVE_INFINITY) <= now)
    .sort((a, b) => (activationTimeOf(b) as number) - (activationTimeOf(a) as number));
  // Never without a current secret: were every activated one retired (a log written by hand), the
  // latest activated one would still sign rather than none.
  const [current = activatedNewestFirst[0] ?? secrets[0], ...retiring] = activatedNewestFirst.filter(
    (secret) => !isRetiredAt(secret, now),
  );
  if (current === undefined) {
    throw new Error('a subscription without a signing secret');
  }
  const pending = secrets.filter((secret) => (activationTimeOf(secret) ?? Number.POSITIVE_INFINITY) > now);
  const changes = secrets.flatMap((secret) => [
    activationTimeOf(secret) ?? Number.POSITIVE_INFINITY,
    secret.retiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(secret.retiresAt),
  ]);
  return {
    current,
    retiring,
    pending,
    currentActivatedAt:
      current.activatesAt === undefined || current.activatesAt === null
        ? undefined
        : Date.parse(current.activatesAt),
    nextChangeAt: Math.min(Number.POSITIVE_INFINITY, ...changes.filter((at) => at > now)),
  };
}

/** Every secret's phase at `now`, by id, from one reading of the secrets. */
export function secretPhasesAt(secrets: readonly StoredSecret[], now: number): Map<string, SecretPhase> {
  const { current, retiring, pending } = signingSecretsAt(secrets, now);
  const phases = new Map<string, SecretPhase>(secrets.map(({ id }) => [id, 'retired']));
  for (const { id } of retiring) phases.set(id, 'retiring');
  for (const { id } of pending) phases.set(id, 'pending');
  phases.set(current.id, 'current');
  return phases;
}

/**
 * The secrets after rotating `newSecret` in. A pending secret is replaced (it never signed); the
 * current secret retires `graceMs` after the new one activates (set now for an immediate or
 * scheduled activation, at the activation call for a manual one); secrets already retiring keep
 * their own grace: a second rotation never cuts the first one's short.
 */
export function rotatedSecrets(
  secrets: readonly StoredSecret[],
  newSecret: StoredSecret,
  activation: SecretActivation,
  graceMs: number,
  now: Date,
): StoredSecret[] {
  const at = now.getTime();
  const { current, retiring } = signingSecretsAt(secrets, at);
  const activatesAt =
    activation.kind === 'immediate'
      ? at
      : activation.kind === 'scheduled'
        ? activation.at.getTime()
        : undefined;
  if (activatesAt !== undefined && activatesAt < at) {
    throw new SubscriptionError(SubscriptionErrorCode.InvalidSecretActivation, 'activateAt is in the past', {
      activateAt: new Date(activatesAt).toISOString(),
    });
  }
  // A replaced pending secret took the current one's retirement with it.
  const currentRetiresAt = activatesAt === undefined ? null : new Date(activatesAt + graceMs).toISOString();
  const rotatedIn: StoredSecret = {
    ...newSecret,
    retiresAt: null,
    activatesAt: activatesAt === undefined ? null : new Date(activatesAt).toISOString(),
    // Remembered for an activation call (a manual one, or a scheduled one made early), which may
    // name another grace.
    ...(activation.kind === 'immediate' ? {} : { replacedGraceSeconds: Math.round(graceMs / 1_000) }),
  };
  const kept = [{ ...current, retiresAt: currentRetiresAt }, ...retiring].filter(
    (secret) => !isRetiredAt(secret, at),
  );
  const next = [rotatedIn, ...kept];
  if (next.length > MAX_LIVE_SECRETS) {
    throw new SubscriptionError(
      SubscriptionErrorCode.TooManySecrets,
      `at most ${MAX_LIVE_SECRETS} secrets may be live at once (current, retiring, pending); wait until ${
        retiring.map((secret) => secret.retiresAt).sort()[0] ?? 'a retiring secret retires'
      } or rotate with graceSeconds 0`,
    );
  }
  return next;
}

/**
 * The secrets after `secretId` is activated now: it becomes current and the current one retires
 * after `graceMs`, else the grace given when it was rotated in, else `defaultGraceMs`. Activating the current secret again changes nothing (`undefined`), so a
 * retried call is harmless; a retiring or retired secret cannot come back (409).
 */
export function activatedSecrets(
  secrets: readonly StoredSecret[],
  secretId: string,
  grace: { readonly graceMs: number | undefined; readonly defaultGraceMs: number },
  now: Date,
): StoredSecret[] | undefined {
  const at = now.getTime();
  const secret = secrets.find(({ id }) => id === secretId);
  if (secret === undefined || isRetiredAt(secret, at)) {
    throw new SubscriptionError(SubscriptionErrorCode.SecretNotFound, `no pending secret ${secretId}`, {
      secretId,
    });
  }
  const phase = secretPhasesAt(secrets, at).get(secret.id);
  if (phase === 'current') return undefined;
  if (phase !== 'pending') {
    throw new SubscriptionError(
      SubscriptionErrorCode.InvalidSecretActivation,
      `secret ${secretId} was replaced by a later one; rotate again to sign with a new secret`,
      { secretId, phase },
    );
  }
  const { current } = signingSecretsAt(secrets, at);
  const graceMs =
    grace.graceMs ??
    (secret.replacedGraceSeconds === undefined ? grace.defaultGraceMs : secret.replacedGraceSeconds * 1_000);
  const retiresAt = new Date(at + graceMs).toISOString();
  return secrets
    .filter((other) => !isRetiredAt(other, at))
    .map((other) => {
      if (other.id === secretId) {
        const { replacedGraceSeconds: _used, ...activated } = other;
        return { ...activated, activatesAt: now.toISOString() };
      }
      if (other.id === current.id) return { ...other, retiresAt };
      return other;
    });
}
