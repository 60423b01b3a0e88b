export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const SERVICE_LOGGER = Symbol('SERVICE_LOGGER');
