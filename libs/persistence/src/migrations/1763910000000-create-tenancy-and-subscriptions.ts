import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class CreateTenancyAndSubscriptions1763910000000 implements MigrationInterface {
  name = 'CreateTenancyAndSubscriptions1763910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "organisations" (
        "id" text PRIMARY KEY,
        "name" text NOT NULL,
        "subscription_lifetime_days" integer NULL CHECK ("subscription_lifetime_days" BETWEEN 1 AND 3650),
        "renewal_window_days" integer NOT NULL DEFAULT 5 CHECK ("renewal_window_days" BETWEEN 0 AND 365),
        "default_policy" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "api_keys" (
        "id" text PRIMARY KEY,
        "organisation_id" text NOT NULL REFERENCES "organisations" ("id") ON DELETE CASCADE,
        "key_hash" text NOT NULL,
        "label" text NOT NULL DEFAULT '',
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "revoked_at" timestamptz NULL
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_api_keys_organisation" ON "api_keys" ("organisation_id")`);
    await queryRunner.query(`
      CREATE TABLE "event_types" (
        "organisation_id" text NOT NULL REFERENCES "organisations" ("id") ON DELETE CASCADE,
        "name" text NOT NULL,
        "domain" text NOT NULL,
        "description" text NOT NULL DEFAULT '',
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("organisation_id", "name")
      )`);
    // The subscription read model: one row per aggregate at its latest version. Written by the
    // command path (read-your-writes) and by the projector from the topic (rebuilds); both
    // apply a version only if it is newer than the row's.
    await queryRunner.query(`
      CREATE TABLE "subscriptions" (
        "id" text PRIMARY KEY,
        "organisation_id" text NOT NULL,
        "version" integer NOT NULL CHECK ("version" >= 1),
        "status" text NOT NULL CHECK ("status" IN ('active', 'disabled', 'revoked', 'expired')),
        "deleted" boolean NOT NULL DEFAULT false,
        "url" text NOT NULL,
        "description" text NOT NULL,
        "event_types" jsonb NOT NULL,
        "scope_filter" jsonb NOT NULL,
        "policy" jsonb NOT NULL,
        "secrets" jsonb NOT NULL,
        "expires_at" timestamptz NULL,
        "disabled_reason" text NULL,
        "disabled_detail" text NULL,
        "created_at" timestamptz NOT NULL,
        "updated_at" timestamptz NOT NULL
      )`);
    // Cursor pagination, newest first, per organisation.
    await queryRunner.query(
      `CREATE INDEX "IDX_subscriptions_organisation_created" ON "subscriptions" ("organisation_id", "created_at" DESC, "id" DESC) WHERE NOT "deleted"`,
    );
    // The expiry scheduler's scan: only live subscriptions that can still expire.
    await queryRunner.query(
      `CREATE INDEX "IDX_subscriptions_expiry_due" ON "subscriptions" ("expires_at") WHERE NOT "deleted" AND "status" IN ('active', 'disabled') AND "expires_at" IS NOT NULL`,
    );
    // Accepted subscription events not yet acknowledged by Kafka (transactional outbox).
    await queryRunner.query(`
      CREATE TABLE "subscription_outbox" (
        "id" bigserial PRIMARY KEY,
        "subscription_id" text NOT NULL,
        "version" integer NOT NULL,
        "payload" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "UQ_subscription_outbox_version" UNIQUE ("subscription_id", "version")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'subscription_outbox',
      'subscriptions',
      'event_types',
      'api_keys',
      'organisations',
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
