export * from './database-config';
export * from './database-reachability';
export * from './database-unavailability';
export * from './data-source.factory';
export * from './run-migrations';
export * from './persistence.module';
export * from './delivery-history-partitions';
export * from './copy-rows';
