import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../http/api-key.guard';
import { CurrentOrganisation } from '../http/organisation-context';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import { type EventType, EventTypeRepository } from './event-type.repository';
import { type RegisterEventTypesRequest, registerEventTypesSchema } from './event-types.schemas';

/** The organisation's event-type catalogue: subscriptions and published events are checked against it. */
@Controller('v1/event-types')
@UseGuards(ApiKeyGuard)
export class EventTypesController {
  constructor(private readonly eventTypes: EventTypeRepository) {}

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
    await this.eventTypes.register(organisation.id, body.eventTypes);
    return { data: await this.eventTypes.list(organisation.id) };
  }
}
