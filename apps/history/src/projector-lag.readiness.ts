import { type Registry } from 'prom-client';
import { type ReadinessCheck } from '@skyhook/observability';

/** The gauge every consumer group's lag monitor (`ConsumerLagMonitor` of @skyhook/messaging) sets. */
const CONSUMER_LAG_METRIC = 'skyhook_kafka_consumer_lag';

/**
 * Unready while the projector is further behind the delivery events than `maxLag` records:
 * the history API would answer from stale data. Reads the lag the consumer's own lag monitor
 * measures every few seconds, the same figure the dashboards show.
 */
export function projectorLagReadiness(registry: Registry, groupId: string, maxLag: number): ReadinessCheck {
  return {
    name: 'history-projector-lag',
    check: async () => {
      const gauge = registry.getSingleMetric(CONSUMER_LAG_METRIC);
      const measured = gauge === undefined ? [] : (await gauge.get()).values;
      const lag = measured.find(
        (value) => value.labels['group'] === groupId && value.labels['topic'] === 'deliveryEvents',
      )?.value;
      if (lag === undefined) throw new Error('consumer lag of the projector not measured yet');
      if (lag > maxLag) {
        throw new Error(`projector lag ${lag} records exceeds HISTORY_READY_MAX_LAG ${maxLag}`);
      }
    },
  };
}
