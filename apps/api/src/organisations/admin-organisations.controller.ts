import { randomBytes } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  DELIVERY_PROFILES,
  DeliveryPolicyError,
  type DeliveryProfileName,
  missingScopeKey,
  parseDeliveryPolicyOverride,
  resolveEffectivePolicy,
} from '@skyhook/delivery-policy';
import { generateApiKey } from '@skyhook/secrets';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import {
  apiKeyCreationSchema,
  type CreateApiKeyRequest,
  type CreateOrganisationRequest,
  createdOrganisationResponseSchema,
  issuedApiKeyResponseSchema,
  organisationCreationSchema,
  organisationResponseSchema,
  organisationsResponseSchema,
  organisationUpdateSchema,
  type UpdateOrganisationRequest,
} from './admin-organisations.schemas';
import { SubscriptionReadModelRepository } from '../subscriptions/subscription-read-model.repository';
import { OrganisationOutbox } from './organisation-outbox';
import { type Organisation, OrganisationRepository } from './organisation.repository';
import { BAD_INPUT, exampleOrganisation } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';

interface IssuedApiKey {
  readonly id: string;
  /** Shown once; only its hash is stored. */
  readonly apiKey: string;
}

/** Operators create organisations and their API keys here (Authorization: Bearer <SKYHOOK_ADMIN_TOKEN>). */
@DocumentedGroup({
  tag: 'Admin: organisations',
  description: 'Organisations, their delivery profile and defaults, and their API keys (operators only).',
})
@Controller('admin/v1/organisations')
@UseGuards(AdminTokenGuard)
export class AdminOrganisationsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly organisations: OrganisationRepository,
    private readonly organisationOutbox: OrganisationOutbox,
    private readonly subscriptions: SubscriptionReadModelRepository,
  ) {}

  @Documented({
    summary:
      "Create an organisation and its first API key (shown once). `profile` names the delivery profile (a seed contract: standard-webhooks, flightline, flintn, flexorch, fl3xx, aviationalley) its default policy builds on; lifetimes and the renewal window default to the profile's.",
    success: {
      schema: createdOrganisationResponseSchema,
      status: 201,
      description: 'created',
      example: { organisation: exampleOrganisation, id: 'Ab3…', apiKey: 'sk_…' },
    },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated],
  })
  @Post()
  async create(
    @Body(new ZodValidationPipe(organisationCreationSchema)) body: CreateOrganisationRequest,
  ): Promise<{ organisation: Organisation } & IssuedApiKey> {
    const defaultPolicy = parseDeliveryPolicyOverride(body.defaultPolicy);
    // The profile and the organisation's default must combine into a valid policy (e.g. no
    // extra header named like the profile's signature header).
    resolveEffectivePolicy(defaultPolicy, undefined, body.profile);
    const subscriptionRules = subscriptionRulesFrom(body, body.profile);
    const generated = generateApiKey();
    const organisation = await this.dataSource.transaction(async (manager) => {
      const created = await this.organisations.insert(manager, {
        id: `org_${randomBytes(12).toString('hex')}`,
        name: body.name,
        profile: body.profile,
        subscriptionLifetimeDays: subscriptionRules.subscriptionLifetimeDays ?? null,
        subscriptionLifetimeMonths: subscriptionRules.subscriptionLifetimeMonths ?? null,
        renewalWindowDays:
          subscriptionRules.renewalWindowDays ??
          DELIVERY_PROFILES[body.profile].subscriptions.renewalWindowDays,
        defaultPolicy,
      });
      await this.organisations.insertApiKey(manager, {
        id: generated.publicId,
        organisationId: created.id,
        keyHash: generated.hash,
        label: 'initial',
      });
      await this.organisationOutbox.enqueueCurrent(manager, created.id);
      return created;
    });
    await this.organisationOutbox.nudge();
    return { organisation, id: generated.publicId, apiKey: generated.key };
  }

  @Documented({
    summary: 'List organisations.',
    success: {
      schema: organisationsResponseSchema,
      description: 'organisations',
      example: { data: [exampleOrganisation] },
    },
    errors: [ApiErrorCode.Unauthenticated],
  })
  @Get()
  async list(): Promise<{ data: Organisation[] }> {
    return { data: await this.organisations.list() };
  }

  @Documented({
    summary:
      'Change name, delivery profile (adopting its subscription rules unless given), subscription lifetime, renewal window or default delivery policy.',
    success: { schema: organisationResponseSchema, description: 'updated', example: exampleOrganisation },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound],
  })
  @Patch(':id')
  async update(
    @Param('id') id: string,
    @Body(new ZodValidationPipe(organisationUpdateSchema)) body: UpdateOrganisationRequest,
  ): Promise<Organisation> {
    const defaultPolicy =
      body.defaultPolicy === undefined
        ? undefined
        : (parseDeliveryPolicyOverride(body.defaultPolicy) as Record<string, unknown>);
    const updated = await this.dataSource.transaction(async (manager) => {
      const changed = await this.organisations.update(manager, id, {
        name: body.name,
        profile: body.profile,
        defaultPolicy,
        ...subscriptionRulesFrom(body, body.profile),
      });
      if (changed === undefined) return undefined;
      // Throws (and so rolls back) if the new profile and default no longer combine, with each
      // other or with a subscription already saved under the old ones.
      const organisationDefault = parseDeliveryPolicyOverride(changed.defaultPolicy);
      resolveEffectivePolicy(organisationDefault, undefined, changed.profile);
      const misfits = misfitsUnder(changed, await this.subscriptions.deliverableSettings(manager, id));
      if (misfits.length > 0) {
        throw new ApiError(
          ApiErrorCode.Conflict,
          `${misfits.length} subscription(s) would not fit the new settings; change or delete them first`,
          'SUBSCRIPTIONS_DO_NOT_FIT',
          { subscriptions: misfits.slice(0, MISFITS_LISTED) },
        );
      }
      await this.organisationOutbox.enqueueCurrent(manager, id);
      return changed;
    });
    if (updated === undefined) throw new ApiError(ApiErrorCode.NotFound, `organisation ${id} not found`);
    await this.organisationOutbox.nudge();
    return updated;
  }

  @Documented({
    summary: 'Issue another API key (shown once).',
    success: {
      schema: issuedApiKeyResponseSchema,
      status: 201,
      description: 'issued',
      example: { id: 'Ab3…', apiKey: 'sk_…' },
    },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound],
  })
  @Post(':id/api-keys')
  async createApiKey(
    @Param('id') id: string,
    @Body(new ZodValidationPipe(apiKeyCreationSchema)) body: CreateApiKeyRequest,
  ): Promise<IssuedApiKey> {
    if ((await this.organisations.findById(id)) === undefined) {
      throw new ApiError(ApiErrorCode.NotFound, `organisation ${id} not found`);
    }
    const generated = generateApiKey();
    await this.organisations.insertApiKey(this.dataSource.manager, {
      id: generated.publicId,
      organisationId: id,
      keyHash: generated.hash,
      label: body.label,
    });
    return { id: generated.publicId, apiKey: generated.key };
  }

  @Documented({
    summary: 'Revoke an API key.',
    success: { description: 'revoked' },
    errors: [ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound],
  })
  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
  async revokeApiKey(@Param('id') id: string, @Param('keyId') keyId: string): Promise<void> {
    if (!(await this.organisations.revokeApiKey(id, keyId))) {
      throw new ApiError(ApiErrorCode.NotFound, `API key ${keyId} of organisation ${id} not found`);
    }
  }
}

