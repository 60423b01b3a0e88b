import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Partner notifications (ADR 0030): the log of what Skyhook told each organisation (its ids are
 * derived from the occurrence, so noticing one twice stores it once), the outbox that takes new
 * ones to the inbound topic, and which expiry notices each subscription has had for its current
 * expiry (a renewal moves the expiry, so the notices start again).
 */
export class AddPartnerNotifications1764100000000 implements MigrationInterface {
  name = 'AddPartnerNotifications1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "partner_notifications" (
        "id" text PRIMARY KEY,
        "organisation_id" text NOT NULL,
        "type" text NOT NULL,
        "subscription_id" text NOT NULL,
        "occurred_at" timestamptz NOT NULL,
        "data" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "partner_notifications_by_organisation" ON "partner_notifications" ("organisation_id", "occurred_at" DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX "partner_notifications_by_age" ON "partner_notifications" ("occurred_at")`,
    );
    await queryRunner.query(`
      CREATE TABLE "partner_notification_outbox" (
        "id" bigserial PRIMARY KEY,
        "payload" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "subscription_expiry_notices" (
        "subscription_id" text PRIMARY KEY,
        -- the expiry the notices below were for
        "expires_at" timestamptz NOT NULL,
        -- the shortest lead time noticed for that expiry, in hours; null: none yet
        "noticed_lead_hours" integer,
        "renewal_window_noticed" boolean NOT NULL DEFAULT false
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'subscription_expiry_notices',
      'partner_notification_outbox',
      'partner_notifications',
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
