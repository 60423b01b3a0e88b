import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  PARTNER_NOTIFICATION_CATALOGUE,
  PARTNER_NOTIFICATION_DOMAIN,
  PARTNER_NOTIFICATION_TYPES,
  partnerNotificationJsonSchema,
} from '@skyhook/contracts';
import { CoalescedCalls } from '@skyhook/messaging';

export interface EventType {
  readonly name: string;
  readonly domain: string;
  readonly description: string;
  /** An example of the type's `data`, for test deliveries; null when none was registered. */
  readonly example: Record<string, unknown> | null;
  /**
   * The JSON Schema of the type's `data`: set on Skyhook's own notification types, which every
   * catalogue holds; null on the organisation's types (Skyhook does not validate their data).
   */
  readonly schema: Record<string, unknown> | null;
  /** True on the reserved `skyhook` domain's types (partner notifications, ADR 0030). */
  readonly reserved: boolean;
  readonly createdAt: string;
}

/** When the reserved types entered every catalogue: what their `createdAt` answers. */
const PARTNER_NOTIFICATIONS_INTRODUCED_AT = '2026-12-06T00:00:00.000Z';

/** Skyhook's notification types, as every organisation's catalogue lists them (ADR 0030). */
export const PARTNER_NOTIFICATION_EVENT_TYPES: readonly EventType[] = PARTNER_NOTIFICATION_TYPES.map(
  (name) => ({
    name,
    domain: PARTNER_NOTIFICATION_DOMAIN,
    description: PARTNER_NOTIFICATION_CATALOGUE[name].description,
    example: PARTNER_NOTIFICATION_CATALOGUE[name].example,
    schema: partnerNotificationJsonSchema(name),
    reserved: true,
    createdAt: PARTNER_NOTIFICATIONS_INTRODUCED_AT,
  }),
);

/**
 * `booking.created` belongs to the domain `booking`, `mel.deferral.expiring` to `mel`, and
 * `FLIGHT_TIME_UPDATE` to `FLIGHT`: the first dotted or underscored segment.
 */
export function domainOf(eventType: string): string {
  return eventType.includes('.')
    ? (eventType.split('.')[0] ?? eventType)
    : (eventType.split('_')[0] ?? eventType);
}

@Injectable()
export class EventTypeRepository {
  /** Every publish checks its type: the checks of concurrent publishes go in one query. */
  private readonly typeChecks = new CoalescedCalls<{ organisationId: string; name: string }, boolean[]>({
    run: (types) => this.haveAll(types),
    share: (found, start, count) => found.slice(start, start + count),
    maxConcurrentRuns: 2,
    maxItemsPerRun: 500,
  });

  constructor(private readonly dataSource: DataSource) {}

  async list(organisationId: string): Promise<EventType[]> {
    const rows = await this.dataSource.query<
      {
        name: string;
        domain: string;
        description: string;
        example: Record<string, unknown> | null;
        created_at: Date;
      }[]
    >(
      'SELECT name, domain, description, example, created_at FROM event_types WHERE organisation_id = $1 ORDER BY domain, name',
      [organisationId],
    );
    const own: EventType[] = rows.map((row) => ({
      name: row.name,
      domain: row.domain,
      description: row.description,
      example: row.example,
      schema: null,
      reserved: false,
      createdAt: row.created_at.toISOString(),
    }));
    return [...own, ...PARTNER_NOTIFICATION_EVENT_TYPES].sort(
      (a, b) => a.domain.localeCompare(b.domain) || a.name.localeCompare(b.name),
    );
  }

  /**
   * Whether the organisation registered the type, so may publish it (an indexed lookup, shared
   * with concurrent ones). Skyhook's own notification types are not the organisation's to publish.
   */
  async has(organisationId: string, name: string): Promise<boolean> {
    const [found] = await this.typeChecks.call([{ organisationId, name }]);
    return found === true;
  }

  private async haveAll(types: readonly { organisationId: string; name: string }[]): Promise<boolean[]> {
    const rows = await this.dataSource.query<{ organisation_id: string; name: string }[]>(
      `SELECT organisation_id, name FROM event_types
       WHERE (organisation_id, name) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [types.map((type) => type.organisationId), types.map((type) => type.name)],
    );
    const found = new Set(rows.map((row) => `${row.organisation_id}\u0000${row.name}`));
    return types.map((type) => found.has(`${type.organisationId}\u0000${type.name}`));
  }

  /** The types a subscription may name: the organisation's and Skyhook's notification types. */
  async names(organisationId: string): Promise<Set<string>> {
    return new Set([...(await this.ownNames(organisationId)), ...PARTNER_NOTIFICATION_TYPES]);
  }

  /** The types the organisation registered, which it may publish. */
  async ownNames(organisationId: string): Promise<Set<string>> {
    const rows = await this.dataSource.query<{ name: string }[]>(
      'SELECT name FROM event_types WHERE organisation_id = $1',
      [organisationId],
    );
    return new Set(rows.map((row) => row.name));
  }

  /** Registers types; registering an existing type again updates its description. */
  async register(
    manager: EntityManager,
    organisationId: string,
    types: readonly { name: string; description: string; example?: Record<string, unknown> }[],
  ): Promise<void> {
    if (types.length === 0) return;
    await manager.query(
      `INSERT INTO event_types (organisation_id, name, domain, description, example)
       SELECT $1, t.name, t.domain, t.description, t.example
       FROM jsonb_to_recordset($2::jsonb) AS t(name text, domain text, description text, example jsonb)
       ON CONFLICT (organisation_id, name) DO UPDATE SET
         description = EXCLUDED.description,
         example = COALESCE(EXCLUDED.example, event_types.example)`,
      [
        organisationId,
        JSON.stringify(
          types.map((type) => ({ ...type, example: type.example ?? null, domain: domainOf(type.name) })),
        ),
      ],
    );
  }
}
