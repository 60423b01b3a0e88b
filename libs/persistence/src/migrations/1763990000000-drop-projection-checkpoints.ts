import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * History keeps its place in Kafka (committed offsets) and de-duplicates on its keys; no service
 * ever read or wrote this table, so it goes. `down` brings back the empty table as it was.
 */
export class DropProjectionCheckpoints1763990000000 implements MigrationInterface {
  name = 'DropProjectionCheckpoints1763990000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS "projection_checkpoints"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "projection_checkpoints" (
        "projection" text NOT NULL,
        "topic" text NOT NULL,
        "partition" integer NOT NULL,
        "next_offset" bigint NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_projection_checkpoints" PRIMARY KEY ("projection", "topic", "partition"),
        CONSTRAINT "CHK_projection_checkpoints_offset" CHECK ("next_offset" >= 0)
      )
    `);
  }
}
