/**
 * Forwarder: the worker that sends offline-approved card payments to the
 * processor and records its answers.
 *
 * One round (`runOnce`):
 *
 *   deadline sweep: raise forwarding_deadline warnings / alarms (deduplicated)
 *   claim (lease) ──▶ for each payment, in (device, seq) order:
 *                       authorize(key) ──answer──▶ settle (approved | declined;
 *                          │                       up to SETTLE_GROUP answers at once)
 *                          │ refused for good (4xx about the request)
 *                          ├──────────────────▶ refuse: payment_refused alarm, never again;
 *                          │                    the device's later payments go on
 *                          │ unknown (timeout, reset, 5xx)
 *                          ▼
 *                       findByKey(key) ──found──▶ settle with it
 *                          │ not found / unknown / transient refusal (503, 401, 429)
 *                          ▼
 *                       defer: attempts + 1, not before now + backoff (with
 *                       jitter); skip the device's later payments this round,
 *                       and the claim never takes them while it waits (seq
 *                       order); a later round tries again with the same key
 *
 * Exactly once at the processor rests on the idempotency key, derived
 * from the op id alone: however often a payment is sent — after a lost
 * answer, a crash between the processor's answer and our settle, or a
 * lease that ran out while another process took it — the processor makes
 * one authorization per key. The lease only keeps two processes from
 * doing the same work at once. "Unknown" is never taken for a decline.
 */
import {
  backoffBaseMs,
  type Clock,
  cryptoRandom,
  type InjectedBugs,
  NO_INJECTED_BUGS,
  type Random,
  type TimerHandle,
  validateBackoffSchedule,
} from '@holdfast/domain';
import {
  type Authorization,
  type AuthorizationRequestBody,
  type AuthorizeAnswer,
  ProcessorOutcomeUnknownError,
  ProcessorRefusedError,
} from '@holdfast/processor-client';
import { uuidv7 } from '@holdfast/protocol';
import type { ClaimedOfflinePayment } from '../model/offline-payment.js';
import type { SettleRequest } from '../model/payment-forwarding.js';
import type { Storage } from '../storage/storage.js';
import {
  DEFAULT_DEADLINE_WARN_FRACTION,
  DEFAULT_FORWARD_DEADLINE_HOURS,
  deadlineException,
  deadlineSettings,
} from './forwarding-deadline.js';

/** Base retry delays (seconds) after the 1st, 2nd, … consecutive transient failure of a payment; the last repeats. */
export const FORWARD_BACKOFF_SECONDS: readonly number[] = Object.freeze([5, 15, 30, 60, 120, 300, 600, 1_800, 3_600]);

/**
 * The delay before the next attempt after `failures` consecutive transient
 * failures: half the schedule's base plus a uniform jitter of up to the
 * other half, so it always grows with the failures but a fleet's payments
 * that failed together (one outage) do not come back as one wave.
 */
export function retryDelayMs(
  failures: number,
  random: Random,
  schedule: readonly number[] = FORWARD_BACKOFF_SECONDS,
): number {
  const base = backoffBaseMs(failures, schedule);
  const half = Math.floor(base / 2);
  return base - half + Math.floor(random.float() * (half + 1));
}

/**
 * Whether a processor refusal is about the request itself (it will never
 * be accepted: stop and tell an operator) or about the moment or our own
 * set-up (try again later). Permanent: a 4xx the processor says is not
 * retryable, other than 401/403 (our API key), 404 (our URL), 408 and 429
 * (load), which no single payment is to blame for.
 */
export function isPermanentRefusal(error: ProcessorRefusedError): boolean {
  return (
    !error.retryable && error.status >= 400 && error.status < 500 && ![401, 403, 404, 408, 429].includes(error.status)
  );
}

