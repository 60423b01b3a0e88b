import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type OrganisationDirectory, type SubscriptionIndex } from '@skyhook/fanout';

export const FANOUT_METRICS = Symbol('FANOUT_METRICS');

export interface FanoutMetrics {
  readonly events: Counter<'outcome'>;
  readonly matchesPerEvent: Histogram;
  readonly deliveryRequests: Counter<'kind'>;
  readonly deliveryRequestsDeadLettered: Counter<'reason'>;
}

export function createFanoutMetrics(
  registry: Registry,
  index: SubscriptionIndex,
  directory: OrganisationDirectory,
): FanoutMetrics {
  new Gauge({
    name: 'skyhook_fanout_index_subscriptions',
    help: 'Subscriptions in the in-memory index (all statuses but deleted).',
    registers: [registry],
    collect() {
      this.set(index.size);
    },
  });
  new Gauge({
    name: 'skyhook_fanout_subscriptions_by_status',
    help:
      'Subscriptions in the in-memory index by status (active, disabled, revoked, expired): ' +
      'status="disabled" is the endpoints currently disabled, by their breaker or their owner.',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      for (const [status, count] of Object.entries(index.countsByStatus())) this.set({ status }, count);
    },
  });
  new Gauge({
    name: 'skyhook_fanout_index_organisations',
    help: 'Organisations known to fan-out (from organisation snapshots).',
    registers: [registry],
    collect() {
      this.set(directory.size);
    },
  });
  return {
    events: new Counter({
      name: 'skyhook_fanout_events_total',
      help: 'Inbound events by outcome: matched, no_match, unknown_event_type, unknown_organisation.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    matchesPerEvent: new Histogram({
      name: 'skyhook_fanout_matches_per_event',
      help: 'Delivery requests produced per inbound event.',
      buckets: [0, 1, 2, 5, 10, 50, 100, 500, 1_000, 5_000],
      registers: [registry],
    }),
    deliveryRequests: new Counter({
      name: 'skyhook_fanout_delivery_requests_total',
      help: 'Delivery requests produced, by kind (send, held, test).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    deliveryRequestsDeadLettered: new Counter({
      name: 'skyhook_fanout_delivery_requests_dead_lettered_total',
      help: 'Delivery requests sent to the dead-letter topic instead, by reason (record-too-large).',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
