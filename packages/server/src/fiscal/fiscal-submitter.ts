/**
 * The fiscal submitter: the worker that registers each bill (accepted
 * sale) with the tax authority and records the fiscal number it answers
 * (docs/e-invoicing.md). Modelled on the card forwarder
 * (forwarding/forwarder.ts). One round (`runOnce`):
 *
 *   enroll: a bill row for each accepted sale without one
 *   claim (lease) each device's lowest pending bill ──▶ register(key)
 *        │ answer (registered | rejected) ──▶ record once (rejected: fiscal_rejected alarm)
 *        │ refused for good (4xx about the request) ──▶ defer with the refusal as the error
 *        │ unknown (timeout, reset, 5xx) ──▶ findByKey(key) ──found──▶ record it
 *        ▼ not found / transient
 *      defer: attempts + 1, not before now + backoff with jitter
 *
 * and again while bills were answered this round (a device's next bill is
 * claimable only once its earlier one is answered), up to `maxPasses`.
 *
 * Exactly once at the authority rests on the key, derived from the op id
 * alone (`fiscalKeyOf`): however often a bill is sent — after a lost
 * answer, a crash between the answer and our record, or a lease taken
 * over by another process — the authority answers one bill per key. The
 * lease only keeps two processes from doing the same work at once.
 */
import {
  type Clock,
  cryptoRandom,
  type InjectedBugs,
  NO_INJECTED_BUGS,
  type Random,
  type TimerHandle,
} from '@holdfast/domain';
import {
  type FiscalAnswer,
  type FiscalBillRequest,
  ProcessorOutcomeUnknownError,
  ProcessorRefusedError,
} from '@holdfast/processor-client';
import { fiscalKeyOf, uuidv7 } from '@holdfast/protocol';
import { isPermanentRefusal, retryDelayMs } from '../forwarding/forwarder.js';
import type { FiscalBill, FiscalOutcome, FiscalRecordResult } from '../model/fiscal-bill.js';
import type { Storage } from '../storage/storage.js';

/** The authority as the submitter uses it (FiscalClient fits). */
export interface FiscalAuthorityLike {
  register(key: string, bill: FiscalBillRequest, timeoutMs?: number): Promise<{ answer: FiscalAnswer }>;
  findByKey(key: string, timeoutMs?: number): Promise<FiscalAnswer | null>;
}

/** Base retry delays (seconds) after consecutive transient failures of a bill; the last repeats. */
export const FISCAL_BACKOFF_SECONDS: readonly number[] = Object.freeze([2, 5, 15, 30, 60, 120, 300, 600]);

export interface FiscalSubmitterOptions {
  storage: Storage;
  authority: FiscalAuthorityLike;
  clock: Clock;
  /** This process's claim owner id (unique per process). */
  owner: string;
  /** The seller's tax id sent with every bill. */
  sellerTaxId: string;
  /** Bills claimed per pass (one per device at most). */
  batchSize: number;
  leaseMs: number;
  timeoutMs: number;
  /** Passes per round at most (each takes every device's next bill); default 20. */
  maxPasses?: number;
  onEvent?: (event: FiscalEvent) => void;
  random?: Random;
  backoffSeconds?: readonly number[];
  /** The jurisdiction's registration deadline in hours from the bill's issue (default 24); see raiseFiscalDeadlines. */
  deadlineHours?: number;
  /** A warning once this fraction of the deadline has passed (default 0.75). */
  deadlineWarnFraction?: number;
  /** `fiscal-fresh-key` (the simulator's bug-injection runs only): a lost answer is resent under a new key. */
  bugs?: InjectedBugs;
}

export type FiscalEvent =
  | { kind: 'registered'; opId: string; fiscalNumber: string; recovered: boolean; outOfOrder: boolean }
  | { kind: 'rejected'; opId: string; rejectCode: string }
  | { kind: 'answer_ignored'; opId: string; reason: 'same' | 'conflict' | 'unknown_bill' }
  | { kind: 'deferred'; opId: string; reason: string; attempts: number; nextAttemptAt: number }
  | { kind: 'deadline'; raised: number }
  | { kind: 'round_failed'; error: string };

