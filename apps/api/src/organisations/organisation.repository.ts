import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type DeliveryProfileName } from '@skyhook/delivery-policy';
import { CoalescedCalls } from '@skyhook/messaging';

export interface Organisation {
  readonly id: string;
  readonly name: string;
  /** The delivery profile under `defaultPolicy`. */
  readonly profile: DeliveryProfileName;
  /** At most one of the lifetimes is set; neither: subscriptions never expire. */
  readonly subscriptionLifetimeDays: number | null;
  readonly subscriptionLifetimeMonths: number | null;
  readonly renewalWindowDays: number;
  readonly defaultPolicy: Record<string, unknown>;
  readonly createdAt: string;
}

export interface OrganisationRow {
  id: string;
  name: string;
  profile: DeliveryProfileName;
  subscription_lifetime_days: number | null;
  subscription_lifetime_months: number | null;
  renewal_window_days: number;
  default_policy: Record<string, unknown>;
  created_at: Date;
}

/** An API key that is not revoked, with its organisation. */
export interface ActiveApiKey {
  readonly keyHash: string;
  readonly organisation: Organisation;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly organisationId: string;
  readonly keyHash: string;
}

@Injectable()
export class OrganisationRepository {
  /**
   * Every authenticated request looks its key up: the lookups of concurrent requests go in one
   * query (two in flight at most), fresh each time, so a revoked key is refused at once.
   */
  private readonly apiKeyLookups = new CoalescedCalls<string, (ActiveApiKey | undefined)[]>({
    run: (publicIds) => this.findActiveApiKeysWithOrganisations(publicIds),
    share: (found, start, count) => found.slice(start, start + count),
    maxConcurrentRuns: 2,
    maxItemsPerRun: 500,
  });

  constructor(private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, organisation: Omit<Organisation, 'createdAt'>): Promise<Organisation> {
    const rows = await manager.query<OrganisationRow[]>(
      `INSERT INTO organisations
         (id, name, profile, subscription_lifetime_days, subscription_lifetime_months, renewal_window_days, default_policy)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [
        organisation.id,
        organisation.name,
        organisation.profile,
        organisation.subscriptionLifetimeDays,
        organisation.subscriptionLifetimeMonths,
        organisation.renewalWindowDays,
        JSON.stringify(organisation.defaultPolicy),
      ],
    );
    return organisationOf(rows[0] as OrganisationRow);
  }

  async update(
    manager: EntityManager,
    id: string,
    changes: Partial<
      Pick<
        Organisation,
        | 'name'
        | 'profile'
        | 'subscriptionLifetimeDays'
        | 'subscriptionLifetimeMonths'
        | 'renewalWindowDays'
        | 'defaultPolicy'
      >
    >,
  ): Promise<Organisation | undefined> {
    const rows = await manager.query<[OrganisationRow[], number]>(
      `UPDATE organisations SET
         name = COALESCE($2, name),
         subscription_lifetime_days = CASE WHEN $3::boolean THEN $4::integer ELSE subscription_lifetime_days END,
         subscription_lifetime_months = CASE WHEN $5::boolean THEN $6::integer ELSE subscription_lifetime_months END,
         renewal_window_days = COALESCE($7, renewal_window_days),
         default_policy = COALESCE($8::jsonb, default_policy),
         profile = COALESCE($9, profile)
       WHERE id = $1 RETURNING *`,
      [
        id,
        changes.name ?? null,
        changes.subscriptionLifetimeDays !== undefined,
        changes.subscriptionLifetimeDays ?? null,
        changes.subscriptionLifetimeMonths !== undefined,
        changes.subscriptionLifetimeMonths ?? null,
        changes.renewalWindowDays ?? null,
        changes.defaultPolicy === undefined ? null : JSON.stringify(changes.defaultPolicy),
        changes.profile ?? null,
      ],
    );
    const row = rows[0][0];
    return row === undefined ? undefined : organisationOf(row);
  }

  async findById(id: string): Promise<Organisation | undefined> {
    const rows = await this.dataSource.query<OrganisationRow[]>('SELECT * FROM organisations WHERE id = $1', [
      id,
    ]);
    return rows[0] === undefined ? undefined : organisationOf(rows[0]);
  }

  async list(): Promise<Organisation[]> {
    const rows = await this.dataSource.query<OrganisationRow[]>(
      'SELECT * FROM organisations ORDER BY created_at, id',
    );
    return rows.map(organisationOf);
  }

  async insertApiKey(manager: EntityManager, key: ApiKeyRecord & { label: string }): Promise<void> {
    await manager.query(
      'INSERT INTO api_keys (id, organisation_id, key_hash, label) VALUES ($1, $2, $3, $4)',
      [key.id, key.organisationId, key.keyHash, key.label],
    );
  }

  /**
   * The key's hash and its organisation in one round trip: this runs on every authenticated
   * request.
   */
  async findActiveApiKeyWithOrganisation(publicId: string): Promise<ActiveApiKey | undefined> {
    const [found] = await this.apiKeyLookups.call([publicId]);
    return found;
  }

  private async findActiveApiKeysWithOrganisations(
    publicIds: readonly string[],
  ): Promise<(ActiveApiKey | undefined)[]> {
    const rows = await this.dataSource.query<(OrganisationRow & { api_key_id: string; key_hash: string })[]>(
      `SELECT o.*, k.id AS api_key_id, k.key_hash FROM api_keys k JOIN organisations o ON o.id = k.organisation_id
       WHERE k.id = ANY($1::text[]) AND k.revoked_at IS NULL`,
      [publicIds],
    );
    const byId = new Map(rows.map((row) => [row.api_key_id, row]));
    return publicIds.map((publicId) => {
      const row = byId.get(publicId);
      return row === undefined ? undefined : { keyHash: row.key_hash, organisation: organisationOf(row) };
    });
  }

  async revokeApiKey(organisationId: string, keyId: string): Promise<boolean> {
    const rows = await this.dataSource.query<[unknown[], number]>(
      'UPDATE api_keys SET revoked_at = now() WHERE organisation_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id',
      [organisationId, keyId],
    );
    return rows[1] > 0;
  }
}

export function organisationOf(row: OrganisationRow): Organisation {
  return {
    id: row.id,
    name: row.name,
    profile: row.profile,
    subscriptionLifetimeDays: row.subscription_lifetime_days,
    subscriptionLifetimeMonths: row.subscription_lifetime_months,
    renewalWindowDays: row.renewal_window_days,
    defaultPolicy: row.default_policy,
    createdAt: row.created_at.toISOString(),
  };
}
