import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The delivery an ordered delivery waits behind (ADR 0031), while its status is `waiting`. Added
 * to the partitioned parent, so every day's partition, present and future, has it.
 */
export class AddDeliveryWaitingBehind1764400000000 implements MigrationInterface {
  name = 'AddDeliveryWaitingBehind1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "deliveries" ADD COLUMN "waiting_behind" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "waiting_behind"`);
  }
}
