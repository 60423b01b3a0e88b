export const KAFKA_SETTINGS = Symbol('KAFKA_SETTINGS');
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
export const MESSAGING_METRICS = Symbol('MESSAGING_METRICS');
export const PRODUCER_HEALTH = Symbol('PRODUCER_HEALTH');
