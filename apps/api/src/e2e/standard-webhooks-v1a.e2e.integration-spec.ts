import nacl from 'tweetnacl';
import {
  type ReceivedWebhook,
  type ServiceProcess,
  startWebhookReceiver,
  type WebhookReceiver,
} from '@skyhook/testing';
import {
  type ApiTestApp,
  createOrganisation,
  startApiTestApp,
  startDeliveryPipeline,
} from '../test/api-test-app';

/**
 * A receiver's check of Standard Webhooks v1a, written from the specification's text on TweetNaCl
 * (not the signer's OpenSSL): any `v1a,<base64>` entry of `webhook-signature` that is an ed25519
 * signature of `"<webhook-id>.<webhook-timestamp>.<body>"` under the whpk_ key.
 */
function verifiesWith(hook: ReceivedWebhook, publicKey: string): boolean {
  const key = new Uint8Array(Buffer.from(publicKey.replace(/^whpk_/, ''), 'base64'));
  const signed = new Uint8Array(
    Buffer.concat([
      Buffer.from(`${hook.headers['webhook-id']}.${hook.headers['webhook-timestamp']}.`),
      hook.rawBody,
    ]),
  );
  return (hook.headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((entry) => entry.startsWith('v1a,'))
    .some((entry) =>
      nacl.sign.detached.verify(signed, new Uint8Array(Buffer.from(entry.slice(4), 'base64')), key),
    );
}

interface KeySetEntry {
  kid: string;
  x: string;
  whpk: string;
  subscriptionId: string;
  phase: string;
}

/**
 * Standard Webhooks v1a through the whole pipeline: a subscription signing with an ed25519 key
 * pair, its deliveries verified by an implementation that is not Skyhook's with the public key
 * the api showed, the organisation's public key set, and a rotation's overlap.
 */
describe('end to end: standard-webhooks-v1a (ed25519) deliveries', () => {
  let api: ApiTestApp;
  let receiver: WebhookReceiver;
  let services: ServiceProcess[] = [];
  let apiKey: string;
  let organisationId: string;

  beforeAll(async () => {
    api = await startApiTestApp({ systemClock: true });
    receiver = await startWebhookReceiver();
    ({ services } = await startDeliveryPipeline(api));
    ({ apiKey, organisationId } = await createOrganisation(api));
  });

  afterAll(async () => {
    await receiver?.close();
    await Promise.all(services.map((service) => service.stop()));
    await api?.close();
  });

  async function publish(id: string): Promise<void> {
    const answer = await api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      body: { id, type: 'booking.created', scope: { desk: 'v1a' }, data: { id } },
    });
    expect(answer.status).toBe(202);
  }

  async function keySet(): Promise<{ status: number; keys: KeySetEntry[]; cacheControl: unknown }> {
    // No credentials: public keys are public.
    const answer = await api.request({
      method: 'GET',
      url: `/v1/organisations/${organisationId}/signing-keys`,
    });
    return {
      status: answer.status,
      keys: answer.body['keys'] as KeySetEntry[],
      cacheControl: answer.headers['cache-control'],
    };
  }

  it('signs with a key pair whose public key alone verifies, lists it in the organisation’s key set, and overlaps two keys through a rotation', async () => {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: {
        url: receiver.url('/v1a'),
        eventTypes: ['booking.created'],
        scopeFilter: { desk: 'v1a' },
        policy: { signature: { scheme: 'standard-webhooks-v1a' } },
      },
    });
    expect(created.status).toBe(201);
    const subscriptionId = created.body['id'] as string;
    const firstKey = created.body['signingSecret'] as string;
    expect(firstKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(created.body['secrets']).toEqual([
      expect.objectContaining({ publicKey: firstKey, phase: 'current' }),
    ]);

    const published = await keySet();
    expect(published.status).toBe(200);
    expect(published.cacheControl).toBe('public, max-age=300');
    expect(published.keys).toEqual([
      expect.objectContaining({
        kty: 'OKP',
        crv: 'Ed25519',
        whpk: firstKey,
        subscriptionId,
        phase: 'current',
      }),
    ]);
    expect(Buffer.from(published.keys[0]?.x ?? '', 'base64url').toString('base64')).toBe(firstKey.slice(5));
    // Another organisation's id, or none that exists, answers an empty set, not who is a customer.
    const unknown = await api.request({ method: 'GET', url: '/v1/organisations/org_nobody/signing-keys' });
    expect([unknown.status, unknown.body]).toEqual([200, { keys: [] }]);
    // A malformed id names no organisation: 404, like any id, never an error.
    const malformed = await api.request({
      method: 'GET',
      url: '/v1/organisations/org%20%3Cscript%3E/signing-keys',
    });
    expect(malformed.status).toBe(404);

    await publish('evt_v1a_1');
    const [first] = await receiver.waitForCount('/v1a', 1, 30_000);
    if (first === undefined) throw new Error('the delivery arrived');
    expect(first.headers['webhook-signature']).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(verifiesWith(first, firstKey)).toBe(true);
    const tampered = {
      ...first,
      rawBody: Buffer.from(first.rawBody.toString().replace('evt_v1a_1', 'evt_v1a_X')),
    };
    expect(verifiesWith(tampered, firstKey)).toBe(false);

    const rotated = await api.request({
      method: 'POST',
      url: `/v1/subscriptions/${subscriptionId}/secret-rotations`,
      key: apiKey,
      body: { graceSeconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    const secondKey = rotated.body['signingSecret'] as string;
    expect(secondKey).toMatch(/^whpk_/);
    expect(secondKey).not.toBe(firstKey);
    const phases = Object.fromEntries((await keySet()).keys.map((key) => [key.whpk, key.phase]));
    expect(phases).toEqual({ [firstKey]: 'retiring', [secondKey]: 'current' });

    // Rotations reach the dispatcher through the subscription log: poll until the new key signs.
    let sent = 1;
    let overlapping: ReceivedWebhook | undefined;
    while (overlapping === undefined && sent < 30) {
      sent += 1;
      await publish(`evt_v1a_${sent}`);
      const hook = (await receiver.waitForCount('/v1a', sent, 30_000))[sent - 1];
      if (hook !== undefined && verifiesWith(hook, secondKey)) overlapping = hook;
    }
    if (overlapping === undefined) throw new Error('no delivery signed with the rotated-in key');
    // During the grace both keys sign: a receiver holding either verifies.
    expect(overlapping.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verifiesWith(overlapping, firstKey)).toBe(true);

    // An HMAC-only scheme cannot sign with the key pair: refused, with the way round.
    const refused = await api.request({
      method: 'PATCH',
      url: `/v1/subscriptions/${subscriptionId}`,
      key: apiKey,
      body: { policy: { signature: { scheme: 'hmac-hex', header: 'X-Signature' } } },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('rotate to a shared secret first');
  }, 120_000);

  it('refuses a shared secret for a key-pair scheme and a public key offered as a secret', async () => {
    for (const secret of [
      'partner-chosen-secret-0123456789',
      `whpk_${Buffer.alloc(32, 1).toString('base64')}`,
    ]) {
      const answer = await api.request({
        method: 'POST',
        url: '/v1/subscriptions',
        key: apiKey,
        body: {
          url: receiver.url('/refused'),
          eventTypes: ['booking.created'],
          policy: { signature: { scheme: 'standard-webhooks-v1a' } },
          secret,
        },
      });
      expect(answer.status).toBe(400);
    }
  });
});
