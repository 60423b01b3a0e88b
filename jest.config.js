// Unit tests: no broker, no database; they run in seconds.
const preset = require('./jest.preset.js');

/** @type {import('jest').Config} */
module.exports = {
  ...preset,
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'],
};
