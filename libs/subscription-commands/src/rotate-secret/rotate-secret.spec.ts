import { type StoredSecret } from '@skyhook/contracts';
import { secretPhasesAt } from '@skyhook/subscriptions';
import { CreateSubscription } from '../create-subscription/create-subscription.usecase';
import { SubscriptionInputError, SubscriptionInputErrorCode } from '../subscription-command.error';
import { fakeDependencies, ORGANISATION, TEST_SETTINGS } from '../test/fakes';
import { type RotateSecretCommand } from './rotate-secret.command';
import { RotateSecret } from './rotate-secret.usecase';

const DAY_MS = 24 * 3_600_000;

async function subscribed() {
  const deps = fakeDependencies();
  const created = await new CreateSubscription(deps).execute({
    organisation: ORGANISATION,
    url: 'https://receiver.example/hooks',
    description: '',
    eventTypes: ['*'],
    scopeFilter: {},
    policy: {},
  });
  const now = deps.clock.now();
  const rotate = (options: Partial<RotateSecretCommand> = {}) =>
    new RotateSecret(deps).execute({
      organisation: ORGANISATION,
      subscriptionId: created.subscription.id,
      ...options,
    });
  return { deps, now, oldSecretId: created.secretId, rotate };
}

function phases(secrets: readonly StoredSecret[], at: Date): Record<string, string> {
  return Object.fromEntries(secretPhasesAt(secrets, at.getTime()));
}

function retiresAt(secrets: readonly StoredSecret[], id: string): string | null | undefined {
  return secrets.find((secret) => secret.id === id)?.retiresAt;
}

describe('RotateSecret', () => {
  it('signs with the new secret at once; the old one keeps the default grace', async () => {
    const { deps, now, oldSecretId, rotate } = await subscribed();
    const { subscription, signingSecret, secretId } = await rotate();
    expect(signingSecret).toMatch(/^whsec_/);
    expect(phases(subscription.secrets, now)).toEqual({ [secretId]: 'current', [oldSecretId]: 'retiring' });
    expect(retiresAt(subscription.secrets, oldSecretId)).toBe(
      new Date(now.getTime() + TEST_SETTINGS.defaultRotationGraceMs).toISOString(),
    );
    expect(subscription.secrets.find((secret) => secret.id === secretId)?.encrypted).toBe(
      `sealed(${subscription.id}:${secretId}):${signingSecret}`,
    );
    expect(deps.store.events.map((event) => [event.type, event.version])).toEqual([
      ['SubscriptionCreated', 1],
      ['SubscriptionSecretRotated', 2],
    ]);
  });

  it('keeps the old secret for graceSeconds when given', async () => {
    const { now, oldSecretId, rotate } = await subscribed();
    const { subscription } = await rotate({ graceSeconds: 60, secret: 'receivers-own-secret-1234' });
    expect(retiresAt(subscription.secrets, oldSecretId)).toBe(new Date(now.getTime() + 60_000).toISOString());
  });

  it('leaves a manual rotation pending, the old secret still signing', async () => {
    const { now, oldSecretId, rotate } = await subscribed();
    const { subscription, secretId } = await rotate({ activation: 'manual' });
    expect(phases(subscription.secrets, now)).toEqual({ [secretId]: 'pending', [oldSecretId]: 'current' });
    expect(retiresAt(subscription.secrets, oldSecretId)).toBeNull();
  });

  it('activates a scheduled rotation at activateAt', async () => {
    const { now, oldSecretId, rotate } = await subscribed();
    const activateAt = new Date(now.getTime() + DAY_MS);
    const { subscription, secretId } = await rotate({
      activation: 'scheduled',
      activateAt: activateAt.toISOString(),
    });
    expect(phases(subscription.secrets, now)).toEqual({ [secretId]: 'pending', [oldSecretId]: 'current' });
    expect(phases(subscription.secrets, activateAt)).toEqual({
      [secretId]: 'current',
      [oldSecretId]: 'retiring',
    });
  });

  it.each([
    ['in the past', -1],
    ['more than 30 days ahead', 30 * DAY_MS + 1],
  ])('refuses a scheduled activation %s and stores nothing', async (_when, leadMs) => {
    const { deps, now, rotate } = await subscribed();
    const rejection = rotate({
      activation: 'scheduled',
      activateAt: new Date(now.getTime() + leadMs).toISOString(),
    });
    await expect(rejection).rejects.toBeInstanceOf(SubscriptionInputError);
    await expect(rejection).rejects.toMatchObject({ code: SubscriptionInputErrorCode.Invalid });
    expect(deps.store.events).toHaveLength(1);
  });

  it.each([
    ['without activateAt', undefined],
    ['with an activateAt that is no instant', 'next tuesday'],
  ])('refuses a scheduled activation %s and stores nothing', async (_case, activateAt) => {
    const { deps, rotate } = await subscribed();
    const rejection = rotate({ activation: 'scheduled', activateAt });
    await expect(rejection).rejects.toMatchObject({
      code: SubscriptionInputErrorCode.Invalid,
      details: [expect.objectContaining({ path: 'activateAt' })],
    });
    expect(deps.store.events).toHaveLength(1);
  });
});
