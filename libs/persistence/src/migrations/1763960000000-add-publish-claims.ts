import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * POST /v1/events claims an event before producing it, instead of producing inside the
 * transaction that records it: a Kafka outage then holds no database connection, and a send
 * that succeeded is never undone by a failed commit. The claim keeps the event exactly as it
 * is produced (JSON text, not jsonb, so a re-produce sends the same bytes: jsonb would reorder
 * keys and rewrite numbers) and stays `pending` until the broker acknowledged it; a retry of a
 * pending claim re-produces that text. Rows from before this migration were produced and
 * committed together: they are `published`, with no text kept.
 * An Idempotency-Key names the event it claimed, so its retry finds the claim.
 */
export class AddPublishClaims1763960000000 implements MigrationInterface {
  name = 'AddPublishClaims1763960000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "published_events"
        ADD COLUMN "state" text NOT NULL DEFAULT 'published',
        ADD COLUMN "request_hash" text,
        ADD COLUMN "event" text,
        ADD COLUMN "published_at" timestamptz,
        ADD CONSTRAINT "CHK_published_events_state" CHECK ("state" IN ('pending', 'published')),
        ADD CONSTRAINT "CHK_published_events_pending_keeps_event"
          CHECK ("state" = 'published' OR ("event" IS NOT NULL AND "request_hash" IS NOT NULL))`);
    // New claims start pending; the default above only classified the rows already there.
    await queryRunner.query(`ALTER TABLE "published_events" ALTER COLUMN "state" SET DEFAULT 'pending'`);
    // Operators look for claims left pending (a client that never retried a 503).
    await queryRunner.query(
      `CREATE INDEX "IDX_published_events_pending" ON "published_events" ("created_at") WHERE "state" = 'pending'`,
    );
    await queryRunner.query(`ALTER TABLE "idempotency_keys" ADD COLUMN "event_id" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "idempotency_keys" DROP COLUMN "event_id"`);
    await queryRunner.query(`DROP INDEX "IDX_published_events_pending"`);
    await queryRunner.query(`
      ALTER TABLE "published_events"
        DROP CONSTRAINT "CHK_published_events_pending_keeps_event",
        DROP CONSTRAINT "CHK_published_events_state",
        DROP COLUMN "published_at",
        DROP COLUMN "event",
        DROP COLUMN "request_hash",
        DROP COLUMN "state"`);
  }
}
