import { type Logger as TypeOrmLogger } from 'typeorm';
import { type ServiceLogger } from '@skyhook/observability';

/**
 * TypeORM's own logger prints coloured multi-line text to the console; this one writes the
 * service's JSON lines. Query parameters are never logged: they may carry secrets.
 */
export class TypeOrmPinoLogger implements TypeOrmLogger {
  private readonly logger: ServiceLogger;

  constructor(logger: ServiceLogger) {
    this.logger = logger.child({ component: 'typeorm' });
  }

  logQuery(): void {
    // Successful queries are not logged: too many, and the metrics tell the story.
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.error({ err: error, query: oneLine(query) }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ durationMs: time, query: oneLine(query) }, 'slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.info(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn({ detail: message }, 'typeorm warning');
    else this.logger.debug({ detail: message }, 'typeorm');
  }
}

function oneLine(query: string): string {
  return query.replace(/\s+/g, ' ').trim().slice(0, 1_000);
}
