export * from './test-infrastructure-env';
export * from './unique-names';
export * from './poll-until';
export * from './test-database';
export * from './test-kafka';
export * from './service-process';
export * from './service-startup-suite';
export * from './topic-reader';
