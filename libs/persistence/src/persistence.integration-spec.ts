import { type DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@skyhook/testing';
import { createDataSource } from './data-source.factory';
import { DatabaseUnreachableError, assertDatabaseReachable } from './database-reachability';
import { runMigrations } from './run-migrations';

/** The migrations in the order they apply; a new one is appended in schema.ts and here. */
const MIGRATION_NAMES = [
  'CreateProjectionCheckpoints1763900000000',
  'CreateTenancyAndSubscriptions1763910000000',
  'CreateOrganisationOutboxAndEventIngestion1763920000000',
  'CreateDeliveryHistory1763930000000',
  'CreateRedeliveryAttemptNumbers1763940000000',
  'AddOrganisationDeliveryProfiles1763950000000',
  'AddPublishClaims1763960000000',
  'KeyAttemptsByIdAndFixDeliveryPublishTimes1763968000000',
  'MarkAttemptsAfterUnknownOutcome1763970000000',
  'AddEventTypeExamples1763980000000',
  'DropProjectionCheckpoints1763990000000',
  'AddPortalSessions1764000000000',
  'AddPartnerNotifications1764100000000',
  'AddSubscriptionOrdering1764200000000',
  'AddSubscriptionRateLimit1764300000000',
  'AddDeliveryWaitingBehind1764400000000',
];

function settingsFor(url: string) {
  return { url, poolSize: 4, ssl: false, connectTimeoutMs: 2_000 };
}

describe('persistence against a real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeEach(async () => {
    database = await createTestDatabase('persistence');
    dataSource = await createDataSource(settingsFor(database.url), 'skyhook-test').initialize();
  });

  afterEach(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('builds the schema on an empty database with the real migrations, once', async () => {
    const applied = await runMigrations(dataSource);
    expect(applied).toEqual(MIGRATION_NAMES);
    expect(await runMigrations(dataSource)).toEqual([]);
    const tables = await dataSource.query<{ table_name: string }[]>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((row) => row.table_name)).toEqual([
      'api_keys',
      'deliveries',
      'delivery_attempts',
      'delivery_publish_times',
      'event_types',
      'idempotency_keys',
      'organisation_outbox',
      'organisations',
      'partner_notification_outbox',
      'partner_notifications',
      'portal_sessions',
      'published_events',
      'redelivery_attempt_numbers',
      'replay_jobs',
      'schema_migrations',
      'subscription_expiry_notices',
      'subscription_outbox',
      'subscriptions',
    ]);
  });

  it('applies each migration exactly once when several services start together', async () => {
    const others = await Promise.all(
      [1, 2, 3].map(() => createDataSource(settingsFor(database.url), 'skyhook-test').initialize()),
    );
    try {
      const results = await Promise.all([dataSource, ...others].map((source) => runMigrations(source)));
      expect(results.flat().sort()).toEqual([...MIGRATION_NAMES].sort());
    } finally {
      await Promise.all(others.map((source) => source.destroy()));
    }
  });

  it('cancels a statement that runs past the query timeout, and the pool goes on serving', async () => {
    const impatient = await createDataSource(
      { ...settingsFor(database.url), queryTimeoutMs: 200 },
      'skyhook-test',
    ).initialize();
    try {
      await expect(impatient.query('SELECT pg_sleep(2)')).rejects.toThrow(/statement timeout/);
      expect(await impatient.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await impatient.destroy();
    }
  });
});

describe('assertDatabaseReachable', () => {
  it('names the server, never the password, when nothing answers', async () => {
    const settings = settingsFor('postgres://skyhook:hunter2@127.0.0.1:1/skyhook');
    const failure = assertDatabaseReachable(settings);
    await expect(failure).rejects.toBeInstanceOf(DatabaseUnreachableError);
    await expect(failure).rejects.toThrow(/^PostgreSQL at 127\.0\.0\.1:1\/skyhook unreachable: /);
    await expect(failure).rejects.not.toThrow(/hunter2/);
  });
});
