import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The last attempt number the api handed to a resend or replay of each delivery. History
 * only learns of an attempt once the dispatcher has made it, so two resends in quick
 * succession would otherwise both take "history's count + 1" and history would keep one of
 * them; with this, each takes the next number. Rows older than the history retention are
 * deleted (history has forgotten those deliveries).
 */
export class CreateRedeliveryAttemptNumbers1763940000000 implements MigrationInterface {
  name = 'CreateRedeliveryAttemptNumbers1763940000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "redelivery_attempt_numbers" (
        "delivery_id" text PRIMARY KEY,
        "last_attempt_number" integer NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_redelivery_attempt_numbers_updated" ON "redelivery_attempt_numbers" ("updated_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "redelivery_attempt_numbers"`);
  }
}
