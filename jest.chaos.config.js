// Fault tests on brokers of their own (a single broker, a three-broker cluster): the whole product
// as real processes, and kafkajs with Skyhook's containment on its own, killed and restarted under
// load. One file at a time, after the other integration tests: each is sized for a 2-core machine
// to itself, and its timings (recovery, silence) mean something only then.
const integration = require('./jest.integration.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...integration,
  displayName: 'chaos',
  testMatch: ['<rootDir>/libs/*/src/chaos/*.integration-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  maxWorkers: 1,
};
