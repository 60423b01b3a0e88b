import { type EventLoopUtilization, performance } from 'node:perf_hooks';

export const EVENT_LOOP_LOAD = Symbol('EVENT_LOOP_LOAD');

/**
 * How busy this process's event loop has been: the share of the last sample interval it spent
 * running rather than waiting (Node's event-loop utilisation, 0 to 1). Sampled on a timer so a
 * reading costs nothing; the timer does not keep the process alive.
 */
export class EventLoopLoad {
  private previous: EventLoopUtilization = performance.eventLoopUtilization();
  private latest = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((utilisation: number) => void)[] = [];

  constructor(private readonly sampleMs = 1_000) {}

  /** The utilisation over the last completed interval. */
  get utilisation(): number {
    return this.latest;
  }

  /** Called with each interval's utilisation as it closes (on the sampling timer). */
  onSample(listener: (utilisation: number) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.previous = performance.eventLoopUtilization();
    this.timer = setInterval(() => {
      const utilisation = this.sample();
      for (const listener of this.listeners) listener(utilisation);
    }, this.sampleMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Closes the current interval and returns its utilisation. */
  sample(): number {
    const now = performance.eventLoopUtilization();
    this.latest = performance.eventLoopUtilization(now, this.previous).utilization;
    this.previous = now;
    return this.latest;
  }
}
