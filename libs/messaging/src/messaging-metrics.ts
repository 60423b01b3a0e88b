import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Labels are topic keys and outcomes only: bounded, whatever the traffic. */
export interface MessagingMetrics {
  readonly recordsProduced: Counter<'topic'>;
  readonly recordsConsumed: Counter<'topic' | 'outcome'>;
  readonly recordHandlingSeconds: Histogram<'topic'>;
  /**
   * Adds a source of the oldest unfinished record per partition (a concurrent consumer's);
   * returns the function that removes it.
   */
  watchUnfinishedRecords(source: () => readonly UnfinishedRecordAge[]): () => void;
}

/** How long the oldest record taken from a partition and not yet finished has been in hand. */
export interface UnfinishedRecordAge {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly ageSeconds: number;
}

export function createMessagingMetrics(registry: Registry): MessagingMetrics {
  const unfinishedSources = new Set<() => readonly UnfinishedRecordAge[]>();
  new Gauge({
    name: 'skyhook_kafka_oldest_unfinished_record_seconds',
    help: 'Age of the oldest record taken from each partition and not yet finished, by consumer group, topic and partition: a partition whose commits are held back (by a slow endpoint, a stuck handler) shows here long before its lag does.',
    labelNames: ['group', 'topic', 'partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const source of unfinishedSources) {
        for (const { group, topic, partition, ageSeconds } of source()) {
          this.set({ group, topic, partition: String(partition) }, ageSeconds);
        }
      }
    },
  });
  return {
    watchUnfinishedRecords: (source) => {
      unfinishedSources.add(source);
      return () => unfinishedSources.delete(source);
    },
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
