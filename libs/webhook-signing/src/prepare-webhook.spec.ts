import { createHmac } from 'node:crypto';
import { type DeliveryProfileName, resolveEffectivePolicy } from '@skyhook/delivery-policy';
import { generateSigningSecret } from '@skyhook/secrets';
import { Webhook } from 'standardwebhooks';
import { prepareWebhook } from './prepare-webhook';
import { aDeliveryRequest } from './test/delivery-request.fixture';
import { compilePayloadRenderer } from './webhook-payload';
import { compileSigner } from './webhook-signer';

describe('prepareWebhook', () => {
  const secret = generateSigningSecret();
  const request = aDeliveryRequest();

  function preparationFor(profile: DeliveryProfileName) {
    const policy = resolveEffectivePolicy(undefined, undefined, profile);
    return {
      policy,
      signer: compileSigner(policy.signature, [secret]),
      renderBody: compilePayloadRenderer(policy.payload),
    };
  }

  it('Standard Webhooks (FL3XX): envelope body, delivery id as webhook-id, attempt time in whole seconds', () => {
    const preparation = preparationFor('fl3xx');
    const attemptAt = new Date();

    const { body, headers } = prepareWebhook(preparation, request, attemptAt);

    expect(headers).toEqual({
      'content-type': 'application/json',
      'user-agent': 'Skyhook-Webhooks/1.0',
      'webhook-id': request.deliveryId,
      'webhook-timestamp': String(Math.floor(attemptAt.getTime() / 1000)),
      'webhook-signature': expect.stringMatching(/^v1,/) as unknown,
    });
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ id: request.event.id });
  });

  it('keeps the webhook-id across retries and moves the timestamp to each attempt', () => {
    const preparation = preparationFor('fl3xx');

    const first = prepareWebhook(preparation, request, new Date('2026-05-31T14:03:22.999Z'));
    const retry = prepareWebhook(preparation, request, new Date('2026-05-31T14:08:23.000Z'));

    expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(first.headers['webhook-timestamp']).toBe('1780236202');
    expect(retry.headers['webhook-timestamp']).toBe('1780236503');
    expect(retry.body.equals(first.body)).toBe(true);
  });

  it('AviationAlley: signature, event and delivery headers, all over the exact body sent', () => {
    const preparation = preparationFor('aviationalley');

    const { body, headers } = prepareWebhook(preparation, request, new Date());

    expect(headers).toEqual({
      'content-type': 'application/json',
      'user-agent': 'Skyhook-Webhooks/1.0',
      'X-AviationAlley-Event': 'booking.created',
      'X-AviationAlley-Delivery': request.deliveryId,
      'X-AviationAlley-Signature': createHmac('sha256', secret).update(body).digest('hex'),
    });
  });

  it('Flightline: identifiers-and-status body signed with t=<attempt seconds>', () => {
    const preparation = preparationFor('flightline');

    const { body, headers } = prepareWebhook(preparation, request, new Date('2026-05-31T14:03:22.500Z'));

    expect(JSON.parse(body.toString())).toEqual({
      event: 'booking.created',
      status: 'confirmed',
      // As the seed prints it: UTC, whole seconds.
      occurred_at: '2026-05-31T14:03:22Z',
    });
    const expected = createHmac('sha256', secret).update(`1780236202.${body.toString()}`).digest('hex');
    expect(headers['X-Flightline-Signature']).toBe(`t=1780236202,v1=${expected}`);
  });
});
