import { randomBytes } from 'node:crypto';
import { StartupError } from '@skyhook/service-runtime';
import { loadDispatcherConfig } from './dispatcher.config';

const valid = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
};

describe('dispatcher configuration', () => {
  it('loads with safe defaults', () => {
    const config = loadDispatcherConfig(valid);
    expect(config.SKYHOOK_ALLOW_HTTP_LOOPBACK).toBe(false);
    expect(config.DISPATCH_MAX_IN_FLIGHT_PER_ENDPOINT).toBe(16);
    expect(config.DISPATCH_MAX_QUEUED_PER_ENDPOINT).toBe(250);
    expect(config.DISPATCH_MAX_QUEUE_WAIT_MS).toBe(5_000);
    expect(config.secretCipher.decrypt(config.secretCipher.encrypt('s', 'c'), 'c')).toBe('s');
  });

  it('refuses loopback delivery in production', () => {
    expect(() =>
      loadDispatcherConfig({ ...valid, NODE_ENV: 'production', SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true' }),
    ).toThrow(StartupError);
  });

  it('refuses a master key that is not 32 bytes, with one clear line', () => {
    expect(() => loadDispatcherConfig({ ...valid, SECRETS_MASTER_KEY: 'short' })).toThrow(
      /invalid configuration/,
    );
  });

  it('refuses limits out of range', () => {
    expect(() => loadDispatcherConfig({ ...valid, DISPATCH_MAX_IN_FLIGHT_PER_ENDPOINT: '0' })).toThrow();
    expect(() => loadDispatcherConfig({ ...valid, DISPATCH_MAX_QUEUED_PER_ENDPOINT: '0' })).toThrow();
    expect(() => loadDispatcherConfig({ ...valid, DISPATCH_MAX_QUEUE_WAIT_MS: 'soon' })).toThrow();
  });
});
