import pino, { type Logger, type LevelWithSilent } from 'pino';
import { currentTraceId } from './trace-context';

export type ServiceLogger = Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface ServiceLoggerOptions {
  readonly service: string;
  readonly level: LevelWithSilent;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  readonly destination?: pino.DestinationStream;
}

/**
 * Structured JSON logs, one object per line, with the service name and the current trace id.
 * Secrets are redacted by key wherever they appear, so a careless log call cannot leak one.
 */
export function createServiceLogger(options: ServiceLoggerOptions): ServiceLogger {
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const traceId = currentTraceId();
        return traceId === undefined ? {} : { traceId };
      },
      redact: {
        paths: [
          'req.headers.authorization',
          '*.secret',
          '*.signingSecret',
          '*.apiKey',
          '*.password',
          'secret',
          'signingSecret',
          'apiKey',
          'password',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
