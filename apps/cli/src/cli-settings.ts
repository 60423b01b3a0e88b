import { z } from 'zod';
import { CONSUMER_GROUPS } from '@skyhook/contracts';
import {
  kafkaEnvironmentSchema,
  type KafkaSettings,
  kafkaSettingsFrom,
  KafkaSettingsError,
} from '@skyhook/messaging';
import { CliError, CliExitCode } from './cli-error';

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

export interface ApiSettings {
  readonly apiUrl: string;
  readonly adminToken: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

const apiUrlSchema = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
  .transform((url) => url.replace(/\/+$/, ''));

function issuesOf(error: z.ZodError): string {
  return error.issues
    .map((issue) =>
      issue.code === 'invalid_type' && issue.input === undefined
        ? `${issue.path.join('.')} is required`
        : `${issue.path.join('.')}: ${issue.message}`,
    )
    .join('; ');
}

/** The api's address and the operators' token; read only by the commands that call the api. */
export function apiSettingsFrom(environment: Environment): ApiSettings {
  const rawUrl = environment['SKYHOOK_API_URL'];
  const url = apiUrlSchema.safeParse(rawUrl === undefined || rawUrl === '' ? DEFAULT_API_URL : rawUrl);
  if (!url.success) {
    throw new CliError(
      `invalid SKYHOOK_API_URL ${JSON.stringify(rawUrl)}: expected an http(s) URL`,
      CliExitCode.Usage,
    );
  }
  const adminToken = environment['SKYHOOK_ADMIN_TOKEN'];
  if (adminToken === undefined || adminToken.trim() === '') {
    throw new CliError(
      "SKYHOOK_ADMIN_TOKEN is not set: export the api's admin token to use the admin commands",
      CliExitCode.Usage,
    );
  }
  return { apiUrl: url.data, adminToken: adminToken.trim() };
}

/** The same KAFKA_* variables, parsed by the same schema, as the services use. */
export function kafkaSettingsOf(environment: Environment): KafkaSettings {
  const parsed = kafkaEnvironmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new CliError(`invalid Kafka settings: ${issuesOf(parsed.error)}`, CliExitCode.Usage);
  }
  try {
    return kafkaSettingsFrom(parsed.data, 'skyhook-cli');
  } catch (error) {
    if (error instanceof KafkaSettingsError)
      throw new CliError(`invalid Kafka settings: ${error.message}`, CliExitCode.Usage);
    throw error;
  }
}

/** The api's read-model group is renamed to rebuild the read model; follow the api's setting. */
export function subscriptionReadModelGroupOf(environment: Environment): string {
  const configured = environment['SUBSCRIPTION_READ_MODEL_GROUP'];
  return configured === undefined || configured === ''
    ? CONSUMER_GROUPS.subscriptionReadModel.name
    : configured;
}
