import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Two gaps in delivery history (issue 18, ADR 0017):
 *
 * - An attempt was keyed by its number alone, so a request the dispatcher sent again after a
 *   crash (same number) was stored over the first one and the partner's second request was
 *   hidden. Attempts now carry the id the dispatcher minted for the request, and it is part of
 *   the key; attempts recorded before ids existed have the empty id and stay keyed as before.
 * - The history tables are partitioned by publish time, and a primary key can only be unique
 *   within one partition. Two copies of one delivery published at different times (the same
 *   event produced twice) became two rows. `delivery_publish_times` holds, per delivery id, the
 *   publish time history files it under: the first copy's. The writer files every copy there,
 *   and retention deletes a day's rows here together with the day's partitions.
 */
export class KeyAttemptsByIdAndFixDeliveryPublishTimes1763968000000 implements MigrationInterface {
  name = 'KeyAttemptsByIdAndFixDeliveryPublishTimes1763968000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A constant default: PostgreSQL adds the column without rewriting the partitions.
    await queryRunner.query(
      `ALTER TABLE "delivery_attempts" ADD COLUMN "attempt_id" text NOT NULL DEFAULT ''`,
    );
    await queryRunner.query(`ALTER TABLE "delivery_attempts" DROP CONSTRAINT "delivery_attempts_pkey"`);
    await queryRunner.query(
      `ALTER TABLE "delivery_attempts" ADD PRIMARY KEY ("published_at", "delivery_id", "attempt_number", "attempt_id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "delivery_publish_times" (
        "delivery_id" text PRIMARY KEY,
        "published_at" timestamptz NOT NULL
      )`);
    // Deliveries already projected keep the day they are in; where an event entered twice
    // before this migration, the earlier copy's row is the one later events merge into.
    await queryRunner.query(`
      INSERT INTO "delivery_publish_times" ("delivery_id", "published_at")
      SELECT DISTINCT ON ("delivery_id") "delivery_id", "published_at"
        FROM "deliveries" ORDER BY "delivery_id", "published_at"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "delivery_publish_times"`);
    // The old key holds one attempt per number: the first request of each number is kept.
    await queryRunner.query(`
      DELETE FROM "delivery_attempts" a USING "delivery_attempts" b
       WHERE b."published_at" = a."published_at" AND b."delivery_id" = a."delivery_id"
         AND b."attempt_number" = a."attempt_number"
         AND (b."attempted_at", b."attempt_id") < (a."attempted_at", a."attempt_id")`);
    await queryRunner.query(`ALTER TABLE "delivery_attempts" DROP CONSTRAINT "delivery_attempts_pkey"`);
    await queryRunner.query(
      `ALTER TABLE "delivery_attempts" ADD PRIMARY KEY ("published_at", "delivery_id", "attempt_number")`,
    );
    await queryRunner.query(`ALTER TABLE "delivery_attempts" DROP COLUMN "attempt_id"`);
  }
}
