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
  .extend(databaseEnvironmentSchema.shape);

export interface HistoryConfig extends ServiceEnvironment {
  readonly kafka: KafkaSettings;
  readonly database: DatabaseSettings;
}

export function loadHistoryConfig(environment: NodeJS.ProcessEnv): HistoryConfig {
  const parsed = loadEnvironmentConfig(historyEnvironmentSchema, environment);
  return {
    ...parsed,
    kafka: kafkaSettingsFrom(parsed, 'skyhook-history'),
    database: databaseSettingsFrom(parsed),
  };
}
