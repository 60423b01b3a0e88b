import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class CreateOrganisationOutboxAndEventIngestion1763920000000 implements MigrationInterface {
  name = 'CreateOrganisationOutboxAndEventIngestion1763920000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Organisation snapshots (catalogue, default policy) accepted but not yet on Kafka.
    await queryRunner.query(`
      CREATE TABLE "organisation_outbox" (
        "id" bigserial PRIMARY KEY,
        "organisation_id" text NOT NULL,
        "payload" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    // POST /v1/events: an Idempotency-Key replays the first answer; the same event id twice is a no-op.
    await queryRunner.query(`
      CREATE TABLE "idempotency_keys" (
        "organisation_id" text NOT NULL,
        "key" text NOT NULL,
        "request_hash" text NOT NULL,
        "response_status" integer NOT NULL,
        "response_body" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("organisation_id", "key")
      )`);
    await queryRunner.query(`
      CREATE TABLE "published_events" (
        "organisation_id" text NOT NULL,
        "event_id" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("organisation_id", "event_id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_idempotency_keys_created" ON "idempotency_keys" ("created_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_published_events_created" ON "published_events" ("created_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['published_events', 'idempotency_keys', 'organisation_outbox']) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
