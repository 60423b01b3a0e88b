import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiKeyGuard } from '../http/api-key.guard';
import { ApiKeyCredentialGuard } from '../http/api-key-credential.guard';
import { OrganisationOutbox } from '../organisations/organisation-outbox';
import { CurrentOrganisation } from '../http/organisation-context';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import { type EventType, EventTypeRepository } from './event-type.repository';
import {
  eventTypeCatalogueResponseSchema,
  eventTypesResponseSchema,
  type RegisterEventTypesRequest,
  registerEventTypesSchema,
} from './event-types.schemas';
import { ApiErrorCode } from '../http/api-error';
import { BAD_INPUT } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';

/** The organisation's event-type catalogue: subscriptions and published events are checked against it. */
@DocumentedGroup({
  tag: 'Event types',
  description: "The organisation's catalogue of event types that subscriptions may name.",
})
@Controller('v1/event-types')
@UseGuards(ApiKeyGuard)
export class EventTypesController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly eventTypes: EventTypeRepository,
    private readonly organisationOutbox: OrganisationOutbox,
  ) {}

  @Documented({
    summary: "The organisation's event-type catalogue, grouped by domain.",
    success: {
      schema: eventTypeCatalogueResponseSchema,
      description: 'the catalogue',
      example: {
        data: [
          {
            name: 'booking.created',
            domain: 'booking',
            description: 'A booking was made.',
            example: { bookingId: 'bk_123', centerId: 'ctr-42' },
            schema: null,
            reserved: false,
            createdAt: '2026-05-01T09:00:00.000Z',
          },
        ],
        domains: ['booking'],
      },
    },
    errors: [ApiErrorCode.Unauthenticated],
  })
  @Get()
  async list(
    @CurrentOrganisation() organisation: Organisation,
  ): Promise<{ data: EventType[]; domains: string[] }> {
    const data = await this.eventTypes.list(organisation.id);
    return { data, domains: [...new Set(data.map((type) => type.domain))] };
  }

  @Documented({
    summary:
      'Register event types (dotted or UPPER_SNAKE names), each optionally with an example of its data (test deliveries carry it); ' +
      're-registering updates the description, and the example when one is given.',
    success: { schema: eventTypesResponseSchema, description: 'the catalogue' },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated, ApiErrorCode.Forbidden],
  })
  @Post()
  @HttpCode(200)
  @UseGuards(ApiKeyCredentialGuard)
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
