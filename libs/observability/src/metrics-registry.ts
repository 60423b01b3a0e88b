import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per service process: default process metrics (CPU, memory, event-loop lag,
 * GC) plus the service's own, all labelled with the service name.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return registry;
}
