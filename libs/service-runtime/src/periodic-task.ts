/**
 * Runs `run` every `intervalMs` (measured from the end of one run to the start of the next, so
 * runs never overlap), until stopped; a run that fails goes to `onError` and the next one comes
 * as usual. What the api's schedulers (subscription expiry, publish-claim retention) share.
 * The timer does not keep the process alive.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The first run comes after `firstAfterMs` (the interval by default). */
  start(firstAfterMs = this.intervalMs): void {
    this.stopped = false;
    this.schedule(firstAfterMs);
  }

  /** No run starts after this; resolves once a run in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(afterMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.run()
        .catch(this.onError)
        .finally(() => {
          this.running = undefined;
          this.schedule(this.intervalMs);
        });
    }, afterMs);
    this.timer.unref();
  }
}
