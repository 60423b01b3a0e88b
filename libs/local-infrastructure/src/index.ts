export * from './infrastructure-log';
export * from './free-port';
export * from './workspace-root';
export * from './kafka-from-maven';
export * from './kafka-provider';
export * from './postgres-provider';
export * from './provision-infrastructure';
export * from './service-launch';
