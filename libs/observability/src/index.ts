export * from './trace-context';
export * from './service-logger';
export * from './metrics-registry';
export * from './readiness-check';
export * from './readiness-registry';
export * from './observability.tokens';
export * from './observability.module';
export * from './trace-context.interceptor';
