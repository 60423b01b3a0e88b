import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type DeliveryOrdering, type StoredSecret, type SubscriptionStatus } from '@skyhook/contracts';
import { type SubscriptionState } from '@skyhook/subscriptions';

interface SubscriptionRow {
  id: string;
  organisation_id: string;
  version: number;
  status: SubscriptionStatus;
  deleted: boolean;
  url: string;
  description: string;
  event_types: string[];
  scope_filter: Record<string, string>;
  policy: Record<string, unknown>;
  ordering: DeliveryOrdering | null;
  rate_limit_per_second: number | null;
  secrets: StoredSecret[];
  expires_at: Date | null;
  disabled_reason: 'partner' | 'circuit-breaker' | null;
  disabled_detail: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface SubscriptionPageCursor {
  readonly createdAt: string;
  readonly id: string;
}

export interface SubscriptionListQuery {
  readonly limit: number;
  readonly cursor?: SubscriptionPageCursor;
  readonly status?: SubscriptionStatus;
}

const COLUMNS = `id, organisation_id, version, status, deleted, url, description, event_types, scope_filter, policy,
  secrets, expires_at, disabled_reason, disabled_detail, created_at, updated_at, ordering,
  rate_limit_per_second`;

/**
 * The subscription read model. Every read takes the organisation id: there is no way to
 * reach another tenant's subscription from here, by design.
 */
@Injectable()
export class SubscriptionReadModelRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findLive(
    organisationId: string,
    id: string,
    manager?: EntityManager,
  ): Promise<SubscriptionState | undefined> {
    const rows = await (manager ?? this.dataSource.manager).query<SubscriptionRow[]>(
      `SELECT ${COLUMNS} FROM subscriptions WHERE organisation_id = $1 AND id = $2 AND NOT deleted`,
      [organisationId, id],
    );
    return rows[0] === undefined ? undefined : stateOf(rows[0]);
  }

  /** Deleted ones too: a deleted subscription's delivery history stays readable for its retention. */
  async findIncludingDeleted(
    organisationId: string,
    id: string,
    manager?: EntityManager,
  ): Promise<SubscriptionState | undefined> {
    const rows = await (manager ?? this.dataSource.manager).query<SubscriptionRow[]>(
      `SELECT ${COLUMNS} FROM subscriptions WHERE organisation_id = $1 AND id = $2`,
      [organisationId, id],
    );
    return rows[0] === undefined ? undefined : stateOf(rows[0]);
  }

  /** Locks the row for the rest of the transaction: commands on one subscription run one at a time. */
  async lockLive(
    manager: EntityManager,
    organisationId: string,
    id: string,
  ): Promise<SubscriptionState | undefined> {
    const rows = await manager.query<SubscriptionRow[]>(
      `SELECT ${COLUMNS} FROM subscriptions WHERE organisation_id = $1 AND id = $2 AND NOT deleted FOR UPDATE`,
      [organisationId, id],
    );
    return rows[0] === undefined ? undefined : stateOf(rows[0]);
  }

  /** Any organisation: for the projector and the expiry scheduler, which act on the log's behalf. */
  async findAnyById(manager: EntityManager, id: string): Promise<SubscriptionState | undefined> {
    const rows = await manager.query<SubscriptionRow[]>(
      `SELECT ${COLUMNS} FROM subscriptions WHERE id = $1`,
      [id],
    );
    return rows[0] === undefined ? undefined : stateOf(rows[0]);
  }

  /** Newest first; the cursor is the last row seen, so inserts between pages never repeat or skip rows. */
  list(organisationId: string, query: SubscriptionListQuery): Promise<SubscriptionState[]> {
    return this.page({ ...query, organisationId });
  }

  /**
   * Operators only (the admin API): newest first across organisations, optionally narrowed to
   * one. The one read here that crosses tenants, hence its name.
   */
  listForOperators(
    query: SubscriptionListQuery & { readonly organisationId?: string },
  ): Promise<SubscriptionState[]> {
    return this.page(query);
  }

  private async page(
    query: SubscriptionListQuery & { readonly organisationId?: string },
  ): Promise<SubscriptionState[]> {
    const parameters: unknown[] = [query.limit];
    let where = 'NOT deleted';
    if (query.organisationId !== undefined) {
      parameters.push(query.organisationId);
      where += ` AND organisation_id = $${parameters.length}`;
    }
    if (query.status !== undefined) {
      parameters.push(query.status);
      where += ` AND status = $${parameters.length}`;
    }
    if (query.cursor !== undefined) {
      parameters.push(query.cursor.createdAt, query.cursor.id);
      where += ` AND (created_at, id) < ($${parameters.length - 1}::timestamptz, $${parameters.length})`;
    }
    const rows = await this.dataSource.query<SubscriptionRow[]>(
      `SELECT ${COLUMNS} FROM subscriptions WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $1`,
      parameters,
    );
    return rows.map(stateOf);
  }

