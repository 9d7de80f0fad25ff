/**
 * The fiscal submitter: the worker that registers each bill (accepted
 * sale) with the tax authority and records the fiscal number it answers
 * (docs/e-invoicing.md). Modelled on the card forwarder
 * (forwarding/forwarder.ts). One round (`runOnce`):
 *
 *   enroll: a bill row for each accepted sale without one, a credit note for each counted refund or void
 *   claim (lease) each device's lowest pending bill ──▶ register(key), the devices' bills at once
 *        │ answer (registered | rejected) ──▶ record once (rejected: fiscal_rejected alarm)
 *        │ refused for good (a non-retryable 4xx) ──▶ no retry: rejected, fiscal_refused alarm
 *        │ unknown (timeout, reset, 5xx) ──▶ findByKey(key) ──found──▶ record it
 *        ▼ not found / transient
 *      defer: attempts + 1, not before now + backoff with jitter
 *   then the credit notes whose bill is registered (or cancelled), the same way
 *
 * and again while documents were answered this round (a device's next bill
 * is claimable only once its earlier one is answered), up to `maxPasses`.
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
import { fiscalCreditKeyOf, fiscalSubmissionKey, uuidv7 } from '@holdfast/protocol';
import { isPermanentRefusal, retryDelayMs } from '../forwarding/forwarder.js';
import type { FiscalBill, FiscalCreditNote, FiscalOutcome, FiscalRecordResult } from '../model/fiscal-bill.js';
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
  | { kind: 'refused'; opId: string; code: string; creditNote: boolean }
  | { kind: 'credit_note'; opId: string; status: 'registered' | 'rejected'; fiscalNumber: string | null }
  | { kind: 'answer_ignored'; opId: string; reason: 'same' | 'conflict' | 'unknown_bill' }
  | { kind: 'deferred'; opId: string; reason: string; attempts: number; nextAttemptAt: number }
  | { kind: 'deadline'; raised: number }
  | { kind: 'round_failed'; error: string };

/** Bills (and credit notes) enrolled per call at most. */
const ENROLL_BATCH = 1000;

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
  /** Refused for good this round (no retry; fiscal_refused alarms). */
  refused: number;
  /** Credit notes answered this round (registered or rejected). */
  creditNotes: number;
}

export function fiscalRequestOf(bill: FiscalBill, sellerTaxId: string): FiscalBillRequest {
  return {
    billId: bill.opId,
    // An operator's correction (a resubmission) wins over the server's tax id.
    sellerTaxId: bill.sellerTaxId ?? sellerTaxId,
    device: bill.device,
    provisionalNumber: bill.provisionalNumber,
    issuedAt: bill.issuedAt,
    currency: bill.currency,
    total: bill.total,
    lines: bill.lines,
  };
}

/** A credit note as the authority registers it: after its bill, naming the bill's fiscal number. */
export function fiscalCreditRequestOf(note: FiscalCreditNote, sellerTaxId: string): FiscalBillRequest {
  return {
    billId: note.opId,
    sellerTaxId: note.billSellerTaxId ?? sellerTaxId,
    device: note.device,
    provisionalNumber: note.opId,
    issuedAt: note.issuedAt,
    currency: note.currency,
    total: note.total,
    lines: 1,
    kind: 'credit_note',
    refersTo: { billId: note.billOpId, fiscalNumber: note.billFiscalNumber },
  };
}

