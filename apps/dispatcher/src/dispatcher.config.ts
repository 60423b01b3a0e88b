import { kafkaEnvironmentSchema, kafkaSettingsFrom, type KafkaSettings } from '@skyhook/messaging';
import {
  loadEnvironmentConfig,
  serviceEnvironmentSchema,
  type ServiceEnvironment,
} from '@skyhook/service-runtime';

const dispatcherEnvironmentSchema = serviceEnvironmentSchema
  .extend({ PORT: serviceEnvironmentSchema.shape.PORT.default(3002) })
  .extend(kafkaEnvironmentSchema.shape);

export interface DispatcherConfig extends ServiceEnvironment {
  readonly kafka: KafkaSettings;
}

export function loadDispatcherConfig(environment: NodeJS.ProcessEnv): DispatcherConfig {
  const parsed = loadEnvironmentConfig(dispatcherEnvironmentSchema, environment);
  return { ...parsed, kafka: kafkaSettingsFrom(parsed, 'skyhook-dispatcher') };
}
