import { Counter, Gauge, type Registry } from 'prom-client';

/** Where one producer stands: able to send, or replaced after a failed send and not yet reconnected. */
export type ProducerCondition =
  { readonly ready: true } | { readonly ready: false; readonly reason: string; readonly since: number };

/**
 * The condition of every producer of a process, for its readiness endpoint and its metrics.
 * A producer is named for what it sends (`contract`, `delivery-requests-1`, `attempt-events`):
 * names are fixed in code, so the metric labels stay bounded.
 */
export class ProducerHealthBoard {
  private readonly conditions = new Map<string, ProducerCondition>();
  private readonly readyGauge: Gauge<'producer'> | undefined;
  private readonly replacements: Counter<'producer'> | undefined;

  constructor(registry?: Registry) {
    if (registry === undefined) return;
    this.readyGauge = new Gauge({
      name: 'skyhook_kafka_producer_ready',
      help: 'Whether each Kafka producer can send (1), or was replaced after a failed send and has not reconnected yet (0).',
      labelNames: ['producer'],
      registers: [registry],
    });
    this.replacements = new Counter({
      name: 'skyhook_kafka_producer_replacements_total',
      help: 'Kafka producers discarded after a send whose outcome is unknown and replaced by a fresh one.',
      labelNames: ['producer'],
      registers: [registry],
    });
  }

  ready(producer: string): void {
    this.conditions.set(producer, { ready: true });
    this.readyGauge?.set({ producer }, 1);
  }

  /** The producer cannot send; the first failure's time and reason are kept until it is ready again. */
  notReady(producer: string, reason: string, now = Date.now()): void {
    const current = this.conditions.get(producer);
    if (current === undefined || current.ready) {
      this.conditions.set(producer, { ready: false, reason, since: now });
    }
    this.readyGauge?.set({ producer }, 0);
  }

  replaced(producer: string): void {
    this.replacements?.inc({ producer });
  }

  /** Each producer that cannot send now, with why and since when. */
  failing(): { readonly producer: string; readonly reason: string; readonly since: number }[] {
    const failing: { producer: string; reason: string; since: number }[] = [];
    for (const [producer, condition] of this.conditions) {
      if (!condition.ready) failing.push({ producer, reason: condition.reason, since: condition.since });
    }
    return failing;
  }

  /** Rejects, naming each failing producer, while any producer cannot send: a readiness check. */
  assertReady(now = Date.now()): Promise<void> {
    const failing = this.failing();
    if (failing.length === 0) return Promise.resolve();
    const described = failing
      .map(
        ({ producer, reason, since }) =>
          `producer ${producer} cannot send since ${Math.round((now - since) / 1_000)} s (${reason}); reconnecting`,
      )
      .join('; ');
    return Promise.reject(new Error(described));
  }
}
