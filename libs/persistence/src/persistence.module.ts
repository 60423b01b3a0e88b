import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ReadinessRegistry, SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { type DatabaseSettings } from './database-config';
import { createDataSource } from './data-source.factory';
import { runMigrations } from './run-migrations';

export interface PersistenceModuleOptions {
  readonly settings: DatabaseSettings;
  /** Shown in pg_stat_activity, so an operator sees which service holds a connection. */
  readonly applicationName: string;
}

@Injectable()
class PersistenceLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    private readonly readiness: ReadinessRegistry,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    const applied = await runMigrations(this.dataSource);
    if (applied.length > 0) {
      this.logger.info({ migrations: applied }, 'database migrations applied');
    }
    this.readiness.register({
      name: 'postgres',
      check: async () => {
        await this.dataSource.query('SELECT 1');
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) {
      await this.dataSource.destroy();
    }
  }
}

/** A TypeORM data source with the schema migrated at start-up, before anything uses it. */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceModuleOptions): DynamicModule {
    return {
      module: PersistenceModule,
      providers: [
        {
          provide: DataSource,
          useFactory: async (logger: ServiceLogger) =>
            createDataSource(options.settings, options.applicationName, logger).initialize(),
          inject: [SERVICE_LOGGER],
        },
        PersistenceLifecycle,
      ],
      exports: [DataSource],
    };
  }
}
