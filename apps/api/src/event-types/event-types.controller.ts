import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiKeyGuard } from '../http/api-key.guard';
import { OrganisationOutbox } from '../organisations/organisation-outbox';
import { CurrentOrganisation } from '../http/organisation-context';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import { type EventType, EventTypeRepository } from './event-type.repository';
import { type RegisterEventTypesRequest, registerEventTypesSchema } from './event-types.schemas';

/** The organisation's event-type catalogue: subscriptions and published events are checked against it. */
@Controller('v1/event-types')
@UseGuards(ApiKeyGuard)
export class EventTypesController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly eventTypes: EventTypeRepository,
    private readonly organisationOutbox: OrganisationOutbox,
  ) {}

  @Get()
  async list(
    @CurrentOrganisation() organisation: Organisation,
  ): Promise<{ data: EventType[]; domains: string[] }> {
    const data = await this.eventTypes.list(organisation.id);
    return { data, domains: [...new Set(data.map((type) => type.domain))] };
  }

  @Post()
  @HttpCode(200)
  async register(
    @CurrentOrganisation() organisation: Organisation,
    @Body(new ZodValidationPipe(registerEventTypesSchema)) body: RegisterEventTypesRequest,
  ): Promise<{ data: EventType[] }> {
    await this.dataSource.transaction(async (manager) => {
      await this.eventTypes.register(manager, organisation.id, body.eventTypes);
      await this.organisationOutbox.enqueueCurrent(manager, organisation.id);
    });
    await this.organisationOutbox.nudge();
    return { data: await this.eventTypes.list(organisation.id) };
  }
}
