import { z } from 'zod';
import { LOG_LEVELS } from '@skyhook/observability';
import { StartupError } from './configuration.error';

/** Settings every service reads; each app extends this with its own. */
export const serviceEnvironmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /**
   * Tests and demos only: every retry delay, subscription lifetime and renewal window is
   * divided by this, so a day-long retry schedule or a one-month expiry runs end to end in
   * seconds on the production code path. Timeouts are not scaled. Refused in production (see
   * {@link timeScaleOf}).
   */
  SKYHOOK_TIME_SCALE: z.coerce
    .number()
    .min(1, 'must be at least 1 (1 is real time)')
    .max(10_000_000, 'must be at most 10000000')
    .default(1),
});

export type ServiceEnvironment = z.infer<typeof serviceEnvironmentSchema>;

/**
 * Validates the environment once at start-up. Every problem is reported in one line, named
 * by the variable, so an operator fixes them all in one go.
 */
export function loadEnvironmentConfig<TSchema extends z.ZodType>(
  schema: TSchema,
  environment: NodeJS.ProcessEnv = process.env,
): z.infer<TSchema> {
  const present = withoutEmptyValues(environment);
  const parsed = schema.safeParse(present);
  if (parsed.success) {
    return parsed.data;
  }
  const problems = parsed.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    return issue.code === 'invalid_type' && !(variable in present)
      ? `${variable} is required`
      : `${variable}: ${issue.message}`;
  });
  throw new StartupError(`invalid configuration: ${problems.join('; ')}`);
}

/** `FOO=` in a shell or compose file means "not set", not "set to the empty string". */
function withoutEmptyValues(environment: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined && value.trim() !== '') {
      result[name] = value;
    }
  }
  return result;
}

/**
 * Development-and-test settings (`{ SKYHOOK_ALLOW_HTTP_LOOPBACK: true }`): any that is on stops a
 * production service, naming it, before it can reach a real endpoint.
 */
export function refuseInProduction(
  environment: Pick<ServiceEnvironment, 'NODE_ENV'>,
  developmentOnly: Readonly<Record<string, boolean>>,
): void {
  if (environment.NODE_ENV !== 'production') return;
  const set = Object.keys(developmentOnly).filter((name) => developmentOnly[name]);
  if (set.length > 0) {
    throw new StartupError(
      `invalid configuration: ${set.join(', ')} is for development and tests only and must not be set in production`,
    );
  }
}

/**
 * The validated time scale. A scaled clock in production would retry a partner's endpoint
 * within milliseconds and expire subscriptions early, so anything but 1 stops the service.
 */
export function timeScaleOf(
  environment: Pick<ServiceEnvironment, 'NODE_ENV' | 'SKYHOOK_TIME_SCALE'>,
): number {
  refuseInProduction(environment, { SKYHOOK_TIME_SCALE: environment.SKYHOOK_TIME_SCALE !== 1 });
  return environment.SKYHOOK_TIME_SCALE;
}

/**
 * Builds a setting that validates itself (a cipher from its keys, say), turning its error into
 * the one-line start-up error every other configuration problem gives.
 */
export function configuredOrStartupError<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw new StartupError(`invalid configuration: ${(error as Error).message}`);
  }
}
