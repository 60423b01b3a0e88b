import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { z } from 'zod';
import { identifierSchema } from '@skyhook/contracts';
import { publicKeyJwk } from '@skyhook/secrets';
import { type Clock, secretPhasesAt } from '@skyhook/subscriptions';
import { CLOCK } from '../clock.provider';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { Documented, DocumentedGroup, PublicRoutes } from '../openapi/route-docs';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';

/** How long a receiver may keep the key set: shorter than any rotation's grace period should be. */
const KEY_SET_MAX_AGE_SECONDS = 300;

const instant = z.iso.datetime({ offset: true });

export const signingKeySetSchema = z.strictObject({
  keys: z.array(
    z.strictObject({
      kty: z.literal('OKP'),
      crv: z.literal('Ed25519'),
      x: z.string().meta({ description: 'The public key, base64url (RFC 8037).' }),
      kid: z.string().meta({ description: 'The key’s RFC 7638 thumbprint.' }),
      use: z.literal('sig'),
      alg: z.literal('EdDSA'),
      whpk: z.string().meta({ description: 'The same key in Standard Webhooks’ serialisation (whpk_…).' }),
      subscriptionId: z.string().meta({ description: 'The subscription whose deliveries it verifies.' }),
      phase: z.enum(['pending', 'current', 'retiring']),
      activatesAt: instant
        .nullable()
        .meta({ description: 'When it signs from (null: waiting for its activation call).' }),
      retiresAt: instant.nullable().meta({ description: 'When it stops signing (null: not replaced).' }),
    }),
  ),
});
export type SigningKeySet = z.infer<typeof signingKeySetSchema>;

const EXAMPLE_PUBLIC_KEY = 'whpk_htDqdft3KcZB5jpftuhTLzZ69yABBVw56tZf6UBZxz4=';

/**
 * The public keys that verify `standard-webhooks-v1a` deliveries, per organisation: public by
 * nature (whoever holds one can only verify), so served without credentials, for a receiver to
 * fetch and cache as a JSON Web Key Set.
 */
@DocumentedGroup({
  tag: 'Signing keys',
  description:
    'The ed25519 public keys that verify standard-webhooks-v1a deliveries, as a JSON Web Key Set per organisation: public, no credentials needed.',
})
@Controller('v1/organisations')
@PublicRoutes()
export class SigningKeysController {
  constructor(
    private readonly readModel: SubscriptionReadModelRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Documented({
    summary:
      'The public keys of the organisation’s subscriptions that sign with ed25519 key pairs (pending, current and retiring), as a JWKS. Cache it for its max-age at most.',
    success: {
      description: 'the key set (empty when no subscription of the organisation signs with a key pair)',
      schema: signingKeySetSchema,
      example: {
        keys: [
          {
            kty: 'OKP',
            crv: 'Ed25519',
            x: 'htDqdft3KcZB5jpftuhTLzZ69yABBVw56tZf6UBZxz4',
            kid: 'B_XGOwmmqXr0JpUGOhWS8v14Cfb0cDPt18IIeL5A8MQ',
            use: 'sig',
            alg: 'EdDSA',
            whpk: EXAMPLE_PUBLIC_KEY,
            subscriptionId: 'sub_3f9c…',
            phase: 'current',
            activatesAt: '2026-05-01T09:00:00.000Z',
            retiresAt: null,
          },
        ],
      },
    },
    errors: [ApiErrorCode.NotFound],
  })
  @Get(':organisationId/signing-keys')
  async keySet(
    @Param('organisationId') organisationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SigningKeySet> {
    if (!identifierSchema.safeParse(organisationId).success) {
      throw new ApiError(ApiErrorCode.NotFound, 'organisation not found');
    }
    const now = this.clock.now().getTime();
    // An organisation without key pairs, or none at all, answers the same empty set: the route
    // does not tell who is a customer.
    const keys: SigningKeySet['keys'] = [];
    for (const { subscriptionId, secrets } of await this.readModel.secretsWithPublicKeys(organisationId)) {
      const phases = secretPhasesAt(secrets, now);
      for (const secret of secrets) {
        const phase = phases.get(secret.id);
        if (secret.publicKey === undefined || phase === undefined || phase === 'retired') continue;
        keys.push({
          ...publicKeyJwk(secret.publicKey),
          whpk: secret.publicKey,
          subscriptionId,
          phase,
          activatesAt: secret.activatesAt === undefined ? secret.createdAt : secret.activatesAt,
          retiresAt: secret.retiresAt,
        });
      }
    }
    void reply.header('cache-control', `public, max-age=${KEY_SET_MAX_AGE_SECONDS}`);
    return { keys };
  }
}
