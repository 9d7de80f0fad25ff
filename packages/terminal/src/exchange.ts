/**
 * Exchange: one request to the server and what its answer does. The sync
 * loop decides WHEN to talk to the server; this decides what each answer
 * means for the journal, the connectivity summary and the event stream.
 *
 * Every request passes one gate, so at most one is in flight per terminal.
 *
 * What a batch answer means:
 *   2xx, results match       settle per op (one transaction); continue, or
 *                            wait if the chain is blocked or nothing moved
 *   2xx, not signed by a     unknown outcome → retry with backoff (a server that
 *     pinned server key      signs answers said so at enrollment)
 *   2xx, results mismatch    unknown outcome → retry with backoff
 *   thrown (timeout, …)      unknown outcome → retry with backoff, same bytes
 *   429 / 503 / 5xx          retry with backoff, at least Retry-After
 *   device_revoked/unknown   every pending op dead-lettered; stop for good. A server
 *                            that signs answers signs device_revoked (bound to the
 *                            request) and never unknown_device: unsigned → unknown, retry
 *   413 body_too_large       send fewer ops per batch
 *   other 4xx                these ops dead-lettered (the same bytes can never succeed)
 */
import type { Clock, InjectedBugs } from '@holdfast/domain';
import {
  type AnswerRoute,
  type Batch,
  batchMessage,
  DEVICE_TERMINAL_ERRORS,
  type DeviceReport,
  type IngestResponse,
  type Op,
  type OpStatus,
  type PolicyKeySet,
  queryMessage,
  refusalAnswer,
  type WireError,
} from '@holdfast/protocol';
import type { ConnectivityMonitor } from './connectivity.js';
import { RequestRejectedError, TransportError } from './errors.js';
import type { Journal } from './journal.js';
import type { DeadLetter } from './journal-types.js';
import type { Blocked, Outbox, Settled } from './outbox.js';
import { type Credentials, describeError, newSyncEvent, type SyncEvent, type SyncEvents } from './sync-events.js';
import type { Lane, Transport, TransportResult } from './transport.js';

/** Something that can emit the loop's events (the Terminal's emitter). */
export interface EventSink<E> {
  emit<K extends keyof E>(event: K, payload: E[K]): void;
  has(event: keyof E): boolean;
}

/** What the loop should do after a batch. */
export type BatchOutcome = { confirmed: number; dead: number } & (
  | { next: 'continue'; shrinkTo?: number }
  | { next: 'retry'; atLeastMs: number }
  | { next: 'blocked' }
  | { next: 'revoked' }
);

export interface ExchangeOptions {
  journal: Journal;
  outbox: Outbox;
  transport: Transport;
  clock: Clock;
  requestTimeoutMs: number;
  connectivity: ConnectivityMonitor;
  events: EventSink<SyncEvents>;
  /** Deliberate bugs switched on (simulators only): `timeout-is-failure`. */
  bugs: InjectedBugs;
  /**
   * The server keys its answers must be signed with, or null when the server
   * does not sign answers (enrolled with a server before signed answers).
   */
  answerKeys: () => PolicyKeySet | null;
  /**
   * Asks the server for its key set (docs/protocol.md §2, "Server key
   * rotation") when an answer is signed by a key not pinned; true when a new
   * set was adopted (then the answer is checked again). A network error or
   * refusal is false; only a bug throws.
   */
  learnServerKeys?: () => Promise<boolean>;
  /** The device report a batch ending at seq `afterSeq` carries (protocol device-report.ts), or undefined: none. */
  report?: (afterSeq: number) => DeviceReport | undefined;
  /**
   * True while a key rotation is committed locally and not confirmed (the
   * callee also starts completing it). An `unknown_device` answer then
   * means "the server holds the new key", not "revoked": nothing is
   * dead-lettered and the batch is retried once the rotation completes.
   */
  keyRotationPending?: () => boolean;
  /**
   * How requests are signed and answers verified: node:crypto through
   * @holdfast/protocol on Node (`NODE_SIGNER`, node-signer.ts), WebCrypto's
   * asynchronous Ed25519 in a browser (terminal-web/src/webcrypto-signing.ts).
   */
  signer: ExchangeSigner;
}

