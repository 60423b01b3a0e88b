import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Per-key FIFO (ADR 0031): a subscription's ordering key pointer and final-failure policy, or null. */
export class AddSubscriptionOrdering1764200000000 implements MigrationInterface {
  name = 'AddSubscriptionOrdering1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "subscriptions" ADD COLUMN "ordering" jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP COLUMN "ordering"`);
  }
}
