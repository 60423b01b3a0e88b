import { Counter, Histogram, type Registry } from 'prom-client';

/** Labels are topic keys and outcomes only: bounded, whatever the traffic. */
export interface MessagingMetrics {
  readonly recordsProduced: Counter<'topic'>;
  readonly recordsConsumed: Counter<'topic' | 'outcome'>;
  readonly recordHandlingSeconds: Histogram<'topic'>;
}

export function createMessagingMetrics(registry: Registry): MessagingMetrics {
  return {
    recordsProduced: new Counter({
      name: 'skyhook_kafka_records_produced_total',
      help: 'Records acknowledged by the brokers, by topic.',
      labelNames: ['topic'],
      registers: [registry],
    }),
    recordsConsumed: new Counter({
      name: 'skyhook_kafka_records_consumed_total',
      help: 'Records consumed, by topic and outcome (handled, contract_violation, failed).',
      labelNames: ['topic', 'outcome'],
      registers: [registry],
    }),
    recordHandlingSeconds: new Histogram({
      name: 'skyhook_kafka_record_handling_seconds',
      help: 'Time to handle one consumed record, by topic.',
      labelNames: ['topic'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}
