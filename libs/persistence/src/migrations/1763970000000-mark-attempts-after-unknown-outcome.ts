import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * A dispatcher killed after sending a webhook and before its attempt event reached Kafka leaves
 * no record of that request; the next dispatcher sends it again and marks that attempt as
 * following a dispatch whose outcome is unknown (ADR 0018). History keeps the mark, so the
 * partner's log says the request may have been received before.
 */
export class MarkAttemptsAfterUnknownOutcome1763970000000 implements MigrationInterface {
  name = 'MarkAttemptsAfterUnknownOutcome1763970000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A constant default: PostgreSQL adds the column without rewriting the partitions.
    await queryRunner.query(
      `ALTER TABLE "delivery_attempts" ADD COLUMN "after_unknown_outcome" boolean NOT NULL DEFAULT false`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "delivery_attempts" DROP COLUMN "after_unknown_outcome"`);
  }
}
