import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Delivery history: one row per delivery and one per attempt, both partitioned by day of the
 * delivery's publish time, so that a delivery and all its attempts live in partitions of the
 * same day and retention drops them together (`DROP TABLE` of a day, never row deletes).
 * Partitions are created ahead of use by the history service (`delivery-history-partitions.ts`);
 * there is no default partition, so a row can never land where retention would miss it.
 */
export class CreateDeliveryHistory1763930000000 implements MigrationInterface {
  name = 'CreateDeliveryHistory1763930000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "deliveries" (
        "published_at" timestamptz NOT NULL,
        "delivery_id" text NOT NULL,
        "organisation_id" text NOT NULL,
        "subscription_id" text NOT NULL,
        "event_id" text NOT NULL,
        "event_type" text NOT NULL,
        "test" boolean NOT NULL,
        -- retrying | delivered | failed | dropped | held
        "status" text NOT NULL,
        -- the highest attempt number recorded (a skip counts the attempt it replaced)
        "attempt_count" integer NOT NULL,
        "first_attempt_at" timestamptz,
        "last_attempt_at" timestamptz,
        "next_attempt_at" timestamptz,
        -- outcome class and status of the latest attempt
        "last_outcome" text,
        "last_response_status" integer,
        "skip_reason" text,
        -- the delivery request, for resend and replay (from the first attempt or a skip)
        "request" jsonb,
        -- time of the event that set the status: an older event never overwrites a newer one
        "status_at" timestamptz NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("published_at", "delivery_id")
      ) PARTITION BY RANGE ("published_at")`);
    // Newest first, per organisation and per subscription, optionally by status; the delivery id
    // breaks ties so that the (published_at, delivery_id) cursor is a total order.
    await queryRunner.query(
      `CREATE INDEX "IDX_deliveries_organisation_page" ON "deliveries" ("organisation_id", "published_at" DESC, "delivery_id" DESC)`,
    );
    // Both equalities of a subscription page lead the index: with subscription_id alone the
    // planner combined two bitmap scans and sorted all of a subscription's rows for one page.
    await queryRunner.query(
      `CREATE INDEX "IDX_deliveries_subscription_page" ON "deliveries" ("organisation_id", "subscription_id", "published_at" DESC, "delivery_id" DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_deliveries_organisation_status_page" ON "deliveries" ("organisation_id", "status", "published_at" DESC, "delivery_id" DESC)`,
    );
    // GET /v1/deliveries/{id} knows only the id: one probe per partition.
    await queryRunner.query(`CREATE INDEX "IDX_deliveries_delivery_id" ON "deliveries" ("delivery_id")`);

    await queryRunner.query(`
      CREATE TABLE "delivery_attempts" (
        "published_at" timestamptz NOT NULL,
        "delivery_id" text NOT NULL,
        "attempt_number" integer NOT NULL,
        "organisation_id" text NOT NULL,
        "subscription_id" text NOT NULL,
        "attempted_at" timestamptz NOT NULL,
        "duration_ms" double precision NOT NULL,
        "url" text NOT NULL,
        "request_headers" jsonb NOT NULL,
        "request_body_bytes" integer NOT NULL,
        -- success | http-error | timeout | network-error | address-refused
        "outcome" text NOT NULL,
        "response_status" integer,
        "response_body" text,
        "error_code" text,
        "error_message" text,
        -- delivered | retry-scheduled | failed
        "result" text NOT NULL,
        "next_attempt_at" timestamptz,
        PRIMARY KEY ("published_at", "delivery_id", "attempt_number")
      ) PARTITION BY RANGE ("published_at")`);

    // Replays (POST /v1/subscriptions/{id}/replay) run as jobs the api works through and reports on.
    await queryRunner.query(`
      CREATE TABLE "replay_jobs" (
        "id" text PRIMARY KEY,
        "organisation_id" text NOT NULL,
        "subscription_id" text NOT NULL,
        "since" timestamptz NOT NULL,
        "until" timestamptz NOT NULL,
        "statuses" text[] NOT NULL,
        -- running | completed | failed
        "state" text NOT NULL,
        "matched" integer NOT NULL DEFAULT 0,
        "enqueued" integer NOT NULL DEFAULT 0,
        -- position of the last delivery enqueued: a restarted api resumes after it
        "cursor_published_at" timestamptz,
        "cursor_delivery_id" text,
        "error" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "finished_at" timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_replay_jobs_subscription" ON "replay_jobs" ("organisation_id", "subscription_id", "created_at" DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_replay_jobs_running" ON "replay_jobs" ("state") WHERE "state" = 'running'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['replay_jobs', 'delivery_attempts', 'deliveries']) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
