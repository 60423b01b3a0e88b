export * from './database-config';
export * from './database-reachability';
export * from './data-source.factory';
export * from './run-migrations';
export * from './projection-checkpoint.store';
export * from './entities/projection-checkpoint.entity';
export * from './persistence.module';
export * from './delivery-history-partitions';
