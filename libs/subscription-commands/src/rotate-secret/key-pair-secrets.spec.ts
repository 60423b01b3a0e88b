import { isSigningKey, publicKeyOf } from '@skyhook/secrets';
import { secretPhasesAt } from '@skyhook/subscriptions';
import { CreateSubscription } from '../create-subscription/create-subscription.usecase';
import { SubscriptionInputError } from '../subscription-command.error';
import { fakeDependencies, ORGANISATION } from '../test/fakes';
import { UpdateSubscription } from '../update-subscription/update-subscription.usecase';
import { RotateSecret } from './rotate-secret.usecase';

const V1A = { signature: { scheme: 'standard-webhooks-v1a' } };
const HMAC_HEX = { signature: { scheme: 'hmac-hex', header: 'X-Signature' } };

function sealedSecretOf(encrypted: string): string {
  // The fakes' sealer writes `sealed(<binding>):<secret>`.
  return encrypted.slice(encrypted.indexOf('):') + 2);
}

async function subscribe(policy: Record<string, unknown>, secret?: string) {
  const deps = fakeDependencies();
  const created = await new CreateSubscription(deps).execute({
    organisation: ORGANISATION,
    url: 'https://receiver.example/hooks',
    description: '',
    eventTypes: ['*'],
    scopeFilter: {},
    policy,
    ...(secret === undefined ? {} : { secret }),
  });
  return { deps, created };
}

describe('ed25519 key pairs as signing secrets (standard-webhooks-v1a)', () => {
  it('makes a key pair under standard-webhooks-v1a, keeps the signing key sealed and shows only the public key', async () => {
    const { created } = await subscribe(V1A);
    const [stored] = created.subscription.secrets;
    expect(created.signingSecret).toMatch(/^whpk_/);
    expect(stored?.publicKey).toBe(created.signingSecret);
    const sealed = sealedSecretOf(stored?.encrypted ?? '');
    expect(isSigningKey(sealed)).toBe(true);
    expect(publicKeyOf(sealed)).toBe(created.signingSecret);
    expect(stored?.hint).toMatch(/^whsk_…/);
  });

  it('refuses a shared secret under standard-webhooks-v1a and a signing key under an HMAC-only scheme', async () => {
    await expect(subscribe(V1A, 'partner-chosen-secret-0123456789')).rejects.toThrow(SubscriptionInputError);
    const { created: other } = await subscribe(V1A);
    // A signing key the partner chose is taken under v1a; its public key is what is shown.
    const chosen = sealedSecretOf(other.subscription.secrets[0]?.encrypted ?? '');
    const { created: ownKey } = await subscribe(V1A, chosen);
    expect(ownKey.signingSecret).toBe(publicKeyOf(chosen));
    await expect(subscribe(HMAC_HEX, chosen)).rejects.toThrow(/signs only Standard Webhooks/);
  });

  it('moves a subscription from a shared secret to a key pair by a rotation, both signing during the grace', async () => {
    const { deps, created } = await subscribe({});
    const update = new UpdateSubscription(deps);
    await update.execute({
      organisation: ORGANISATION,
      subscriptionId: created.subscription.id,
      policy: V1A,
    });
    const rotated = await new RotateSecret(deps).execute({
      organisation: ORGANISATION,
      subscriptionId: created.subscription.id,
    });
    expect(rotated.signingSecret).toMatch(/^whpk_/);
    const phases = secretPhasesAt(rotated.subscription.secrets, deps.clock.now().getTime());
    expect(phases.get(created.secretId)).toBe('retiring');
    expect(phases.get(rotated.secretId)).toBe('current');

    // An HMAC-only scheme cannot sign with the key pair: refused, the subscription unchanged.
    await expect(
      update.execute({
        organisation: ORGANISATION,
        subscriptionId: created.subscription.id,
        policy: HMAC_HEX,
      }),
    ).rejects.toThrow(/rotate to a shared secret first/);
    // Back under Standard Webhooks, a rotation makes a shared secret again.
    await update.execute({ organisation: ORGANISATION, subscriptionId: created.subscription.id, policy: {} });
    const back = await new RotateSecret(deps).execute({
      organisation: ORGANISATION,
      subscriptionId: created.subscription.id,
    });
    expect(back.signingSecret).toMatch(/^whsec_/);
  });
});
