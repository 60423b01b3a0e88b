import { kafkaEnvironmentSchema, kafkaSettingsFrom, type KafkaSettings } from '@skyhook/messaging';
import {
  loadEnvironmentConfig,
  serviceEnvironmentSchema,
  type ServiceEnvironment,
} from '@skyhook/service-runtime';

const fanoutEnvironmentSchema = serviceEnvironmentSchema
  .extend({ PORT: serviceEnvironmentSchema.shape.PORT.default(3001) })
  .extend(kafkaEnvironmentSchema.shape);

export interface FanoutConfig extends ServiceEnvironment {
  readonly kafka: KafkaSettings;
}

export function loadFanoutConfig(environment: NodeJS.ProcessEnv): FanoutConfig {
  const parsed = loadEnvironmentConfig(fanoutEnvironmentSchema, environment);
  return { ...parsed, kafka: kafkaSettingsFrom(parsed, 'skyhook-fanout') };
}