/** Bills the deadline watch judges per round at most (the rest next round: each stage is stored once raised). */
const DEADLINE_BATCH = 200;

/** Default registration deadline, hours (jurisdictions range from a day to a few). */
export const DEFAULT_FISCAL_DEADLINE_HOURS = 24;

export interface FiscalRoundSummary {
  /** fiscal_deadline exceptions raised this round. */
  deadlineExceptions: number;
  enrolled: number;
  claimed: number;
  registered: number;
  rejected: number;
  deferred: number;
}

export function fiscalRequestOf(bill: FiscalBill, sellerTaxId: string): FiscalBillRequest {
  return {
    billId: bill.opId,
    sellerTaxId,
    device: bill.device,
    provisionalNumber: bill.provisionalNumber,
    issuedAt: bill.issuedAt,
    currency: bill.currency,
    total: bill.total,
    lines: bill.lines,
  };
}

function outcomeOf(answer: FiscalAnswer): FiscalOutcome {
  return answer.status === 'registered'
    ? {
        status: 'registered',
        fiscalNumber: answer.fiscalNumber,
        sequence: answer.sequence,
        registeredAt: answer.registeredAt,
      }
    : { status: 'rejected', rejectCode: answer.rejectCode, reason: answer.reason, registeredAt: answer.registeredAt };
}

export class FiscalSubmitter {
  readonly #o: Readonly<FiscalSubmitterOptions>;
  readonly #random: Random;
  readonly #bugs: InjectedBugs;
  #timer: TimerHandle | null = null;
  #running: Promise<FiscalRoundSummary> | null = null;
  #stopped = true;

  constructor(options: FiscalSubmitterOptions) {
    this.#o = Object.freeze({ ...options });
    this.#random = options.random ?? cryptoRandom;
    this.#bugs = options.bugs ?? NO_INJECTED_BUGS;
  }

