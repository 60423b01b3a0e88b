import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type EndpointBreakers } from '@skyhook/delivery';
import { type ConcurrencyGate, type ThrottledEndpoint } from './concurrency-gate';
import { type OrganisationLoad } from './organisation-fair-share';
import { type EventLoopLoad } from './event-loop-load';

export const DISPATCHER_METRICS = Symbol('DISPATCHER_METRICS');

/** Labels are outcome classes, results, tiers and reasons only: bounded whatever the traffic. */
export interface DispatcherMetrics {
  readonly attempts: Counter<'outcome' | 'result'>;
  readonly attemptSeconds: Histogram<'outcome'>;
  readonly publishToDeliverySeconds: Histogram;
  readonly retriesScheduled: Counter<'tier'>;
  readonly deliveriesSkipped: Counter<'reason' | 'disposition'>;
  readonly endpointsDisabled: Counter;
  readonly deliveriesDeadLettered: Counter<'reason'>;
  readonly attemptsAfterUnknownOutcome: Counter;
  readonly deliveriesParked: Counter<'reason'>;
  readonly queueWaitsExtended: Counter;
  readonly authFailuresWhileSwitchingSecret: Counter;
  readonly orderedDeliveriesWaited: Counter;
  readonly orderedHeadsReleased: Counter<'action'>;
  readonly orderedKeys: Gauge<'state'>;
}

/** Per-endpoint series are kept for this many throttled endpoints at most (the most queued). */
export const THROTTLED_ENDPOINT_SERIES = 20;
/** Per-organisation series are kept for this many organisations at most (the most waiting, then the latest). */
export const ORGANISATION_SERIES = 20;

/** The organisations worth a series: those with the most deliveries waiting, then the latest served. */
function busiestOrganisations(gate: ConcurrencyGate): OrganisationLoad[] {
  return gate
    .organisationLoads()
    .sort((a, b) => b.waiting - a.waiting || b.lagSeconds - a.lagSeconds || b.inFlight - a.inFlight)
    .slice(0, ORGANISATION_SERIES);
}

