import { z } from 'zod';
import { kafkaEnvironmentSchema, kafkaSettingsFrom, type KafkaSettings } from '@skyhook/messaging';
import { databaseEnvironmentSchema, databaseSettingsFrom, type DatabaseSettings } from '@skyhook/persistence';
import {
  loadEnvironmentConfig,
  serviceEnvironmentSchema,
  type ServiceEnvironment,
} from '@skyhook/service-runtime';

const historyEnvironmentSchema = serviceEnvironmentSchema
  .extend({ PORT: serviceEnvironmentSchema.shape.PORT.default(3003) })
  .extend(kafkaEnvironmentSchema.shape)
  .extend(databaseEnvironmentSchema.shape)
  .extend({
    /** Whole days of history kept, by publish time; older days are dropped (partition by partition). */
    HISTORY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
    /**
     * How often expired days are dropped and the next day's partitions created ahead of writes.
     * At most a day, or a day could start without its partitions made in advance.
     */
    HISTORY_RETENTION_CHECK_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(1_000)
      .max(86_400_000)
      .default(3_600_000),
    /** The service reports itself not ready while the projector is further behind than this (records). */
    HISTORY_READY_MAX_LAG: z.coerce.number().int().min(0).max(1_000_000_000).default(100_000),
    /**
     * At most one `skyhook.delivery.failed` per subscription per this many seconds (windows
     * aligned to the clock); 0 notifies every delivery that fails for good.
     */
    DELIVERY_FAILED_NOTICE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(900),
  });

export interface HistoryConfig extends ServiceEnvironment {
  readonly kafka: KafkaSettings;
  readonly database: DatabaseSettings;
  readonly retentionDays: number;
  readonly retentionCheckIntervalMs: number;
  readonly readyMaxLag: number;
  readonly deliveryFailedNoticeIntervalSeconds: number;
}

export const HISTORY_CONFIG = Symbol('HISTORY_CONFIG');

export function loadHistoryConfig(environment: NodeJS.ProcessEnv): HistoryConfig {
  const parsed = loadEnvironmentConfig(historyEnvironmentSchema, environment);
  return {
    NODE_ENV: parsed.NODE_ENV,
    HOST: parsed.HOST,
    PORT: parsed.PORT,
    LOG_LEVEL: parsed.LOG_LEVEL,
    SKYHOOK_TIME_SCALE: parsed.SKYHOOK_TIME_SCALE,
    kafka: kafkaSettingsFrom(parsed, 'skyhook-history'),
    database: databaseSettingsFrom(parsed),
    retentionDays: parsed.HISTORY_RETENTION_DAYS,
    retentionCheckIntervalMs: parsed.HISTORY_RETENTION_CHECK_INTERVAL_MS,
    readyMaxLag: parsed.HISTORY_READY_MAX_LAG,
    deliveryFailedNoticeIntervalSeconds: parsed.DELIVERY_FAILED_NOTICE_INTERVAL_SECONDS,
  };
}
