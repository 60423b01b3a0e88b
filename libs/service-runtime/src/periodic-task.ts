/**
 * Runs `run` every `intervalMs` (measured from the end of one run to the start of the next, so
 * runs never overlap), until stopped; a run that fails goes to `onError` and the next one comes
 * as usual. `nudge` runs it now instead (after a commit that gave it work, say). The pollers of
 * the api and history are all one: the outbox relays, the replay runner, subscription expiry,
 * publish-claim and history retention. The timer does not keep the process alive.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** The run a nudge queued behind the one in progress; several nudges meanwhile share it. */
  private queued: Promise<void> | undefined;
  private state: 'idle' | 'started' | 'stopped' = 'idle';

  constructor(
    private readonly run: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The first run comes after `firstAfterMs` (the interval by default). */
  start(firstAfterMs = this.intervalMs): void {
    this.state = 'started';
    this.schedule(firstAfterMs);
  }

  /**
   * Runs now rather than at the next tick, and resolves once a run that started after this call
   * has ended (never rejects: a failure goes to `onError`). During a run, one more follows it
   * at once, since the run in progress may have read its work before the caller added to it.
   * Before `start` it runs once, without scheduling more; once stopped it does nothing.
   */
  nudge(): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    if (this.running === undefined) return this.runNow();
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.state === 'stopped' ? undefined : this.runNow();
    });
    return this.queued;
  }

  /** True once `stop` was called: a long run may check it and end early. */
  get stopping(): boolean {
    return this.state === 'stopped';
  }

  /** No run starts after this; resolves once a run in progress has ended. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.timer);
    await this.running;
    await this.queued;
  }

  private runNow(): Promise<void> {
    clearTimeout(this.timer);
    const running = this.run()
      .then(
        () => undefined,
        (error: unknown) => {
          this.onError(error);
        },
      )
      .finally(() => {
        this.running = undefined;
        // A queued run schedules the next tick itself once it ends.
        if (this.queued === undefined) this.schedule(this.intervalMs);
      });
    this.running = running;
    return running;
  }

  private schedule(afterMs: number): void {
    if (this.state !== 'started') return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runNow(), afterMs);
    this.timer.unref();
  }
}
