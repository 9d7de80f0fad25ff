/**
 * ConnectivityMonitor: what the terminal has learnt about its link to the
 * server from the exchanges it made, summarised for the clerk.
 *
 *   online    the last exchange succeeded, took < 3 s, no failures since
 *   degraded  1–2 consecutive failures, a slow exchange, or a busy server (429/503)
 *   offline   ≥ 3 consecutive failures, or failures and no success yet
 *   unknown   no exchange yet since the terminal started: nothing learnt
 *
 * A busy answer counts as a failure for backoff but never makes the link
 * "offline": the server was reached, it asked us to wait.
 */

export type Connectivity = 'online' | 'degraded' | 'offline' | 'unknown';

/** An exchange slower than this makes the link "degraded". */
export const SLOW_EXCHANGE_MS = 3000;
/** This many consecutive failures make the link "offline". */
export const OFFLINE_AFTER_FAILURES = 3;

export class ConnectivityMonitor {
  #failures = 0;
  #lastSuccessAt: number | null = null;
  #lastError: string | null = null;
  #slow = false;
  #busy = false;

  /** The server answered (2xx, or an error that is not about load). */
  answered(at: number, durationMs: number, error: string | null = null): void {
    this.#failures = 0;
    this.#lastSuccessAt = at;
    this.#slow = durationMs >= SLOW_EXCHANGE_MS;
    this.#busy = false;
    this.#lastError = error;
  }

  /** The server answered that it is overloaded or rate-limiting (429, 503). */
  busy(error: string): void {
    this.#failures++;
    this.#busy = true;
    this.#lastError = error;
  }

  /** No usable answer: timeout, network error, unreadable or inconsistent response, 5xx. */
  failed(error: string): void {
    this.#failures++;
    this.#busy = false;
    this.#lastError = error;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  get lastSuccessAt(): number | null {
    return this.#lastSuccessAt;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  get state(): Connectivity {
    if (this.#busy) return 'degraded';
    if (this.#lastSuccessAt === null) return this.#failures === 0 ? 'unknown' : 'offline';
    if (this.#failures >= OFFLINE_AFTER_FAILURES) return 'offline';
    if (this.#failures > 0 || this.#slow) return 'degraded';
    return 'online';
  }
}
