import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class CreateProjectionCheckpoints1763900000000 implements MigrationInterface {
  name = 'CreateProjectionCheckpoints1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
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

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "projection_checkpoints"`);
  }
}
