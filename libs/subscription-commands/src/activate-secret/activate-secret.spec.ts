import { type StoredSecret } from '@skyhook/contracts';
import { secretPhasesAt, SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { CreateSubscription } from '../create-subscription/create-subscription.usecase';
import { RotateSecret } from '../rotate-secret/rotate-secret.usecase';
import { fakeDependencies, ORGANISATION } from '../test/fakes';
import { ActivateSecret } from './activate-secret.usecase';

/** A subscription with a manually rotated, pending secret, an hour before its activation. */
async function withPendingSecret() {
  const deps = fakeDependencies();
  const created = await new CreateSubscription(deps).execute({
    organisation: ORGANISATION,
    url: 'https://receiver.example/hooks',
    description: '',
    eventTypes: ['*'],
    scopeFilter: {},
    policy: {},
  });
  const subscriptionId = created.subscription.id;
  const rotated = await new RotateSecret(deps).execute({
    organisation: ORGANISATION,
    subscriptionId,
    activation: 'manual',
    graceSeconds: 120,
  });
  deps.clock.set(new Date('2026-12-01T13:00:00.000Z'));
  const activate = (secretId: string, graceSeconds?: number) =>
    new ActivateSecret(deps).execute({ organisation: ORGANISATION, subscriptionId, secretId, graceSeconds });
  return { deps, oldSecretId: created.secretId, pendingSecretId: rotated.secretId, activate };
}

function retiresAt(secrets: readonly StoredSecret[], id: string): string | null | undefined {
  return secrets.find((secret) => secret.id === id)?.retiresAt;
}

describe('ActivateSecret', () => {
  it("makes the pending secret current; the old one retires after the rotation's grace", async () => {
    const { deps, oldSecretId, pendingSecretId, activate } = await withPendingSecret();
    const subscription = await activate(pendingSecretId);
    const now = deps.clock.now().getTime();
    expect(Object.fromEntries(secretPhasesAt(subscription.secrets, now))).toEqual({
      [pendingSecretId]: 'current',
      [oldSecretId]: 'retiring',
    });
    expect(retiresAt(subscription.secrets, oldSecretId)).toBe('2026-12-01T13:02:00.000Z');
    expect(deps.store.events.map((event) => [event.type, event.version])).toEqual([
      ['SubscriptionCreated', 1],
      ['SubscriptionSecretRotated', 2],
      ['SubscriptionSecretRotated', 3],
    ]);
  });

  it('takes the graceSeconds given at activation', async () => {
    const { oldSecretId, pendingSecretId, activate } = await withPendingSecret();
    const subscription = await activate(pendingSecretId, 30);
    expect(retiresAt(subscription.secrets, oldSecretId)).toBe('2026-12-01T13:00:30.000Z');
  });

  it('refuses an unknown secret id and stores nothing', async () => {
    const { deps, activate } = await withPendingSecret();
    const rejection = activate('sec_unknown');
    await expect(rejection).rejects.toBeInstanceOf(SubscriptionError);
    await expect(rejection).rejects.toMatchObject({
      code: SubscriptionErrorCode.SecretNotFound,
      details: { secretId: 'sec_unknown' },
    });
    expect(deps.store.events).toHaveLength(2);
  });
});