/**
 * The crypto seam of the exchange: request signatures and the check of the
 * server's signed answers. Node's answers synchronously (and is used so,
 * keeping the exchange's timing as it was: the simulator's runs are
 * deterministic); WebCrypto's are promises.
 */
export interface ExchangeSigner {
  sign(message: { ctx: string }, credentials: Credentials): string | Promise<string>;
  answerProblem(
    route: AnswerRoute,
    requestSig: string,
    body: unknown,
    keys: PolicyKeySet,
  ): string | null | Promise<string | null>;
}

/** Ops recorded within this window, with nothing queued behind them, travel in the live lane. */
export const LIVE_WINDOW_MS = 60_000;
/** A live batch is small: a till's last few sales, not a backlog. */
export const LIVE_MAX_OPS = 50;

/**
 * `live` when the batch ends at the journal head (nothing waits behind it),
 * is small, and its oldest op was recorded within LIVE_WINDOW_MS: a busy
 * server may then serve it before other terminals' backlogs.
 */
export function laneOf(ops: readonly Op[], headSeq: number, now: number): Lane {
  const first = ops[0];
  const last = ops[ops.length - 1];
  if (!first || !last || last.seq !== headSeq || ops.length > LIVE_MAX_OPS) return 'backlog';
  return now - first.at <= LIVE_WINDOW_MS ? 'live' : 'backlog';
}

export class Exchange {
  readonly #options: ExchangeOptions;
  #gate: Promise<unknown> = Promise.resolve();
  #lastAttemptAt: number | null = null;
  #blocked: Blocked | null = null;
  readonly #signer: ExchangeSigner;

  constructor(options: ExchangeOptions) {
    this.#options = options;
    this.#signer = options.signer;
  }

  /** When the last batch attempt started. */
  get lastAttemptAt(): number | null {
    return this.#lastAttemptAt;
  }

  /** Set while the server cannot take our next op (see Outbox). */
  get blocked(): Blocked | null {
    return this.#blocked ? { ...this.#blocked } : null;
  }

  /** Resolves once no request is in flight. */
  drained(): Promise<void> {
    return this.#gate.then(() => undefined);
  }

  /** Sends `ops` (contiguous, as stored) in one signed batch and applies the answer. */
  sendBatch(credentials: Credentials, ops: Op[]): Promise<BatchOutcome> {
    return this.#exclusive(() => this.#sendBatch(credentials, ops));
  }

  async #sendBatch(credentials: Credentials, ops: Op[]): Promise<BatchOutcome> {
    const { journal, outbox, clock, connectivity } = this.#options;
    const first = ops[0] as Op;
    const last = ops.at(-1) as Op;
    const report = this.#options.report?.(last.seq);
    const unsigned = {
      device: credentials.deviceId,
      ops,
      sentAt: clock.now(),
      latestSeq: journal.head.seq,
      ...(report !== undefined ? { report } : {}),
    };
    const signed = this.#signer.sign(batchMessage(unsigned), credentials);
    const batch: Batch = { ...unsigned, sig: typeof signed === 'string' ? signed : await signed };
    const startedAt = clock.now();
    this.#lastAttemptAt = startedAt;
    // Logged before sending: after a crash, an unfinished row says "outcome unknown".
    const attemptId = journal.beginAttempt(first.seq, last.seq, ops.length, startedAt);
    const event = newSyncEvent('batch', startedAt, first.seq, last.seq, ops.length);
    const finish = (outcome: string, httpStatus: number | null, error: string | null, opError = false) =>
      journal.finishAttempt(
        attemptId,
        { finishedAt: clock.now(), outcome, httpStatus, error },
        opError && error ? { first: first.seq, last: last.seq, error } : undefined,
      );
    const unknown = (error: string): BatchOutcome => {
      connectivity.failed(error);
      finish('unknown', event.httpStatus, error, true);
      this.#emit(event, 'unknown', error);
      return { next: 'retry', atLeastMs: 0, confirmed: 0, dead: 0 };
    };