export function createDispatcherMetrics(
  registry: Registry,
  breakers: EndpointBreakers,
  gate: ConcurrencyGate,
  eventLoop: EventLoopLoad,
): DispatcherMetrics {
  new Gauge({
    name: 'skyhook_dispatcher_event_loop_utilisation',
    help: 'Share of the last second the event loop spent running (0-1); above DISPATCH_SATURATED_EVENT_LOOP_UTILISATION the process is its own bottleneck and does not park deliveries for waiting.',
    registers: [registry],
    collect() {
      this.set(eventLoop.utilisation);
    },
  });
  new Gauge({
    name: 'skyhook_dispatcher_in_flight_requests',
    help: 'Webhook HTTP requests in flight in this process.',
    registers: [registry],
    collect() {
      this.set(gate.inFlight);
    },
  });
  new Gauge({
    name: 'skyhook_dispatcher_throttled_endpoints',
    help: 'Endpoints held below their maximum concurrency because they recently timed out, could not be reached or answered 429/503.',
    registers: [registry],
    collect() {
      this.set(gate.throttledEndpoints().length);
    },
  });
  // A label per endpoint, but only for the few most queued of those throttled: bounded.
  const endpointGauge = (name: string, help: string, read: (endpoint: ThrottledEndpoint) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['subscription_id'],
      registers: [registry],
      collect() {
        this.reset();
        for (const endpoint of gate.throttledEndpoints().slice(0, THROTTLED_ENDPOINT_SERIES)) {
          this.set({ subscription_id: endpoint.endpoint }, read(endpoint));
        }
      },
    });
  endpointGauge(
    'skyhook_dispatcher_endpoint_concurrency_limit',
    `Requests a throttled endpoint may have in flight now (its adaptive limit), for the ${THROTTLED_ENDPOINT_SERIES} most queued throttled endpoints.`,
    (endpoint) => endpoint.limit,
  );
  endpointGauge(
    'skyhook_dispatcher_endpoint_queued_deliveries',
    `Deliveries waiting for a throttled endpoint in this process, for the ${THROTTLED_ENDPOINT_SERIES} most queued throttled endpoints.`,
    (endpoint) => endpoint.queued,
  );
  new Gauge({
    name: 'skyhook_dispatcher_process_capacity',
    help: 'Requests this process lets in flight now: DISPATCH_MAX_IN_FLIGHT, or fewer while its event loop is saturated (the rest wait their organisation’s turn).',
    registers: [registry],
    collect() {
      this.set(gate.capacity);
    },
  });
  new Gauge({
    name: 'skyhook_dispatcher_waiting_for_capacity',
    help: 'Deliveries waiting for a process slot, over all organisations.',
    registers: [registry],
    collect() {
      this.set(gate.waitingForProcess);
    },
  });
  // A label per organisation, but only for the few busiest: bounded.
  const organisationGauge = (
    name: string,
    help: string,
    read: (load: OrganisationLoad, inFlight: number) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['organisation_id'],
      registers: [registry],
      collect() {
        this.reset();
        const inFlight = gate.inFlight;
        for (const load of busiestOrganisations(gate)) {
          this.set({ organisation_id: load.organisationId }, read(load, inFlight));
        }
      },
    });
  organisationGauge(
    'skyhook_dispatcher_organisation_waiting_deliveries',
    `An organisation's backlog in this process: its deliveries waiting for a process slot, for the ${ORGANISATION_SERIES} busiest organisations.`,
    (load) => load.waiting,
  );
  organisationGauge(
    'skyhook_dispatcher_organisation_in_flight_requests',
    `An organisation's requests in flight in this process, for the ${ORGANISATION_SERIES} busiest organisations.`,
    (load) => load.inFlight,
  );
  organisationGauge(
    'skyhook_dispatcher_organisation_share',
    `An organisation's share (0-1) of this process's requests in flight, for the ${ORGANISATION_SERIES} busiest organisations.`,
    (load, inFlight) => (inFlight === 0 ? 0 : load.inFlight / inFlight),
  );
  organisationGauge(
    'skyhook_dispatcher_organisation_lag_seconds',
    `How late an organisation's deliveries are sent: publish to slot of its latest delivery, or of its oldest waiting one if older, for the ${ORGANISATION_SERIES} busiest organisations.`,
    (load) => load.lagSeconds,
  );
  new Gauge({
    name: 'skyhook_dispatcher_breakers',
    help: 'Endpoint circuit breakers in this process, by state (closed, open, half-open).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const [state, count] of Object.entries(breakers.countsByState())) this.set({ state }, count);
    },
  });
  return {
    attempts: new Counter({
      name: 'skyhook_dispatcher_attempts_total',
      help: 'Delivery attempts by outcome class (success, http-error, timeout, network-error, address-refused) and result (delivered, retry-scheduled, failed).',
      labelNames: ['outcome', 'result'],
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: 'skyhook_dispatcher_attempt_duration_seconds',
      help: 'Duration of one delivery attempt (connect to last response byte), by outcome class.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    publishToDeliverySeconds: new Histogram({
      name: 'skyhook_dispatcher_publish_to_delivery_seconds',
      help: 'From the event entering Skyhook to its successful delivery (includes retries).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3_600, 86_400],
      registers: [registry],
    }),
    retriesScheduled: new Counter({
      name: 'skyhook_dispatcher_retries_scheduled_total',
      help: 'Retries handed to a delay tier (or made at once: tier "immediate").',
      labelNames: ['tier'],
      registers: [registry],
    }),
    deliveriesSkipped: new Counter({
      name: 'skyhook_dispatcher_deliveries_skipped_total',
      help: 'Deliveries not attempted, by reason and disposition (dropped, held).',
      labelNames: ['reason', 'disposition'],
      registers: [registry],
    }),
    endpointsDisabled: new Counter({
      name: 'skyhook_dispatcher_endpoints_disabled_total',
      help: 'Endpoints whose breaker tripped, each followed by a disable command to the api.',
      registers: [registry],
    }),
    deliveriesDeadLettered: new Counter({
      name: 'skyhook_dispatcher_deliveries_dead_lettered_total',
      help: 'Delivery requests, retries and delivery events sent to a dead-letter topic because no retry could ever deliver or write them, by reason (endpoint-unusable, record-too-large).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    attemptsAfterUnknownOutcome: new Counter({
      name: 'skyhook_dispatcher_attempts_after_unknown_outcome_total',
      help: 'Attempts of requests a dispatcher before this one may have sent without recording them (it stopped first): each is marked in history as possibly received before.',
      registers: [registry],
    }),
    deliveriesParked: new Counter({
      name: 'skyhook_dispatcher_deliveries_parked_total',
      help: 'Deliveries handed to the parked topic because their endpoint could not take them soon, by reason (queue-full, queue-wait, organisation-backlog).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    queueWaitsExtended: new Counter({
      name: 'skyhook_dispatcher_queue_waits_extended_total',
      help: 'Times a delivery for an endpoint at full concurrency reached DISPATCH_MAX_QUEUE_WAIT_MS while this process was saturated, and waited another bound instead of being parked.',
      registers: [registry],
    }),
    authFailuresWhileSwitchingSecret: new Counter({
      name: 'skyhook_dispatcher_auth_failures_while_switching_secret_total',
      help: 'Attempts answered 401/403 soon after a rotated secret activated: retried, not counted by the breaker.',
      registers: [registry],
    }),
    orderedDeliveriesWaited: new Counter({
      name: 'skyhook_dispatcher_ordered_deliveries_waited_total',
      help: 'Deliveries of ordered subscriptions that arrived while an earlier one of their key was still being delivered, retried or held, and waited for it.',
      registers: [registry],
    }),
    orderedHeadsReleased: new Counter({
      name: 'skyhook_dispatcher_ordered_heads_released_total',
      help: 'Held ordered deliveries (failed for good under afterFinalFailure: hold) released by their partner, by action (skip, resend).',
      labelNames: ['action'],
      registers: [registry],
    }),
    orderedKeys: new Gauge({
      name: 'skyhook_dispatcher_ordered_keys',
      help: 'Ordering keys in this process by state: active (a delivery being sent, retried or waiting behind one), held (failed for good, waiting for the partner).',
      labelNames: ['state'],
      registers: [registry],
    }),
  };
}
