import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Per-endpoint rate limits (ADR 0032): requests per second, or null for none. */
export class AddSubscriptionRateLimit1764300000000 implements MigrationInterface {
  name = 'AddSubscriptionRateLimit1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "subscriptions" ADD COLUMN "rate_limit_per_second" integer`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP COLUMN "rate_limit_per_second"`);
  }
}
