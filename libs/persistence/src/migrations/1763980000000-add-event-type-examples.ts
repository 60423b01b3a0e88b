import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * An event type may carry an example of its `data`: a test delivery of that type renders it
 * through the subscription's payload template, so a receiver written from a seed's document gets
 * a body its own code accepts (a Flightline receiver needs `review_id` and `status`).
 */
export class AddEventTypeExamples1763980000000 implements MigrationInterface {
  name = 'AddEventTypeExamples1763980000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "event_types" ADD COLUMN "example" jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "event_types" DROP COLUMN "example"`);
  }
}
