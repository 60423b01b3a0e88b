import { z } from 'zod';
import { LOG_LEVELS } from '@skyhook/observability';
import { StartupError } from './configuration.error';

/** Settings every service reads; each app extends this with its own. */
export const serviceEnvironmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
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
