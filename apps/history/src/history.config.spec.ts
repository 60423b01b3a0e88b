import { StartupError } from '@skyhook/service-runtime';
import { loadHistoryConfig } from './history.config';

const valid = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: 'postgres://skyhook@127.0.0.1:5432/skyhook',
};

describe('history configuration', () => {
  it('loads with a 30-day retention checked hourly and readiness up to 100,000 records behind', () => {
    const config = loadHistoryConfig(valid);
    expect(config.retentionDays).toBe(30);
    expect(config.retentionCheckIntervalMs).toBe(3_600_000);
    expect(config.readyMaxLag).toBe(100_000);
    expect(config.PORT).toBe(3003);
  });

  it('takes the settings from the environment', () => {
    const config = loadHistoryConfig({
      ...valid,
      HISTORY_RETENTION_DAYS: '7',
      HISTORY_RETENTION_CHECK_INTERVAL_MS: '60000',
      HISTORY_READY_MAX_LAG: '0',
    });
    expect([config.retentionDays, config.retentionCheckIntervalMs, config.readyMaxLag]).toEqual([
      7, 60_000, 0,
    ]);
  });

  it.each([
    ['HISTORY_RETENTION_DAYS', '0'],
    ['HISTORY_RETENTION_DAYS', '3651'],
    ['HISTORY_RETENTION_DAYS', '1.5'],
    ['HISTORY_RETENTION_DAYS', 'thirty'],
    ['HISTORY_RETENTION_CHECK_INTERVAL_MS', '999'],
    ['HISTORY_RETENTION_CHECK_INTERVAL_MS', '86400001'],
    ['HISTORY_READY_MAX_LAG', '-1'],
  ])('refuses %s=%s in one line naming the variable', (variable, value) => {
    const load = () => loadHistoryConfig({ ...valid, [variable]: value });
    expect(load).toThrow(StartupError);
    expect(load).toThrow(new RegExp(`^invalid configuration: ${variable}: `));
  });

  it('reports every invalid setting at once', () => {
    expect(() =>
      loadHistoryConfig({ ...valid, HISTORY_RETENTION_DAYS: '0', HISTORY_READY_MAX_LAG: 'many' }),
    ).toThrow(/HISTORY_RETENTION_DAYS: .*; HISTORY_READY_MAX_LAG: /);
  });
});
