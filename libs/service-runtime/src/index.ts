export * from './configuration.error';
export * from './environment-config';
export * from './run-service';
export * from './periodic-task';
