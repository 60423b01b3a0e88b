import { randomBytes } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parseDeliveryPolicyOverride } from '@skyhook/delivery-policy';
import { generateApiKey } from '@skyhook/secrets';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import {
  apiKeyCreationSchema,
  type CreateApiKeyRequest,
  type CreateOrganisationRequest,
  organisationCreationSchema,
  organisationUpdateSchema,
  type UpdateOrganisationRequest,
} from './admin-organisations.schemas';
import { OrganisationOutbox } from './organisation-outbox';
import { type Organisation, OrganisationRepository } from './organisation.repository';

interface IssuedApiKey {
  readonly id: string;
  /** Shown once; only its hash is stored. */
  readonly apiKey: string;
}

/** Operators create organisations and their API keys here (Authorization: Bearer <SKYHOOK_ADMIN_TOKEN>). */
@Controller('admin/v1/organisations')
@UseGuards(AdminTokenGuard)
export class AdminOrganisationsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly organisations: OrganisationRepository,
    private readonly organisationOutbox: OrganisationOutbox,
  ) {}

  @Post()
  async create(
    @Body(new ZodValidationPipe(organisationCreationSchema)) body: CreateOrganisationRequest,
  ): Promise<{ organisation: Organisation } & IssuedApiKey> {
    const defaultPolicy = parseDeliveryPolicyOverride(body.defaultPolicy) as Record<string, unknown>;
    const generated = generateApiKey();
    const organisation = await this.dataSource.transaction(async (manager) => {
      const created = await this.organisations.insert(manager, {
        id: `org_${randomBytes(12).toString('hex')}`,
        name: body.name,
        subscriptionLifetimeDays: body.subscriptionLifetimeDays,
        renewalWindowDays: body.renewalWindowDays,
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

  @Get()
  async list(): Promise<{ data: Organisation[] }> {
    return { data: await this.organisations.list() };
  }

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
      const changed = await this.organisations.update(manager, id, { ...body, defaultPolicy });
      if (changed !== undefined) await this.organisationOutbox.enqueueCurrent(manager, id);
      return changed;
    });
    if (updated === undefined) throw new ApiError(ApiErrorCode.NotFound, `organisation ${id} not found`);
    await this.organisationOutbox.nudge();
    return updated;
  }

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

  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
  async revokeApiKey(@Param('id') id: string, @Param('keyId') keyId: string): Promise<void> {
    if (!(await this.organisations.revokeApiKey(id, keyId))) {
      throw new ApiError(ApiErrorCode.NotFound, `API key ${keyId} of organisation ${id} not found`);
    }
  }
}
