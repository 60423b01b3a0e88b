import { Counter, Gauge, type Registry } from 'prom-client';

export const API_METRICS = Symbol('API_METRICS');

/** Labels are command types, outcomes and job states only: bounded, whatever arrives on the topic. */
export interface ApiMetrics {
  readonly subscriptionCommands: Counter<'type' | 'outcome'>;
  readonly deliveriesResent: Counter;
  readonly replayJobs: Counter<'state'>;
  readonly replayJobsRunning: Gauge;
  readonly replayDeliveriesEnqueued: Counter;
}

export function createApiMetrics(registry: Registry): ApiMetrics {
  return {
    subscriptionCommands: new Counter({
      name: 'skyhook_api_subscription_commands_total',
      help:
        'Commands consumed from the subscription command topic, by type (unknown for a malformed record) ' +
        'and outcome (applied, no_op, rejected). Failures that are retried are not counted here.',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    deliveriesResent: new Counter({
      name: 'skyhook_api_deliveries_resent_total',
      help: 'Deliveries sent again through POST /v1/deliveries/{id}/resend (handed to the dispatcher).',
      registers: [registry],
    }),
    replayJobs: new Counter({
      name: 'skyhook_api_replay_jobs_total',
      help:
        'Replay jobs by the state they reached in this instance: running (created), completed, failed. ' +
        'A completed job is counted by the instance that finished it.',
      labelNames: ['state'],
      registers: [registry],
    }),
    replayJobsRunning: new Gauge({
      name: 'skyhook_api_replay_jobs_running',
      help: 'Replay jobs in the running state (all instances), as last seen by this instance’s runner.',
      registers: [registry],
    }),
    replayDeliveriesEnqueued: new Counter({
      name: 'skyhook_api_replay_deliveries_enqueued_total',
      help: 'Deliveries replay jobs handed to the dispatcher (the same delivery may count again in another replay).',
      registers: [registry],
    }),
  };
}
