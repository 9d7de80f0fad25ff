/**
 * SyncLoop: decides when the outbox is delivered; `Exchange` does each request.
 *
 *                 record (autoSync) / syncNow / start
 *      ┌──────┐ ───────────────────────────────────▶ ┌─────────┐ ──┐ 2xx and more
 *      │ idle │                                      │ sending │   │ pending: next
 *      └──────┘ ◀──────── nothing pending ────────── └─────────┘ ◀─┘ batch at once
 *       │   ▲                                          │     ▲
 *  ping │   │ every idlePingMs        unknown outcome, │     │ timer, or syncNow
 *       ▼   │                          busy, blocked   ▼     │ (≥ manualRetryMinIntervalMs apart)
 *      (ping)                                      ┌─────────┐
 *                                                  │ backoff │
 *      stop() / close() / revoked ──▶ stopped      └─────────┘
 *                                                   │     ▲ reachable: retry after a
 *                                      long backoff │     │ random spread in [0, probe/2]
 *                                                   ▼     │
 *                                                  (probe: ping every ~probeIntervalMs)
 *
 * Invariants:
 * - A batch is the lowest pending seqs, contiguous, sent as stored: a resend
 *   after an unknown outcome carries the same ids and the same bytes, and the
 *   server answers `duplicate` for whatever it had already applied.
 * - An unknown outcome never fails an op; only the server's answer settles it.
 * - Never spins: every path that makes no progress waits on the timer, and a
 *   blocked chain waits the longest step of the schedule.
 * - A new record does not cut a backoff short (a dead server is not hammered
 *   once per sale); syncNow does, at most once per manualRetryMinIntervalMs.
 * - A long backoff is probed with cheap health checks; only a server that
 *   answers gets batches again, spread by jitter. A blocked chain is never
 *   probed (the server is reachable; an operator must act).
 */
import type { Clock, Random, TimerHandle } from '@holdfast/domain';
import { backoffBaseMs, backoffDelayMs } from '@holdfast/domain';
import { type OpStatus, QUERY_MAX_IDS } from '@holdfast/protocol';
import type { ConnectivityMonitor } from './connectivity.js';
import { NotEnrolledError, TerminalClosedError } from './errors.js';
import type { EventSink, Exchange } from './exchange.js';
import type { Journal } from './journal.js';
import type { Outbox } from './outbox.js';
import { type Credentials, describeError, type SyncEvents, type SyncOutcome, type SyncReport } from './sync-events.js';

export type SyncState = 'stopped' | 'idle' | 'sending' | 'backoff';

export interface SyncLoopOptions {
  journal: Journal;
  outbox: Outbox;
  exchange: Exchange;
  clock: Clock;
  random: Random;
  backoffSeconds: readonly number[];
  batchSize: number;
  /** Largest batch body, bytes (Outbox.nextBatch). */
  batchMaxBytes: number;
  idlePingMs: number;
  manualRetryMinIntervalMs: number;
  probeIntervalMs: number;
  connectivity: ConnectivityMonitor;
  events: EventSink<SyncEvents>;
  /** The device's id and key, or null before enrollment. */
  credentials: () => Credentials | null;
  isRevoked: () => boolean;
  /** Called after anything that may change the terminal's status. */
  onChange: () => void;
  /** Unexpected errors (a full disk, a bug): reported, then retried with backoff. */
  onError: (error: unknown) => void;
}

/** A blocked chain is retried no faster than this, even with a zero-delay schedule. */
const MIN_BLOCKED_RETRY_MS = 1000;

interface Tally {
  attempts: number;
  confirmed: number;
  dead: number;
}

/** A Retry-After is honoured but never taken below this (a hot loop) … */
export const MIN_RETRY_AFTER_MS = 200;
/** … nor above this (a misconfigured server must not park a till for a day; health probes continue meanwhile). */
export const MAX_RETRY_AFTER_MS = 600_000;