/** How many refused subscriptions a 409 names; the message gives the count. */
const MISFITS_LISTED = 20;

/**
 * The saved subscriptions an organisation's new profile or default policy would break: one
 * lacking the scope key the profile subscribes by, or whose own override no longer combines
 * into a valid policy. Refusing the change keeps the dispatcher from ever holding a
 * subscription it cannot compile.
 */
function misfitsUnder(
  organisation: Organisation,
  subscriptions: readonly {
    id: string;
    scopeFilter: Record<string, string>;
    policy: Record<string, unknown>;
  }[],
): { id: string; problem: string }[] {
  const organisationDefault = parseDeliveryPolicyOverride(organisation.defaultPolicy);
  const misfits: { id: string; problem: string }[] = [];
  for (const subscription of subscriptions) {
    const missing = missingScopeKey(organisation.profile, subscription.scopeFilter);
    if (missing !== undefined) {
      misfits.push({
        id: subscription.id,
        problem: `scopeFilter.${missing} is required by the ${organisation.profile} profile`,
      });
      continue;
    }
    try {
      resolveEffectivePolicy(
        organisationDefault,
        parseDeliveryPolicyOverride(subscription.policy),
        organisation.profile,
      );
    } catch (error) {
      if (!(error instanceof DeliveryPolicyError)) throw error;
      misfits.push({ id: subscription.id, problem: error.message });
    }
  }
  return misfits;
}

interface SubscriptionRuleSettings {
  subscriptionLifetimeDays?: number | null;
  subscriptionLifetimeMonths?: number | null;
  renewalWindowDays?: number;
}

/**
 * The lifetime and renewal-window columns to write: what the request gives, else (when a
 * profile is being set) the profile's subscription rules. A lifetime in one unit clears the
 * other, so an organisation never has both.
 */
function subscriptionRulesFrom(
  body: {
    subscriptionLifetimeDays?: number | null | undefined;
    subscriptionLifetimeMonths?: number | null | undefined;
    renewalWindowDays?: number | undefined;
  },
  adoptedProfile: DeliveryProfileName | undefined,
): SubscriptionRuleSettings {
  const rules = adoptedProfile === undefined ? undefined : DELIVERY_PROFILES[adoptedProfile].subscriptions;
  const settings: SubscriptionRuleSettings = {};
  if (body.subscriptionLifetimeDays !== undefined || body.subscriptionLifetimeMonths !== undefined) {
    settings.subscriptionLifetimeDays = body.subscriptionLifetimeDays ?? null;
    settings.subscriptionLifetimeMonths = body.subscriptionLifetimeMonths ?? null;
  } else if (rules !== undefined) {
    const { lifetime } = rules;
    settings.subscriptionLifetimeDays = lifetime !== null && 'days' in lifetime ? lifetime.days : null;
    settings.subscriptionLifetimeMonths = lifetime !== null && 'months' in lifetime ? lifetime.months : null;
  }
  const renewalWindowDays = body.renewalWindowDays ?? rules?.renewalWindowDays;
  if (renewalWindowDays !== undefined) settings.renewalWindowDays = renewalWindowDays;
  return settings;
}
