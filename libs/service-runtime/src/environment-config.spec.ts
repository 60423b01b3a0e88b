import { z } from 'zod';
import { StartupError } from './configuration.error';
import {
  configuredOrStartupError,
  loadEnvironmentConfig,
  refuseInProduction,
  serviceEnvironmentSchema,
  timeScaleOf,
} from './environment-config';

const schema = serviceEnvironmentSchema.extend({
  KAFKA_BROKERS: z.string(),
  DATABASE_URL: z.string().url(),
});

function startupErrorOf(environment: NodeJS.ProcessEnv): StartupError {
  try {
    loadEnvironmentConfig(schema, environment);
  } catch (error) {
    if (error instanceof StartupError) return error;
    throw error;
  }
  throw new Error('expected a StartupError');
}

describe('loadEnvironmentConfig', () => {
  it('names every missing variable in one line', () => {
    const error = startupErrorOf({});
    expect(error.message).toBe(
      'invalid configuration: PORT is required; KAFKA_BROKERS is required; DATABASE_URL is required',
    );
    expect(error.message).not.toContain('\n');
  });

  it('treats an empty variable as unset rather than as an empty value', () => {
    expect(startupErrorOf({ PORT: '1', KAFKA_BROKERS: '  ', DATABASE_URL: 'https://x' }).message).toContain(
      'KAFKA_BROKERS is required',
    );
  });

  it('says what is wrong with a malformed value', () => {
    expect(
      startupErrorOf({ PORT: 'eighty', KAFKA_BROKERS: 'k:9092', DATABASE_URL: 'https://x' }).message,
    ).toMatch(/^invalid configuration: PORT: /);
  });

  it('applies safe local defaults', () => {
    const config = loadEnvironmentConfig(schema, {
      PORT: '3000',
      KAFKA_BROKERS: 'k:9092',
      DATABASE_URL: 'https://x',
    });
    expect(config).toMatchObject({
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      PORT: 3000,
    });
  });
});

describe('SKYHOOK_TIME_SCALE', () => {
  const base = { PORT: '1', KAFKA_BROKERS: 'k:9092', DATABASE_URL: 'https://x' };

  it('is real time (1) unless set', () => {
    expect(timeScaleOf(loadEnvironmentConfig(schema, base))).toBe(1);
  });

  it('divides time by the given factor outside production', () => {
    expect(timeScaleOf(loadEnvironmentConfig(schema, { ...base, SKYHOOK_TIME_SCALE: '3600' }))).toBe(3600);
  });

  it('refuses a factor below 1 and any scaling in production', () => {
    expect(startupErrorOf({ ...base, SKYHOOK_TIME_SCALE: '0.5' }).message).toContain(
      'SKYHOOK_TIME_SCALE: must be at least 1',
    );
    const production = loadEnvironmentConfig(schema, {
      ...base,
      NODE_ENV: 'production',
      SKYHOOK_TIME_SCALE: '60',
    });
    expect(() => timeScaleOf(production)).toThrow(/SKYHOOK_TIME_SCALE .* must not be set in production/);
  });
});

describe('refuseInProduction', () => {
  it('names every development-only setting that is on, and only in production', () => {
    const settings = { SKYHOOK_ALLOW_HTTP_LOOPBACK: true, OTHER: false, SKYHOOK_TIME_SCALE: true };
    expect(() => refuseInProduction({ NODE_ENV: 'production' }, settings)).toThrow(
      'invalid configuration: SKYHOOK_ALLOW_HTTP_LOOPBACK, SKYHOOK_TIME_SCALE is for development and tests only and must not be set in production',
    );
    expect(() => refuseInProduction({ NODE_ENV: 'development' }, settings)).not.toThrow();
    expect(() => refuseInProduction({ NODE_ENV: 'production' }, { OTHER: false })).not.toThrow();
  });
});

describe('configuredOrStartupError', () => {
  it('turns a failing setting into the one-line start-up error', () => {
    expect(() =>
      configuredOrStartupError(() => {
        throw new Error('SECRETS_MASTER_KEY must be 32 bytes');
      }),
    ).toThrow(new StartupError('invalid configuration: SECRETS_MASTER_KEY must be 32 bytes'));
    expect(configuredOrStartupError(() => 42)).toBe(42);
  });
});
