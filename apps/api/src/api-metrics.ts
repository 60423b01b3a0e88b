import { Counter, type Registry } from 'prom-client';

export const API_METRICS = Symbol('API_METRICS');

/** Labels are command types and outcomes only: bounded, whatever arrives on the topic. */
export interface ApiMetrics {
  readonly subscriptionCommands: Counter<'type' | 'outcome'>;
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
  };
}
