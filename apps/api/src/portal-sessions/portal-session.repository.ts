import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { generatePortalToken, hashPortalToken } from '@skyhook/secrets';
import {
  type Organisation,
  organisationOf,
  type OrganisationRow,
} from '../organisations/organisation.repository';

export interface MintedPortalLink {
  readonly id: string;
  /** Shown once, inside the link; only its hash is stored. */
  readonly linkToken: string;
  readonly linkExpiresAt: string;
}

export interface OpenedPortalSession {
  readonly id: string;
  /** Shown once, to the portal, which keeps it in an HttpOnly cookie. */
  readonly sessionToken: string;
  readonly expiresAt: string;
  readonly organisation: Organisation;
}

export interface ActivePortalSession {
  readonly id: string;
  readonly expiresAt: string;
  readonly organisation: Organisation;
}

/** Portal links and the sessions they open (ADR 0029); the clock is PostgreSQL's. */
@Injectable()
export class PortalSessionRepository {
  constructor(private readonly dataSource: DataSource) {}

  async mint(organisationId: string, mintedBy: string, linkLifetimeMs: number): Promise<MintedPortalLink> {
    const id = `psn_${randomBytes(12).toString('hex')}`;
    const link = generatePortalToken('link');
    const rows = await this.dataSource.query<{ link_expires_at: Date }[]>(
      `INSERT INTO portal_sessions (id, organisation_id, link_hash, link_expires_at, minted_by)
       VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond', $5)
       RETURNING link_expires_at`,
      [id, organisationId, link.hash, linkLifetimeMs, mintedBy],
    );
    return { id, linkToken: link.token, linkExpiresAt: rows[0]!.link_expires_at.toISOString() };
  }

  /**
   * Opens the link once: the row is claimed by one UPDATE that also checks the link's expiry,
   * so two browsers opening the same link get one session between them. Undefined for a link
   * that is unknown, expired or already opened (the caller answers all three alike).
   */
  async open(linkToken: string, sessionLifetimeMs: number): Promise<OpenedPortalSession | undefined> {
    const session = generatePortalToken('session');
    const rows = await this.dataSource.query<
      (OrganisationRow & { session_id: string; session_expires_at: Date })[]
    >(
      `WITH opened AS (
         UPDATE portal_sessions
            SET opened_at = now(), session_hash = $2, expires_at = now() + $3 * interval '1 millisecond'
          WHERE link_hash = $1 AND opened_at IS NULL AND link_expires_at > now()
          RETURNING id, organisation_id, expires_at
       )
       SELECT o.*, opened.id AS session_id, opened.expires_at AS session_expires_at
         FROM opened JOIN organisations o ON o.id = opened.organisation_id`,
      [hashPortalToken(linkToken), session.hash, sessionLifetimeMs],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      id: row.session_id,
      sessionToken: session.token,
      expiresAt: row.session_expires_at.toISOString(),
      organisation: organisationOf(row),
    };
  }

  /** The session a presented token opened, if it has neither expired nor been ended. */
  async findActive(sessionToken: string): Promise<ActivePortalSession | undefined> {
    const rows = await this.dataSource.query<
      (OrganisationRow & { session_id: string; session_expires_at: Date })[]
    >(
      `SELECT o.*, s.id AS session_id, s.expires_at AS session_expires_at
         FROM portal_sessions s JOIN organisations o ON o.id = s.organisation_id
        WHERE s.session_hash = $1 AND s.expires_at > now() AND s.ended_at IS NULL`,
      [hashPortalToken(sessionToken)],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      id: row.session_id,
      expiresAt: row.session_expires_at.toISOString(),
      organisation: organisationOf(row),
    };
  }

  async findById(sessionId: string): Promise<{ id: string; expiresAt: string } | undefined> {
    const rows = await this.dataSource.query<{ id: string; expires_at: Date }[]>(
      'SELECT id, expires_at FROM portal_sessions WHERE id = $1 AND expires_at > now() AND ended_at IS NULL',
      [sessionId],
    );
    const row = rows[0];
    return row === undefined ? undefined : { id: row.id, expiresAt: row.expires_at.toISOString() };
  }

  async end(sessionId: string): Promise<void> {
    await this.dataSource.query(
      'UPDATE portal_sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL',
      [sessionId],
    );
  }
}
