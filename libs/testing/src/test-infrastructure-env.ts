/** Environment variables the global setup fills for the test workers. */
export const TEST_INFRASTRUCTURE_ENV = {
  kafkaBrokers: 'SKYHOOK_TEST_KAFKA_BROKERS',
  postgresAdminUrl: 'SKYHOOK_TEST_POSTGRES_ADMIN_URL',
} as const;

export function testKafkaBrokers(): string {
  return required(TEST_INFRASTRUCTURE_ENV.kafkaBrokers);
}

export function testPostgresAdminUrl(): string {
  return required(TEST_INFRASTRUCTURE_ENV.postgresAdminUrl);
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: run integration tests with jest.integration.config.js`);
  }
  return value;
}