  /** One round; rounds never overlap. */
  runOnce(): Promise<FiscalRoundSummary> {
    this.#running ??= this.#round().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  start(intervalMs: number): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = () => {
      this.#timer = null;
      if (this.#stopped) return;
      this.runOnce()
        .catch((error: unknown) => this.#o.onEvent?.({ kind: 'round_failed', error: String(error) }))
        .finally(() => {
          if (!this.#stopped) this.#timer = this.#o.clock.setTimer(intervalMs, tick);
        });
    };
    this.#timer = this.#o.clock.setTimer(0, tick);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  /**
   * Records an answer the authority gave for bill `opId` (the submitter's
   * own, or one an operator or an import brings): once; a duplicate is
   * ignored or an alarm, never a second number.
   */
  async recordAnswer(opId: string, answer: FiscalAnswer): Promise<FiscalRecordResult> {
    const at = this.#o.clock.now();
    const result = await this.#o.storage.recordFiscalAnswer({
      opId,
      outcome: outcomeOf(answer),
      at,
      exceptionId: uuidv7(at, this.#random.bytes(10)),
    });
    if (result.kind !== 'recorded') this.#o.onEvent?.({ kind: 'answer_ignored', opId, reason: result.kind });
    return result;
  }

  async #round(): Promise<FiscalRoundSummary> {
    const { storage, clock, owner, batchSize, leaseMs } = this.#o;
    const summary: FiscalRoundSummary = {
      deadlineExceptions: 0,
      enrolled: 0,
      claimed: 0,
      registered: 0,
      rejected: 0,
      deferred: 0,
    };
    // A failing sweep must not stop bills from being registered: reported, and tried again next round.
    summary.deadlineExceptions = await this.#sweepDeadlines().catch((error: unknown) => {
      this.#o.onEvent?.({ kind: 'round_failed', error: `deadline sweep: ${String(error)}` });
      return 0;
    });
    const maxPasses = this.#o.maxPasses ?? 20;
    for (let pass = 0; pass < maxPasses; pass++) {
      summary.enrolled += await storage.enrollFiscalBills(clock.now(), 1000);
      const claimed = await storage.claimFiscalBills(owner, clock.now(), leaseMs, batchSize);
      summary.claimed += claimed.length;
      let answered = 0;
      for (const bill of claimed) {
        const result = await this.#submit(bill);
        if (typeof result === 'string') {
          summary.deferred++;
          const attempts = bill.attempts + 1;
          const nextAttemptAt =
            clock.now() + retryDelayMs(attempts, this.#random, this.#o.backoffSeconds ?? FISCAL_BACKOFF_SECONDS);
          await storage.deferFiscalBill({ opId: bill.opId, owner, attempts, nextAttemptAt, error: result });
          this.#o.onEvent?.({ kind: 'deferred', opId: bill.opId, reason: result, attempts, nextAttemptAt });
          continue;
        }
        const recorded = await this.recordAnswer(bill.opId, result.answer);
        answered++;
        if (recorded.kind !== 'recorded') continue;
        if (result.answer.status === 'registered') {
          summary.registered++;
          this.#o.onEvent?.({
            kind: 'registered',
            opId: bill.opId,
            fiscalNumber: result.answer.fiscalNumber,
            recovered: result.recovered,
            outOfOrder: recorded.outOfOrder,
          });
        } else {
          summary.rejected++;
          this.#o.onEvent?.({ kind: 'rejected', opId: bill.opId, rejectCode: result.answer.rejectCode });
        }
      }
      if (answered === 0) break;
    }
    return summary;
  }

  async #sweepDeadlines(): Promise<number> {
    const hours = this.#o.deadlineHours ?? DEFAULT_FISCAL_DEADLINE_HOURS;
    const fraction = this.#o.deadlineWarnFraction ?? 0.75;
    if (!(hours > 0) || !(fraction > 0 && fraction <= 1)) {
      throw new RangeError('deadlineHours must be > 0 and deadlineWarnFraction in (0, 1]');
    }
    const deadlineMs = Math.round(hours * 3_600_000);
    const now = this.#o.clock.now();
    const raised = await this.#o.storage.raiseFiscalDeadlines({
      now,
      deadlineMs,
      warnAfterMs: Math.round(deadlineMs * fraction),
      exceptionIds: Array.from({ length: DEADLINE_BATCH }, () => uuidv7(now, this.#random.bytes(10))),
    });
    if (raised > 0) this.#o.onEvent?.({ kind: 'deadline', raised });
    return raised;
  }

  /** The authority's answer, or why there is none yet (the bill is deferred). */
  async #submit(bill: FiscalBill): Promise<{ answer: FiscalAnswer; recovered: boolean } | string> {
    const { authority, timeoutMs, sellerTaxId } = this.#o;
    const key = fiscalKeyOf(bill.opId);
    const request = fiscalRequestOf(bill, sellerTaxId);
    try {
      return { answer: (await authority.register(key, request, timeoutMs)).answer, recovered: false };
    } catch (error) {
      if (error instanceof ProcessorRefusedError) {
        // Our request or set-up is wrong (not the bill's content, which is answered as a rejection): keep trying, slowly.
        return isPermanentRefusal(error) ? `refused for good: ${error.message}` : `refused: ${error.message}`;
      }
      if (!(error instanceof ProcessorOutcomeUnknownError)) return `error: ${String(error)}`;
      if (this.#bugs.has('fiscal-fresh-key')) {
        // Deliberate bug (bug-injection runs only): registers the bill a second time under a new key.
        try {
          const fresh = `${key}-retry-${this.#o.clock.now()}`;
          return { answer: (await authority.register(fresh, request, timeoutMs)).answer, recovered: false };
        } catch (retry) {
          return `unknown (${error.reason}), resubmitted: ${String(retry)}`;
        }
      }
      try {
        const found = await authority.findByKey(key, timeoutMs);
        return found ? { answer: found, recovered: true } : `unknown (${error.reason}), not found by key`;
      } catch (lookup) {
        return `unknown (${error.reason}), lookup failed: ${String(lookup)}`;
      }
    }
  }
}