/** The processor as the forwarder uses it (ProcessorClient fits). */
export interface ProcessorLike {
  authorize(idempotencyKey: string, request: AuthorizationRequestBody, timeoutMs?: number): Promise<AuthorizeAnswer>;
  findByKey(idempotencyKey: string, timeoutMs?: number): Promise<Authorization | null>;
}

/** Processor answers settled together (one transaction on SQLite) at most; the rest of a round's follow. */
const SETTLE_GROUP = 50;

/** Merchant sent for payments of devices that were never placed. */
export const UNPLACED_MERCHANT = 'holdfast-unplaced';

export interface ForwarderOptions {
  storage: Storage;
  processor: ProcessorLike;
  clock: Clock;
  /** This process's claim owner id (unique per process). */
  owner: string;
  /** Payments claimed per round. */
  batchSize: number;
  /** How long a claim holds; longer than a round's worst case is best, but correctness does not depend on it. */
  leaseMs: number;
  /** Timeout of each processor call. */
  timeoutMs: number;
  /** Told what happened to each payment (logs, tests). */
  onEvent?: (event: ForwardEvent) => void;
  /** Jitter of the retry delays (default crypto randomness). */
  random?: Random;
  /** Base retry delays in seconds (default FORWARD_BACKOFF_SECONDS). */
  backoffSeconds?: readonly number[];
  /** Forwarding deadline in hours, from `deadlineBase` (default 72). */
  deadlineHours?: number;
  /** A warning is raised when this fraction of the deadline has passed (default 0.75). */
  deadlineWarnFraction?: number;
  /** Deadline exceptions raised per round at most (default 500; the rest come next round). */
  deadlineBatch?: number;
  /** Deliberate bugs switched on (the simulator's bug-injection runs only; default none). */
  bugs?: InjectedBugs;
}

export type ForwardEvent =
  | { kind: 'settled'; opId: string; tenderIndex: number; status: 'approved' | 'declined'; recovered: boolean }
  | { kind: 'unsettled'; opId: string; tenderIndex: number; reason: string; attempts: number; nextAttemptAt: number }
  | { kind: 'refused'; opId: string; tenderIndex: number; code: string; status: number }
  | { kind: 'deadline'; opId: string; tenderIndex: number; stage: 'warning' | 'missed' }
  | { kind: 'round_failed'; error: string };

export interface RoundSummary {
  claimed: number;
  approved: number;
  declined: number;
  /** Left for a later round: outcome unknown, a transient refusal, or waiting behind such a payment. */
  unsettled: number;
  /** Refused by the processor for good this round (payment_refused raised). */
  refused: number;
  /** forwarding_deadline exceptions raised this round. */
  deadlineExceptions: number;
}

/** The processor idempotency key of a payment: the op id (with the tender index for a split sale's later cards). */
export function idempotencyKeyOf(p: { opId: string; tenderIndex: number }): string {
  return p.tenderIndex === 0 ? `holdfast-op-${p.opId}` : `holdfast-op-${p.opId}-${p.tenderIndex}`;
}

export class Forwarder {
  readonly #options: Readonly<ForwarderOptions>;
  readonly #bugs: InjectedBugs;
  readonly #deadline: { deadlineMs: number; warnAfterMs: number };
  readonly #random: Random;
  readonly #backoff: readonly number[];
  #timer: TimerHandle | null = null;
  #running: Promise<RoundSummary> | null = null;
  #stopped = true;

  constructor(options: ForwarderOptions) {
    this.#options = Object.freeze({ ...options });
    this.#bugs = options.bugs ?? NO_INJECTED_BUGS;
    this.#deadline = deadlineSettings(
      options.deadlineHours ?? DEFAULT_FORWARD_DEADLINE_HOURS,
      options.deadlineWarnFraction ?? DEFAULT_DEADLINE_WARN_FRACTION,
    );
    this.#random = options.random ?? cryptoRandom;
    this.#backoff = options.backoffSeconds ?? FORWARD_BACKOFF_SECONDS;
    validateBackoffSchedule(this.#backoff);
  }

