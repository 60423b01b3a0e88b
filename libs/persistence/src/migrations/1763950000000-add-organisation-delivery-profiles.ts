import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Each organisation names the delivery profile its default policy builds on (a seed contract
 * such as `aviationalley`; existing organisations keep the platform default), and a
 * subscription lifetime may be counted in calendar months (FL3XX: "1 month") instead of days.
 * At most one of the two lifetime columns is set; neither means subscriptions never expire.
 */
export class AddOrganisationDeliveryProfiles1763950000000 implements MigrationInterface {
  name = 'AddOrganisationDeliveryProfiles1763950000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "organisations"
        ADD COLUMN "profile" text NOT NULL DEFAULT 'standard-webhooks',
        ADD COLUMN "subscription_lifetime_months" integer,
        ADD CONSTRAINT "CHK_organisations_one_lifetime_unit"
          CHECK ("subscription_lifetime_days" IS NULL OR "subscription_lifetime_months" IS NULL)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "organisations"
        DROP CONSTRAINT "CHK_organisations_one_lifetime_unit",
        DROP COLUMN "subscription_lifetime_months",
        DROP COLUMN "profile"`);
  }
}