    let res: TransportResult<IngestResponse>;
    try {
      res = await this.#options.transport.sendBatch(
        batch,
        this.#options.requestTimeoutMs,
        laneOf(ops, journal.head.seq, startedAt),
      );
    } catch (error) {
      if (this.#options.bugs.has('timeout-is-failure')) {
        // Deliberate bug (bug-injection processes only): "no answer" taken as "failed".
        const dead = outbox.deadLetterOps(ops, 'timeout', describeError(error), clock.now());
        this.#announce({ confirmed: [], dead, retry: 0, requeued: null, blocked: null }, event);
        finish('failed', null, describeError(error));
        this.#emit(event, 'rejected', describeError(error));
        return { next: 'continue', confirmed: 0, dead: dead.length };
      }
      return unknown(describeError(error));
    }
    const at = clock.now();
    event.durationMs = at - startedAt;
    event.httpStatus = res.status;
    if (res.ok) {
      // Anyone on the path could answer "accepted": an answer the server did not sign is no answer.
      const unsigned = await this.answerProblem('batches', batch.sig, res.body);
      if (unsigned) return unknown(`unverifiable answer: ${unsigned}`);
      const mismatch = outbox.mismatch(ops, res.body);
      if (mismatch) return unknown(`inconsistent answer: ${mismatch}`);
      const settled = outbox.settleIngest(ops, res.body.results, at);
      connectivity.answered(at, event.durationMs);
      this.#announce(settled, event);
      const { requeued } = settled;
      const counts = { confirmed: settled.confirmed.length, dead: settled.dead.length };
      const progressed = counts.confirmed + counts.dead + (requeued?.count ?? 0) > 0;
      // Blocked, or an answer that moved nothing: waiting is the only thing that can help.
      this.#blocked =
        settled.blocked ??
        (progressed ? null : { seq: first.seq, reason: 'the server settled none of the ops sent (seq_gap)' });
      const note = requeued
        ? `server lacks seqs ${requeued.from}..${requeued.to}: ${requeued.count} confirmed ops re-queued`
        : (this.#blocked?.reason ?? null);
      finish('ok', res.status, note);
      this.#emit(event, 'ok', note);
      return this.#blocked ? { next: 'blocked', ...counts } : { next: 'continue', ...counts };
    }

    const { error } = res;
    const message = `${error.code}: ${error.message}`;
    if (this.#rotationExplains(error.code)) return unknown(`${message} (completing the pending key rotation first)`);
    if (DEVICE_TERMINAL_ERRORS.has(error.code)) {
      // Anyone on the path could answer "revoked": a refusal the server did not sign stops nothing.
      const unsigned = await this.#refusalProblem('batches', batch.sig, error);
      if (unsigned) return unknown(`unverifiable refusal ${message}: ${unsigned}`);
      connectivity.answered(at, event.durationMs, message);
      const dead = this.#revoke(error.code, error.message, at);
      finish('revoked', res.status, message);
      this.#emit(event, 'revoked', message);
      return { next: 'revoked', confirmed: 0, dead };
    }
    if (error.retryable || res.status === 429 || res.status >= 500) {
      if (res.status === 429 || res.status === 503) connectivity.busy(message);
      else connectivity.failed(message);
      finish('retryable', res.status, message, true);
      this.#emit(event, 'retryable', message);
      const atLeastMs = Math.max(res.retryAfterMs ?? 0, error.retryAfterMs ?? 0);
      return { next: 'retry', atLeastMs, confirmed: 0, dead: 0 };
    }
    connectivity.answered(at, event.durationMs, message);
    if (error.code === 'body_too_large' && ops.length > 1) {
      finish('too_large', res.status, message);
      this.#emit(event, 'rejected', message);
      return { next: 'continue', shrinkTo: Math.max(1, Math.floor(ops.length / 2)), confirmed: 0, dead: 0 };
    }
    const dead = outbox.deadLetterOps(ops, error.code, error.message, at);
    this.#announce({ confirmed: [], dead, retry: 0, requeued: null, blocked: null }, event);
    finish('rejected', res.status, message);
    this.#emit(event, 'rejected', message);
    return { next: 'continue', confirmed: 0, dead: dead.length };
  }

  /** One POST /v1/ops/query: asks the stored state of `ids` (≤ QUERY_MAX_IDS) and settles what it learns. */
  queryStatuses(credentials: Credentials, ids: string[]): Promise<OpStatus[]> {
    return this.#exclusive(async () => {
      const { clock, connectivity } = this.#options;
      const at = clock.now();
      const signed = this.#signer.sign(queryMessage(credentials.deviceId, ids, at), credentials);
      const sig = typeof signed === 'string' ? signed : await signed;
      const event = newSyncEvent('query', at, null, null, ids.length);
      let res: Awaited<ReturnType<Transport['queryOps']>>;
      try {
        res = await this.#options.transport.queryOps(
          { device: credentials.deviceId, ids, at, sig },
          this.#options.requestTimeoutMs,
        );
      } catch (error) {
        connectivity.failed(describeError(error));
        this.#emit(event, 'unknown', describeError(error));
        throw error;
      }
      const done = clock.now();
      event.durationMs = done - at;
      event.httpStatus = res.status;
      if (!res.ok) {
        const message = `${res.error.code}: ${res.error.message}`;
        if (res.error.retryable || res.status >= 500) connectivity.failed(message);
        else connectivity.answered(done, event.durationMs, message);
        if (DEVICE_TERMINAL_ERRORS.has(res.error.code) && !this.#rotationExplains(res.error.code)) {
          const unsigned = await this.#refusalProblem('ops/query', sig, res.error);
          if (unsigned) {
            const why = `unverifiable refusal ${message}: ${unsigned}`;
            connectivity.failed(why);
            this.#emit(event, 'unknown', why);
            throw new TransportError('bad_response', why);
          }
          this.#revoke(res.error.code, res.error.message, done);
        }
        this.#emit(event, 'rejected', message);
        throw new RequestRejectedError(res.status, res.error);
      }
      const unsigned = await this.answerProblem('ops/query', sig, res.body);
      if (unsigned) {
        const message = `unverifiable answer: ${unsigned}`;
        connectivity.failed(message);
        this.#emit(event, 'unknown', message);
        throw new TransportError('bad_response', message);
      }
      connectivity.answered(done, event.durationMs);
      const asked = new Set(ids);
      const statuses = res.body.results.filter((s) => asked.has(s.id));
      const settled = this.#options.outbox.settleStatuses(statuses, done);
      // Confirmed ops above the server's high water were lost by it (a restore): send them again.
      settled.requeued = this.#options.outbox.reconcileHighWater(res.body.highWater);
      this.#announce(settled, event);
      this.#emit(event, 'ok', null);
      return statuses;
    });
  }

  /**
   * Asks the server about our newest confirmed op: its answer's high water
   * tells whether it still holds everything we hold as confirmed (it may
   * have been restored from a backup); what it lacks goes back to pending.
   * Returns how many ops were requeued (0 with nothing confirmed yet).
   */
  async checkServerHead(credentials: Credentials): Promise<number> {
    const last = this.#options.journal.lastConfirmed();
    if (!last) return 0;
    const before = this.#options.journal.counts.pending;
    await this.queryStatuses(credentials, [last.id]);
    return Math.max(0, this.#options.journal.counts.pending - before);
  }

  /** A health check (connectivity while idle, reachability while backing off). True if the server answered 2xx. */
  ping(): Promise<boolean> {
    return this.#exclusive(async () => {
      const { clock, connectivity } = this.#options;
      const at = clock.now();
      const event = newSyncEvent('ping', at, null, null, 0);
      try {
        const res = await this.#options.transport.ping(this.#options.requestTimeoutMs);
        const done = clock.now();
        event.durationMs = done - at;
        event.httpStatus = res.status;
        if (res.ok) {
          connectivity.answered(done, event.durationMs);
          this.#emit(event, 'ok', null);
          return true;
        }
        const message = `${res.error.code}: ${res.error.message}`;
        if (res.status === 429 || res.status === 503) connectivity.busy(message);
        else connectivity.failed(message);
        this.#emit(event, 'retryable', message);
        return false;
      } catch (error) {
        connectivity.failed(describeError(error));
        this.#emit(event, 'unknown', describeError(error));
        return false;
      }
    });
  }

  /**
   * Why an answer cannot be trusted (unsigned, or not by a pinned key), or
   * null; always null for a server that does not sign. An answer signed by a
   * key not pinned is checked again after learning the server's key set.
   */
  async answerProblem(route: AnswerRoute, requestSig: string, body: unknown): Promise<string | null> {
    const keys = this.#options.answerKeys();
    if (keys === null) return null;
    const checked = this.#signer.answerProblem(route, requestSig, body, keys);
    const problem = checked instanceof Promise ? await checked : checked;
    if (problem === null || !this.#options.learnServerKeys || !signedByUnpinnedKey(body, keys)) return problem;
    // The server may have rotated its key: learn its key set (adopted only if a pinned key signed it) and check again.
    if (!(await this.#options.learnServerKeys())) return problem;
    const learned = this.#options.answerKeys();
    return learned === null ? null : this.#signer.answerProblem(route, requestSig, body, learned);
  }

  /** Why a refusal that would stop this terminal cannot be trusted (signed-answer.ts refusalAnswer), or null. */
  #refusalProblem(route: AnswerRoute, requestSig: string, error: WireError): Promise<string | null> {
    const body: Record<string, unknown> = refusalAnswer(error);
    if (error.serverKey !== undefined) body.serverKey = error.serverKey;
    if (error.serverSig !== undefined) body.serverSig = error.serverSig;
    return this.answerProblem(route, requestSig, body);
  }

  #emit(event: SyncEvent, outcome: SyncEvent['outcome'], error: string | null): void {
    event.outcome = outcome;
    event.error = error;
    this.#options.events.emit('sync', event);
  }

  #announce(settled: Settled, event: SyncEvent): void {
    event.confirmed = settled.confirmed.length;
    event.dead = settled.dead.length;
    event.retry = settled.retry;
    event.requeued = settled.requeued?.count ?? 0;
    for (const op of settled.confirmed) this.#options.events.emit('confirmed', op);
    for (const letter of settled.dead) this.#options.events.emit('dead-letter', letter);
  }

  /** An `unknown_device` answer while a key rotation is pending: the server may hold the new key already. */
  #rotationExplains(code: string): boolean {
    return code === 'unknown_device' && (this.#options.keyRotationPending?.() ?? false);
  }

  /** The device is revoked or unknown: every pending op is dead-lettered; returns how many. */
  #revoke(code: string, message: string, at: number): number {
    const { journal, events } = this.#options;
    const firstPending = journal.pendingAfter(0, 1)[0]?.seq ?? null;
    const count = this.#options.outbox.revoke(code, message, at);
    if (firstPending === null || !events.has('dead-letter')) return count;
    // Announce page by page so that 100,000 dead letters never sit in memory at once.
    let after = firstPending - 1;
    for (;;) {
      const page: DeadLetter[] = journal.deadLetters(500, after);
      const last = page.at(-1);
      if (!last) return count;
      for (const letter of page) {
        if (letter.at === at && letter.reason === code) events.emit('dead-letter', letter);
      }
      after = last.seq;
    }
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#gate.then(fn);
    this.#gate = run.catch(() => undefined);
    return run;
  }
}

/** Whether `body` names a signing key that is not among `keys` (a key the server may have rotated to). */
function signedByUnpinnedKey(body: unknown, keys: PolicyKeySet): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const { serverKey } = body as { serverKey?: unknown };
  return typeof serverKey === 'string' && !Object.hasOwn(keys, serverKey);
}