export class SyncLoop {
  readonly #options: SyncLoopOptions;
  #state: SyncState = 'stopped';
  #auto = false;
  #closed = false;
  #abort = false;
  /** The latest run; `#running` says whether it is still going (known synchronously, unlike a promise). */
  #run: Promise<SyncReport> | null = null;
  #running = false;
  /** Set once the server was asked, after a start, whether it still holds every op it confirmed (a restore loses some). */
  #headChecked = false;
  #timer: { handle: TimerHandle; due: number; kind: 'retry' | 'ping' } | null = null;
  #probeTimer: TimerHandle | null = null;
  /** A server that answered 429/503 asked for no retry before this instant; probes respect it. */
  #notBefore = 0;
  #batchLimit: number;

  constructor(options: SyncLoopOptions) {
    this.#options = options;
    this.#batchLimit = options.batchSize;
  }

  get state(): SyncState {
    return this.#state;
  }

  /** When the next retry is due (in backoff only). */
  get nextAttemptAt(): number | null {
    return this.#timer?.kind === 'retry' ? this.#timer.due : null;
  }

  /** Starts automatic delivery: on record, on timers, idle pings. */
  start(): void {
    if (this.#closed || this.#auto) return;
    this.#auto = true;
    if (this.#state === 'stopped') this.#state = 'idle';
    if (!this.#running) void this.#startRun();
  }

  /** Stops automatic delivery; a request in flight finishes and its answer is applied. */
  stop(): void {
    this.#auto = false;
    this.#abort = true;
    this.#cancelTimer();
    if (!this.#running) this.#state = 'stopped';
  }

  /** Stops at once and refuses further work, without waiting for a request in flight (process death). */
  kill(): void {
    this.stop();
    this.#closed = true;
  }

  /** Stops, waits for any request in flight, and refuses further work. */
  async close(): Promise<void> {
    this.stop();
    this.#closed = true;
    await this.#run;
    await this.#options.exchange.drained();
  }

  /** A new op was recorded: deliver it now if the loop is idle (not while backing off). */
  notifyRecorded(): void {
    if (this.#auto && this.#state === 'idle' && !this.#running) void this.#startRun();
  }

  /**
   * The clerk's retry button. Joins the run in flight; in backoff, sends now
   * unless the last attempt started less than manualRetryMinIntervalMs ago
   * (then the retry is moved up to that moment and 'throttled' returned).
   */
  syncNow(): Promise<SyncReport> {
    if (this.#closed) return Promise.reject(new TerminalClosedError());
    if (this.#running && this.#run) return this.#run;
    const last = this.#options.exchange.lastAttemptAt;
    if (this.#state === 'backoff' && last !== null) {
      const earliest = last + this.#options.manualRetryMinIntervalMs;
      const now = this.#options.clock.now();
      if (now < earliest) {
        if (!this.#timer || this.#timer.due > earliest) this.#arm('retry', earliest - now);
        return Promise.resolve(this.#report('throttled', { attempts: 0, confirmed: 0, dead: 0 }));
      }
    }
    return this.#startRun();
  }

  /**
   * Asks the server for the stored state of `ids` (default: every pending op,
   * paged) without resending them, and settles what it learns as a batch
   * answer would. Returns the server's state per id.
   */
  async requery(ids?: readonly string[]): Promise<OpStatus[]> {
    if (this.#closed) throw new TerminalClosedError();
    const credentials = this.#options.credentials();
    if (!credentials) throw new NotEnrolledError();
    const out: OpStatus[] = [];
    try {
      if (ids) {
        for (let i = 0; i < ids.length; i += QUERY_MAX_IDS) {
          out.push(...(await this.#options.exchange.queryStatuses(credentials, ids.slice(i, i + QUERY_MAX_IDS))));
        }
        return out;
      }
      for (let after = 0; ; ) {
        if (this.#closed) throw new TerminalClosedError();
        const page = this.#options.journal.pendingAfter(after, QUERY_MAX_IDS);
        const last = page.at(-1);
        if (!last) return out;
        after = last.seq;
        out.push(
          ...(await this.#options.exchange.queryStatuses(
            credentials,
            page.map((p) => p.id),
          )),
        );
      }
    } finally {
      if (this.#options.isRevoked()) this.#halt();
      this.#options.onChange();
    }
  }

  #startRun(): Promise<SyncReport> {
    this.#cancelTimer();
    this.#abort = false;
    this.#state = 'sending';
    this.#running = true;
    this.#run = this.#drain();
    return this.#run;
  }

  async #drain(): Promise<SyncReport> {
    const tally: Tally = { attempts: 0, confirmed: 0, dead: 0 };
    try {
      for (;;) {
        if (this.#abort || this.#closed) return this.#end('stopped', tally);
        const credentials = this.#options.credentials();
        if (!credentials) return this.#end('not_enrolled', tally);
        if (this.#options.isRevoked()) return this.#end('revoked', tally);
        const ops = this.#options.outbox.nextBatch(this.#batchLimit, this.#options.batchMaxBytes);
        if (ops.length === 0) {
          // Once per start, with nothing left to send: does the server still hold what it confirmed?
          if (this.#headChecked) return this.#end('idle', tally);
          let requeued: number;
          try {
            requeued = await this.#options.exchange.checkServerHead(credentials);
          } catch {
            // No answer (already counted in connectivity) or a refusal; the next run asks again.
            if (this.#options.isRevoked()) return this.#end('revoked', tally);
            // Ops recorded while the check was in flight found the loop busy (notifyRecorded does
            // nothing then): they must be retried, or they would wait for the clerk's next sale.
            if (this.#options.journal.counts.pending > 0) return this.#end('backoff', tally, this.#failureDelay());
            return this.#end('idle', tally);
          }
          this.#headChecked = true;
          if (requeued > 0) this.#options.onChange();
          // Look again either way: ops recorded while the check was in flight are sent in this run.
          continue;
        }
        tally.attempts++;
        const outcome = await this.#options.exchange.sendBatch(credentials, ops);
        tally.confirmed += outcome.confirmed;
        tally.dead += outcome.dead;
        this.#options.onChange();
        switch (outcome.next) {
          case 'continue':
            if (outcome.shrinkTo !== undefined) this.#batchLimit = outcome.shrinkTo;
            continue;
          case 'revoked':
            return this.#end('revoked', tally);
          case 'blocked':
            return this.#end('blocked', tally, this.#blockedDelay());
          case 'retry': {
            // A busy server that says when to come back knows its load better than our backoff
            // (it spreads a returning fleet over its capacity): take its time, within sane bounds.
            const told = outcome.atLeastMs;
            const delay =
              told > 0 ? Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, told)) : this.#failureDelay();
            // Health probes may cut our own backoff short, never the server's stated time.
            this.#notBefore = this.#options.clock.now() + (told > 0 ? delay : 0);
            return this.#end('backoff', tally, delay);
          }
        }
      }
    } catch (error) {
      this.#options.onError(error);
      this.#options.connectivity.failed(describeError(error));
      return this.#end('backoff', tally, this.#failureDelay());
    }
  }

  #end(outcome: Exclude<SyncOutcome, 'throttled'>, tally: Tally, delayMs?: number): SyncReport {
    this.#running = false;
    if (outcome === 'revoked') this.#halt();
    else if (this.#abort || this.#closed || outcome === 'stopped') this.#state = 'stopped';
    else if (outcome === 'backoff' || outcome === 'blocked') {
      this.#state = 'backoff';
      if (this.#auto && delayMs !== undefined) {
        this.#arm('retry', delayMs);
        if (outcome === 'backoff') this.#armProbe();
      }
    } else {
      this.#state = 'idle';
      if (outcome === 'idle') this.#armPing();
    }
    this.#options.onChange();
    return this.#report(outcome, tally);
  }

  /** Revoked: nothing will ever be sent again. */
  #halt(): void {
    this.#auto = false;
    this.#cancelTimer();
    if (!this.#running) this.#state = 'stopped';
  }

  #report(outcome: SyncOutcome, tally: Tally): SyncReport {
    return { outcome, ...tally, pending: this.#options.journal.counts.pending, nextAttemptAt: this.nextAttemptAt };
  }

  /** Arms a reachability probe if the retry is further away than a probe interval. */
  #armProbe(): void {
    const interval = this.#options.probeIntervalMs;
    const due = this.#timer?.kind === 'retry' ? this.#timer.due : null;
    if (interval <= 0 || due === null || due - this.#options.clock.now() <= interval) return;
    const delay = Math.floor(interval / 2 + this.#options.random.float() * (interval / 2));
    const handle = this.#options.clock.setTimer(delay, () => {
      if (this.#probeTimer !== handle) return;
      this.#probeTimer = null;
      this.#probe().catch((error: unknown) => this.#options.onError(error));
    });
    this.#probeTimer = handle;
  }

  async #probe(): Promise<void> {
    if (this.#running || this.#state !== 'backoff' || this.#closed || !this.#auto) return;
    const reachable = await this.#options.exchange.ping();
    this.#options.onChange();
    if (this.#running || this.#state !== 'backoff' || this.#closed || !this.#auto) return;
    const due = this.#timer?.kind === 'retry' ? this.#timer.due : null;
    if (due === null) return;
    if (reachable) {
      // Spread the return of many terminals that all saw the server come back.
      const now = this.#options.clock.now();
      const at = Math.max(
        now + Math.floor(this.#options.random.float() * (this.#options.probeIntervalMs / 2)),
        this.#notBefore,
      );
      if (at < due) this.#arm('retry', at - now);
    } else {
      this.#armProbe();
    }
  }

  #armPing(): void {
    if (!this.#auto || this.#options.idlePingMs <= 0 || !this.#options.credentials() || this.#options.isRevoked())
      return;
    this.#arm('ping', this.#options.idlePingMs);
  }

  async #ping(): Promise<void> {
    if (this.#running || this.#state !== 'idle') return;
    const reachable = await this.#options.exchange.ping();
    this.#options.onChange();
    // Idle with ops pending should not happen; if it ever does, a server that answers gets them.
    if (reachable && this.#auto && !this.#closed && this.#state === 'idle' && !this.#running) {
      if (this.#options.journal.counts.pending > 0) {
        void this.#startRun();
        return;
      }
    }
    if (this.#state === 'idle' && !this.#running && !this.#timer) this.#armPing();
  }

  #arm(kind: 'retry' | 'ping', delayMs: number): void {
    this.#cancelTimer();
    const due = this.#options.clock.now() + delayMs;
    const handle = this.#options.clock.setTimer(delayMs, () => {
      if (this.#timer?.handle !== handle) return;
      this.#timer = null;
      if (kind === 'ping') this.#ping().catch((error: unknown) => this.#options.onError(error));
      else if (!this.#running && !this.#closed) void this.#startRun();
    });
    this.#timer = { handle, due, kind };
  }

  #cancelTimer(): void {
    this.#timer?.handle.cancel();
    this.#timer = null;
    this.#probeTimer?.cancel();
    this.#probeTimer = null;
  }

  #failureDelay(): number {
    return backoffDelayMs(
      this.#options.connectivity.consecutiveFailures,
      this.#options.random,
      this.#options.backoffSeconds,
    );
  }

  #blockedDelay(): number {
    const schedule = this.#options.backoffSeconds;
    return Math.max(backoffBaseMs(schedule.length, schedule), MIN_BLOCKED_RETRY_MS);
  }
}
