import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { testKafkaBrokers, testPostgresAdminUrl } from '../test-infrastructure-env';

describe('provisioned test infrastructure', () => {
  it('gives the test run a Kafka broker that answers cluster requests', async () => {
    const admin = new Kafka({
      clientId: 'probe',
      brokers: testKafkaBrokers().split(','),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
    } finally {
      await admin.disconnect();
    }
  });

  it('gives the test run a PostgreSQL that may create databases', async () => {
    const client = new Client({ connectionString: testPostgresAdminUrl() });
    await client.connect();
    try {
      const result = await client.query<{ can: boolean }>(
        'SELECT rolcreatedb OR rolsuper AS can FROM pg_roles WHERE rolname = current_user',
      );
      expect(result.rows[0]?.can).toBe(true);
    } finally {
      await client.end();
    }
  });
});