  /**
   * The secrets of the organisation's live subscriptions that sign with an ed25519 key pair (one
   * has a public key), for its public key set: all of them, since a secret's phase depends on
   * the others. Oldest subscription first.
   */
  async secretsWithPublicKeys(
    organisationId: string,
  ): Promise<{ subscriptionId: string; secrets: StoredSecret[] }[]> {
    const rows = await this.dataSource.query<{ id: string; secrets: StoredSecret[] }[]>(
      `SELECT id, secrets FROM subscriptions
        WHERE organisation_id = $1 AND NOT deleted AND jsonb_path_exists(secrets, '$[*].publicKey')
        ORDER BY created_at, id`,
      [organisationId],
    );
    return rows.map((row) => ({ subscriptionId: row.id, secrets: row.secrets }));
  }

  /** Operators only: which organisation a live subscription belongs to, to act in its name. */
  async findOrganisationIdOf(id: string): Promise<string | undefined> {
    const rows = await this.dataSource.query<{ organisation_id: string }[]>(
      'SELECT organisation_id FROM subscriptions WHERE id = $1 AND NOT deleted',
      [id],
    );
    return rows[0]?.organisation_id;
  }

  /**
   * Writes a state only if its version is newer than the stored one: the command path and the
   * projector may both deliver the same version, in any order, and the row still ends right.
   */
  async saveIfNewer(manager: EntityManager, state: SubscriptionState): Promise<boolean> {
    const result = await manager.query<unknown[]>(
      `INSERT INTO subscriptions (${COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       ON CONFLICT (id) DO UPDATE SET
         version = EXCLUDED.version, status = EXCLUDED.status, deleted = EXCLUDED.deleted, url = EXCLUDED.url,
         description = EXCLUDED.description, event_types = EXCLUDED.event_types, scope_filter = EXCLUDED.scope_filter,
         policy = EXCLUDED.policy, secrets = EXCLUDED.secrets, expires_at = EXCLUDED.expires_at,
         disabled_reason = EXCLUDED.disabled_reason, disabled_detail = EXCLUDED.disabled_detail,
         updated_at = EXCLUDED.updated_at, ordering = EXCLUDED.ordering,
         rate_limit_per_second = EXCLUDED.rate_limit_per_second
       WHERE subscriptions.version < EXCLUDED.version
       RETURNING id`,
      [
        state.id,
        state.organisationId,
        state.version,
        state.status,
        state.deleted,
        state.url,
        state.description,
        JSON.stringify(state.eventTypes),
        JSON.stringify(state.scopeFilter),
        JSON.stringify(state.policy),
        JSON.stringify(state.secrets),
        state.expiresAt,
        state.disabledReason,
        state.disabledDetail,
        state.createdAt,
        state.updatedAt,
        state.ordering == null ? null : JSON.stringify(state.ordering),
        state.rateLimit?.perSecond ?? null,
      ],
    );
    return result.length > 0;
  }

  /**
   * What an organisation-wide settings change must be checked against: the scope filter and
   * policy override of every subscription that can still receive deliveries.
   */
  async deliverableSettings(
    manager: EntityManager,
    organisationId: string,
  ): Promise<{ id: string; scopeFilter: Record<string, string>; policy: Record<string, unknown> }[]> {
    const rows = await manager.query<Pick<SubscriptionRow, 'id' | 'scope_filter' | 'policy'>[]>(
      `SELECT id, scope_filter, policy FROM subscriptions
       WHERE organisation_id = $1 AND NOT deleted AND status IN ('active', 'disabled')
       ORDER BY created_at, id`,
      [organisationId],
    );
    return rows.map((row) => ({ id: row.id, scopeFilter: row.scope_filter, policy: row.policy }));
  }

  async findDueForExpiry(now: Date, limit: number): Promise<{ id: string; organisationId: string }[]> {
    const rows = await this.dataSource.query<{ id: string; organisation_id: string }[]>(
      `SELECT id, organisation_id FROM subscriptions
       WHERE NOT deleted AND status IN ('active', 'disabled') AND expires_at IS NOT NULL AND expires_at <= $1
       ORDER BY expires_at LIMIT $2`,
      [now, limit],
    );
    return rows.map((row) => ({ id: row.id, organisationId: row.organisation_id }));
  }
}

function stateOf(row: SubscriptionRow): SubscriptionState {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    version: row.version,
    status: row.status,
    deleted: row.deleted,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types,
    scopeFilter: row.scope_filter,
    policy: row.policy,
    ordering: row.ordering,
    rateLimit: row.rate_limit_per_second == null ? null : { perSecond: row.rate_limit_per_second },
    secrets: row.secrets,
    expiresAt: row.expires_at === null ? null : row.expires_at.toISOString(),
    disabledReason: row.disabled_reason,
    disabledDetail: row.disabled_detail,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
