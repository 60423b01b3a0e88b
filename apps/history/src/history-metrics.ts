import { Counter, Histogram, type Registry } from 'prom-client';

export const HISTORY_METRICS = Symbol('HISTORY_METRICS');

export interface HistoryMetrics {
  readonly eventsProjected: Counter<'type'>;
  readonly attemptRows: Counter<'outcome'>;
  readonly eventsExpired: Counter;
  readonly batchWriteSeconds: Histogram;
  readonly batchFailures: Counter;
  readonly projectionDelaySeconds: Histogram;
  readonly partitionsDropped: Counter<'table'>;
}

export function createHistoryMetrics(registry: Registry): HistoryMetrics {
  return {
    eventsProjected: new Counter({
      name: 'skyhook_history_events_projected_total',
      help: 'Delivery events written to the history tables, by type (attempted, skipped, waiting).',
      labelNames: ['type'],
      registers: [registry],
    }),
    attemptRows: new Counter({
      name: 'skyhook_history_attempt_rows_total',
      help: 'Attempt events by whether their row was inserted or already present (a re-delivered or replayed event).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    eventsExpired: new Counter({
      name: 'skyhook_history_events_expired_total',
      help: 'Delivery events not written because their publish day is older than the retention keeps.',
      registers: [registry],
    }),
    batchWriteSeconds: new Histogram({
      name: 'skyhook_history_batch_write_seconds',
      help: 'Time to write one batch of delivery events (partitions, attempts and deliveries, one transaction).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    batchFailures: new Counter({
      name: 'skyhook_history_batch_failures_total',
      help: 'Batch writes that failed and were left for the consumer to retry (PostgreSQL unreachable, a failed query).',
      registers: [registry],
    }),
    projectionDelaySeconds: new Histogram({
      name: 'skyhook_history_projection_delay_seconds',
      help: 'From an attempt or skip to its row being written in history.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1_800, 3_600],
      registers: [registry],
    }),
    partitionsDropped: new Counter({
      name: 'skyhook_history_partitions_dropped_total',
      help: 'Daily history partitions dropped by retention, by table.',
      labelNames: ['table'],
      registers: [registry],
    }),
  };
}
