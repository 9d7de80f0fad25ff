/**
 * BackgroundJob: one kind of work the Terminal runs behind the clerk's back
 * (an enrollment, a policy refresh, a feed poll, …), with its state made
 * explicit instead of a nullable promise field per job:
 *
 *   idle (lastStartedAt) ──start()──▶ running (run, key, lastStartedAt)
 *        ▲                                │
 *        └──── the run it holds settles ──┘
 *
 * A start while running replaces the run held (the older one still
 * finishes; only the newest returns the job to idle). `isDue` spaces
 * background starts; `settled` lets close() wait for work in flight.
 */
export type JobState<T> =
  | { readonly state: 'idle'; readonly lastStartedAt: number | null }
  | { readonly state: 'running'; readonly lastStartedAt: number; readonly run: Promise<T>; readonly key: unknown };

export class BackgroundJob<T> {
  #state: JobState<T> = { state: 'idle', lastStartedAt: null };

  get state(): JobState<T> {
    return this.#state;
  }

  /** The run in flight, or null when idle. */
  get running(): Promise<T> | null {
    return this.#state.state === 'running' ? this.#state.run : null;
  }

  /** True if the job never started, or last started at least `minIntervalMs` before `now`. */
  isDue(now: number, minIntervalMs: number): boolean {
    const last = this.#state.lastStartedAt;
    return last === null || now - last >= minIntervalMs;
  }

  /** Starts `work` at `now` (the job runs until its promise settles) and returns its promise. */
  start(now: number, work: () => Promise<T>, key: unknown = null): Promise<T> {
    const run = work();
    this.#state = { state: 'running', lastStartedAt: now, run, key };
    const done = () => {
      if (this.#state.state === 'running' && this.#state.run === run)
        this.#state = { state: 'idle', lastStartedAt: now };
    };
    run.then(done, done);
    return run;
  }

  /** Resolves once the run in flight (if any) has settled, whatever its outcome. */
  async settled(): Promise<void> {
    await this.running?.then(
      () => undefined,
      () => undefined,
    );
  }
}
