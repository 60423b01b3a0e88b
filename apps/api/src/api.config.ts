import { kafkaEnvironmentSchema, kafkaSettingsFrom, type KafkaSettings } from '@skyhook/messaging';
import { databaseEnvironmentSchema, databaseSettingsFrom, type DatabaseSettings } from '@skyhook/persistence';
import {
  loadEnvironmentConfig,
  serviceEnvironmentSchema,
  type ServiceEnvironment,
} from '@skyhook/service-runtime';

const apiEnvironmentSchema = serviceEnvironmentSchema
  .extend({ PORT: serviceEnvironmentSchema.shape.PORT.default(3000) })
  .extend(kafkaEnvironmentSchema.shape)
  .extend(databaseEnvironmentSchema.shape);

export interface ApiConfig extends ServiceEnvironment {
  readonly kafka: KafkaSettings;
  readonly database: DatabaseSettings;
}

export function loadApiConfig(environment: NodeJS.ProcessEnv): ApiConfig {
  const parsed = loadEnvironmentConfig(apiEnvironmentSchema, environment);
  return {
    ...parsed,
    kafka: kafkaSettingsFrom(parsed, 'skyhook-api'),
    database: databaseSettingsFrom(parsed),
  };
}
