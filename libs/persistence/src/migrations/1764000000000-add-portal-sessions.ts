import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Partner portal sessions (ADR 0029). A row is minted as a single-use link (only the link token's
 * hash is kept) and becomes a session when the link is opened: the session token's hash, its
 * expiry. An organisation's rows go with it.
 */
export class AddPortalSessions1764000000000 implements MigrationInterface {
  name = 'AddPortalSessions1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "portal_sessions" (
        "id" text PRIMARY KEY,
        "organisation_id" text NOT NULL REFERENCES "organisations" ("id") ON DELETE CASCADE,
        "link_hash" text NOT NULL UNIQUE,
        "link_expires_at" timestamptz NOT NULL,
        "minted_by" text NOT NULL,
        "session_hash" text UNIQUE,
        "opened_at" timestamptz,
        "expires_at" timestamptz,
        "ended_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "portal_sessions_opened_whole" CHECK (
          ("opened_at" IS NULL) = ("session_hash" IS NULL) AND ("opened_at" IS NULL) = ("expires_at" IS NULL)
        )
      )`);
    await queryRunner.query(
      `CREATE INDEX "portal_sessions_by_organisation" ON "portal_sessions" ("organisation_id", "created_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "portal_sessions"`);
  }
}