  /** One round: sweep deadlines, claim, forward in order, settle / defer / refuse. Rounds never overlap. */
  runOnce(): Promise<RoundSummary> {
    this.#running ??= this.#round().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Runs a round every `intervalMs` (measured from the end of the last) until stop(). */
  start(intervalMs: number): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = () => {
      this.#timer = null;
      if (this.#stopped) return;
      this.runOnce()
        .catch((error: unknown) => this.#options.onEvent?.({ kind: 'round_failed', error: String(error) }))
        .finally(() => {
          if (!this.#stopped) this.#timer = this.#options.clock.setTimer(intervalMs, tick);
        });
    };
    this.#timer = this.#options.clock.setTimer(0, tick);
  }

  /** Stops scheduling rounds and waits for the one in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  async #round(): Promise<RoundSummary> {
    const { storage, clock, owner, batchSize, leaseMs } = this.#options;
    // A failing sweep must not stop payments from being forwarded: reported, and tried again next round.
    const deadlineExceptions = await this.#sweepDeadlines().catch((error: unknown) => {
      this.#options.onEvent?.({ kind: 'round_failed', error: `deadline sweep: ${String(error)}` });
      return 0;
    });
    const claimed = await storage.claimOfflinePayments(owner, batchSize, clock.now(), leaseMs);
    const summary: RoundSummary = {
      claimed: claimed.length,
      approved: 0,
      declined: 0,
      unsettled: 0,
      refused: 0,
      deadlineExceptions,
    };
    // A device whose earlier payment stays unsettled sends nothing more this round: seq order.
    const held = new Set<string>();
    const answered: { request: SettleRequest; recovered: boolean }[] = [];
    for (const p of claimed) {
      if (held.has(p.device)) {
        summary.unsettled++;
        continue;
      }
      const answer = await this.#forward(p);
      if (answer instanceof ProcessorRefusedError) {
        // Never accepted as sent: stop, tell an operator. Not a decline, and no reason to hold the device.
        const at = clock.now();
        const refusedNow = await storage.refuseOfflinePayment({
          payment: { opId: p.opId, tenderIndex: p.tenderIndex },
          owner,
          code: answer.code,
          status: answer.status,
          message: answer.message,
          field: answer.field ?? null,
          at,
          exceptionId: uuidv7(at, this.#random.bytes(10)),
        });
        // False: settled, refused or taken over by another process meanwhile; nothing to report.
        if (!refusedNow) continue;
        summary.refused++;
        this.#options.onEvent?.({
          kind: 'refused',
          opId: p.opId,
          tenderIndex: p.tenderIndex,
          code: answer.code,
          status: answer.status,
        });
        continue;
      }
      if (typeof answer === 'string') {
        held.add(p.device);
        summary.unsettled++;
        const attempts = p.attempts + 1;
        const nextAttemptAt = clock.now() + retryDelayMs(attempts, this.#random, this.#backoff);
        await storage.deferOfflinePayment({
          payment: { opId: p.opId, tenderIndex: p.tenderIndex },
          owner,
          attempts,
          nextAttemptAt,
          error: answer,
        });
        this.#options.onEvent?.({
          kind: 'unsettled',
          opId: p.opId,
          tenderIndex: p.tenderIndex,
          reason: answer,
          attempts,
          nextAttemptAt,
        });
        continue;
      }
      const { authorization, recovered } = answer;
      const at = clock.now();
      answered.push({
        request: {
          payment: { opId: p.opId, tenderIndex: p.tenderIndex },
          owner,
          settlement: {
            status: authorization.status,
            processorId: authorization.id,
            ...(authorization.declineCode !== undefined ? { declineCode: authorization.declineCode } : {}),
            at,
          },
          exceptionId: uuidv7(at, this.#random.bytes(10)),
        },
        recovered,
      });
      if (answered.length >= SETTLE_GROUP) await this.#settle(answered.splice(0), summary);
    }
    await this.#settle(answered, summary);
    return summary;
  }

  /**
   * Settles processor answers together, in one transaction where the backend
   * allows (Storage.settleOfflinePayments). Until that commits an answer is
   * only at the processor: a crash before it leaves the payments claimed,
   * and a later round sends them again under the same keys (the processor
   * answers with the authorization it made).
   */
  async #settle(answered: readonly { request: SettleRequest; recovered: boolean }[], summary: RoundSummary) {
    if (answered.length === 0) return;
    await this.#options.storage.settleOfflinePayments(answered.map((a) => a.request));
    for (const { request, recovered } of answered) {
      const { status } = request.settlement;
      summary[status]++;
      this.#options.onEvent?.({
        kind: 'settled',
        opId: request.payment.opId,
        tenderIndex: request.payment.tenderIndex,
        status,
        recovered,
      });
    }
  }

