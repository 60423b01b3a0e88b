// Integration and end-to-end tests: one real Kafka broker and one PostgreSQL per run,
// provisioned by the global setup; each test file isolates itself with unique topic,
// consumer-group and database names.
const preset = require('./jest.preset.js');

/** @type {import('jest').Config} */
module.exports = {
  ...preset,
  displayName: 'integration',
  testMatch: ['<rootDir>/{apps,libs}/**/*.integration-spec.ts'],
  // The fault tests run on their own, one at a time: jest.chaos.config.js.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/libs/[^/]+/src/chaos/'],
  globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