/** A refusal the submitter stops retrying: the document can never be accepted as sent. */
interface Refusal {
  refusedForGood: true;
  code: string;
  reason: string;
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
      refused: 0,
      creditNotes: 0,
    };
    // A failing sweep must not stop bills from being registered: reported, and tried again next round.
    summary.deadlineExceptions = await this.#sweepDeadlines().catch((error: unknown) => {
      this.#o.onEvent?.({ kind: 'round_failed', error: `deadline sweep: ${String(error)}` });
      return 0;
    });
    const maxPasses = this.#o.maxPasses ?? 20;
    let enrolledLast = ENROLL_BATCH;
    for (let pass = 0; pass < maxPasses; pass++) {
      // Enrolment scans the accepted sales: once a round, again only while the last call filled its batch.
      if (enrolledLast >= ENROLL_BATCH) {
        enrolledLast = await storage.enrollFiscalBills(clock.now(), ENROLL_BATCH);
        summary.enrolled += enrolledLast;
      }
      const claimed = await storage.claimFiscalBills(owner, clock.now(), leaseMs, batchSize);
      summary.claimed += claimed.length;
      // Each claimed bill is its device's next: bills of different devices go to the authority at once.
      const outcomes = await Promise.all(claimed.map((bill) => this.#billOnce(bill, summary)));
      let answered = outcomes.filter(Boolean).length;
      answered += await this.#creditNotes(summary);
      if (answered === 0) break;
    }
    return summary;
  }

  /** Submits one claimed bill and records what came of it; true when it was answered (or refused for good). */
  async #billOnce(bill: FiscalBill, summary: FiscalRoundSummary): Promise<boolean> {
    const { storage, clock, owner } = this.#o;
    const result = await this.#submit(
      fiscalSubmissionKey(bill.opId, bill.submission),
      fiscalRequestOf(bill, this.#o.sellerTaxId),
    );
    if (typeof result === 'object' && 'refusedForGood' in result) {
      if (await this.#refuse('bill', bill.opId, result)) summary.refused++;
      return true;
    }
    if (typeof result === 'string') {
      summary.deferred++;
      const attempts = bill.attempts + 1;
      const nextAttemptAt =
        clock.now() + retryDelayMs(attempts, this.#random, this.#o.backoffSeconds ?? FISCAL_BACKOFF_SECONDS);
      await storage.deferFiscalBill({ opId: bill.opId, owner, attempts, nextAttemptAt, error: result });
      this.#o.onEvent?.({ kind: 'deferred', opId: bill.opId, reason: result, attempts, nextAttemptAt });
      return false;
    }
    const recorded = await this.recordAnswer(bill.opId, result.answer);
    if (recorded.kind !== 'recorded') return true;
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
    return true;
  }

  async #refuse(table: 'bill' | 'credit_note', opId: string, refusal: Refusal): Promise<boolean> {
    const at = this.#o.clock.now();
    const done = await this.#o.storage.refuseFiscalDocument(table, {
      opId,
      owner: this.#o.owner,
      code: refusal.code,
      reason: refusal.reason,
      at,
      exceptionId: uuidv7(at, this.#random.bytes(10)),
    });
    if (done) this.#o.onEvent?.({ kind: 'refused', opId, code: refusal.code, creditNote: table === 'credit_note' });
    return done;
  }

  /** One pass over the credit notes whose bills are answered; how many got an answer or a refusal. */
  async #creditNotes(summary: FiscalRoundSummary): Promise<number> {
    const { storage, clock, owner, batchSize, leaseMs } = this.#o;
    const claimed = await storage.claimFiscalCreditNotes(owner, clock.now(), leaseMs, batchSize);
    summary.claimed += claimed.length;
    // Each claimed note is its bill's next: notes of different bills go at once.
    const outcomes = await Promise.all(
      claimed.map(async (note) => {
        const result = await this.#submit(
          fiscalCreditKeyOf(note.opId),
          fiscalCreditRequestOf(note, this.#o.sellerTaxId),
        );
        if (typeof result === 'object' && 'refusedForGood' in result) {
          if (await this.#refuse('credit_note', note.opId, result)) summary.refused++;
          return true;
        }
        if (typeof result === 'string') {
          summary.deferred++;
          const attempts = note.attempts + 1;
          const nextAttemptAt =
            clock.now() + retryDelayMs(attempts, this.#random, this.#o.backoffSeconds ?? FISCAL_BACKOFF_SECONDS);
          await storage.deferFiscalCreditNote({ opId: note.opId, owner, attempts, nextAttemptAt, error: result });
          this.#o.onEvent?.({ kind: 'deferred', opId: note.opId, reason: result, attempts, nextAttemptAt });
          return false;
        }
        const at = clock.now();
        const recorded = await storage.recordFiscalCreditAnswer({
          opId: note.opId,
          outcome: outcomeOf(result.answer),
          at,
          exceptionId: uuidv7(at, this.#random.bytes(10)),
        });
        if (recorded.kind !== 'recorded') {
          this.#o.onEvent?.({ kind: 'answer_ignored', opId: note.opId, reason: recorded.kind });
          return true;
        }
        summary.creditNotes++;
        this.#o.onEvent?.({
          kind: 'credit_note',
          opId: note.opId,
          status: result.answer.status,
          fiscalNumber: result.answer.status === 'registered' ? result.answer.fiscalNumber : null,
        });
        return true;
      }),
    );
    const answered = outcomes.filter(Boolean).length;
    return answered;
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

  /**
   * The authority's answer; a refusal for good (the document can never be
   * accepted as sent: stop); or why there is no answer yet (deferred).
   */
  async #submit(
    key: string,
    request: FiscalBillRequest,
  ): Promise<{ answer: FiscalAnswer; recovered: boolean } | Refusal | string> {
    const { authority, timeoutMs } = this.#o;
    try {
      return { answer: (await authority.register(key, request, timeoutMs)).answer, recovered: false };
    } catch (error) {
      if (error instanceof ProcessorRefusedError) {
        // A permanent refusal (a 4xx the authority says is not retryable, not about our key, URL or load): stop.
        // Anything else (503, 429, 401 …) is about the moment or our set-up: keep trying, slowly.
        if (isPermanentRefusal(error)) return { refusedForGood: true, code: error.code, reason: error.message };
        return `refused: ${error.message}`;
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