  /**
   * Raises the deadline exceptions due (each once: the dedupe key is
   * unique, so processes sweeping at once store one). Claims nothing.
   */
  async #sweepDeadlines(): Promise<number> {
    const { storage, clock } = this.#options;
    const now = clock.now();
    const { deadlineMs, warnAfterMs } = this.#deadline;
    const candidates = await storage.listDeadlineCandidates({
      now,
      deadlineMs,
      warnAfterMs,
      limit: this.#options.deadlineBatch ?? 500,
    });
    if (candidates.length === 0) return 0;
    const raised = await storage.raiseDeadlineExceptions(
      candidates.map((c) => ({
        payment: { opId: c.payment.opId, tenderIndex: c.payment.tenderIndex },
        stage: c.stage,
        exception: deadlineException(c, deadlineMs, now, uuidv7(now, this.#random.bytes(10))),
      })),
    );
    for (const c of candidates) {
      this.#options.onEvent?.({
        kind: 'deadline',
        opId: c.payment.opId,
        tenderIndex: c.payment.tenderIndex,
        stage: c.stage,
      });
    }
    return raised;
  }

  /** The processor's authorization; a permanent refusal; or why there is none yet (transient). */
  async #forward(
    p: ClaimedOfflinePayment,
  ): Promise<{ authorization: Authorization; recovered: boolean } | ProcessorRefusedError | string> {
    const { processor, timeoutMs } = this.#options;
    const key = idempotencyKeyOf(p);
    const request: AuthorizationRequestBody = {
      merchant: p.merchant ?? UNPLACED_MERCHANT,
      amount: p.amount,
      currency: p.currency,
      card: { token: p.token, brand: p.brand, last4: p.last4 },
      capture: true,
      reference: p.opId,
      offline: true,
    };
    try {
      return { authorization: (await processor.authorize(key, request, timeoutMs)).authorization, recovered: false };
    } catch (error) {
      if (error instanceof ProcessorRefusedError)
        return isPermanentRefusal(error) ? error : `refused: ${error.message}`;
      if (!(error instanceof ProcessorOutcomeUnknownError)) return `error: ${String(error)}`;
      if (this.#bugs.has('forward-fresh-key')) {
        // Deliberate bug (bug-injection processes only): a second charge under a new key.
        const fresh = `${key}-retry-${this.#options.clock.now()}`;
        try {
          return {
            authorization: (await processor.authorize(fresh, request, timeoutMs)).authorization,
            recovered: false,
          };
        } catch (retry) {
          return `unknown (${error.reason}), resubmitted: ${String(retry)}`;
        }
      }
      // The charge may exist: ask for it by key rather than guess.
      try {
        const found = await processor.findByKey(key, timeoutMs);
        return found ? { authorization: found, recovered: true } : `unknown (${error.reason}), not found by key`;
      } catch (lookup) {
        return `unknown (${error.reason}), lookup failed: ${String(lookup)}`;
      }
    }
  }
}
