/**
 * The card refunder: the worker that gives the card part of each void and
 * card refund back at the processor, once, and records its answer
 * (docs/corrections.md, "Card refunds at the processor"). Modelled on the
 * forwarder (forwarder.ts). One round (`runOnce`):
 *
 *   enroll: a row per sale card tender of each counted correction whose sale is stored
 *   claim (lease) ──▶ the sale's card payment captured?
 *        │ not answered yet ──▶ defer (wait for the forwarder / the online answer)
 *        │ never captured ──▶ declined: card_refund_declined alarm
 *        ▼ captured (processor authorization id)
 *      refund(key) ──answer──▶ refunded
 *        │ refused for good (over the capture, nothing captured, key reused) ──▶ declined: alarm
 *        │ unknown (timeout, reset, 5xx) ──▶ findRefundByKey(key) ──found──▶ refunded
 *        ▼ not found / transient refusal
 *      defer: attempts + 1, not before now + backoff with jitter
 *
 * Exactly once at the processor rests on the key, derived from the
 * correction's op id and the sale tender alone (`cardRefundKeyOf`): after
 * a lost answer, a crash between the processor's answer and our record, or
 * a lease taken over by another process, the processor makes one refund
 * per key and never refunds more than the authorization captured.
 */
import { type Clock, cryptoRandom, type Random, type TimerHandle } from '@holdfast/domain';
import {
  ProcessorOutcomeUnknownError,
  ProcessorRefusedError,
  type Refund,
  type RefundAnswer,
  type RefundRequestBody,
} from '@holdfast/processor-client';
import { uuidv7 } from '@holdfast/protocol';
import type { CardRefundAnswerRequest, ClaimedCardRefund } from '../model/card-refund.js';
import type { Storage } from '../storage/storage.js';
import { FORWARD_BACKOFF_SECONDS, isPermanentRefusal, retryDelayMs } from './forwarder.js';

/** The processor as the refunder uses it (ProcessorClient fits). */
export interface RefundProcessorLike {
  refund(idempotencyKey: string, request: RefundRequestBody, timeoutMs?: number): Promise<RefundAnswer>;
  findRefundByKey(idempotencyKey: string, timeoutMs?: number): Promise<Refund | null>;
}

/** The processor idempotency key of a card refund: the correction's op id and the sale's card tender. */
export function cardRefundKeyOf(r: { opId: string; tenderIndex: number }): string {
  return `holdfast-refund-${r.opId}-${r.tenderIndex}`;
}

/** Enrolled per pass at most; the rest next pass. */
const ENROLL_BATCH = 200;

export interface CardRefunderOptions {
  storage: Storage;
  processor: RefundProcessorLike;
  clock: Clock;
  /** This process's claim owner id (unique per process). */
  owner: string;
  batchSize: number;
  leaseMs: number;
  timeoutMs: number;
  onEvent?: (event: CardRefundEvent) => void;
  random?: Random;
  /** Base retry delays in seconds (default the forwarder's). */
  backoffSeconds?: readonly number[];
}

export type CardRefundEvent =
  | { kind: 'refunded'; opId: string; tenderIndex: number; refundId: string; recovered: boolean }
  | { kind: 'declined'; opId: string; tenderIndex: number; code: string }
  | { kind: 'deferred'; opId: string; tenderIndex: number; reason: string; attempts: number; nextAttemptAt: number }
  | { kind: 'round_failed'; error: string };

export interface CardRefundRoundSummary {
  enrolled: number;
  claimed: number;
  refunded: number;
  declined: number;
  deferred: number;
}

type Outcome = CardRefundAnswerRequest['outcome'];

export class CardRefunder {
  readonly #o: Readonly<CardRefunderOptions>;
  readonly #random: Random;
  #timer: TimerHandle | null = null;
  #running: Promise<CardRefundRoundSummary> | null = null;
  #stopped = true;

  constructor(options: CardRefunderOptions) {
    this.#o = Object.freeze({ ...options });
    this.#random = options.random ?? cryptoRandom;
  }

  /** One round; rounds never overlap. */
  runOnce(): Promise<CardRefundRoundSummary> {
    this.#running ??= this.#round().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Runs a round every `intervalMs` (from the end of the last) until stop(). */
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

  #newId(): string {
    return uuidv7(this.#o.clock.now(), this.#random.bytes(10));
  }

  async #round(): Promise<CardRefundRoundSummary> {
    const { storage, clock, owner, batchSize, leaseMs } = this.#o;
    const ids = Array.from({ length: ENROLL_BATCH }, () => this.#newId());
    const summary: CardRefundRoundSummary = {
      enrolled: await storage.enrollCardRefunds(clock.now(), ENROLL_BATCH, ids),
      claimed: 0,
      refunded: 0,
      declined: 0,
      deferred: 0,
    };
    const claimed = await storage.claimCardRefunds(owner, clock.now(), leaseMs, batchSize);
    summary.claimed = claimed.length;
    for (const r of claimed) {
      const result = await this.#refund(r);
      if (typeof result === 'string') {
        summary.deferred++;
        const attempts = r.attempts + 1;
        const nextAttemptAt =
          clock.now() + retryDelayMs(attempts, this.#random, this.#o.backoffSeconds ?? FORWARD_BACKOFF_SECONDS);
        await storage.deferCardRefund({
          opId: r.opId,
          tenderIndex: r.tenderIndex,
          owner,
          attempts,
          nextAttemptAt,
          error: result,
        });
        this.#o.onEvent?.({
          kind: 'deferred',
          opId: r.opId,
          tenderIndex: r.tenderIndex,
          reason: result,
          attempts,
          nextAttemptAt,
        });
        continue;
      }
      const at = clock.now();
      const after = await storage.recordCardRefund({
        opId: r.opId,
        tenderIndex: r.tenderIndex,
        owner,
        at,
        exceptionId: this.#newId(),
        outcome: result.outcome,
      });
      if (after === null) continue;
      if (result.outcome.status === 'refunded') {
        summary.refunded++;
        this.#o.onEvent?.({
          kind: 'refunded',
          opId: r.opId,
          tenderIndex: r.tenderIndex,
          refundId: result.outcome.refundId,
          recovered: result.recovered,
        });
      } else {
        summary.declined++;
        this.#o.onEvent?.({ kind: 'declined', opId: r.opId, tenderIndex: r.tenderIndex, code: result.outcome.code });
      }
    }
    return summary;
  }

  /** The processor's answer (or the decision not to ask), or why there is none yet (deferred). */
  async #refund(r: ClaimedCardRefund): Promise<{ outcome: Outcome; recovered: boolean } | string> {
    const { processor, timeoutMs } = this.#o;
    if (r.capture.kind === 'waiting') return `waiting: ${r.capture.why}`;
    if (r.capture.kind === 'none') {
      return {
        outcome: { status: 'declined', authorizationId: null, code: 'not_captured', message: r.capture.why },
        recovered: false,
      };
    }
    const authorizationId = r.capture.authorizationId;
    const refunded = (refund: Refund, recovered: boolean) => ({
      outcome: { status: 'refunded' as const, authorizationId, refundId: refund.id },
      recovered,
    });
    const key = cardRefundKeyOf(r);
    try {
      const answer = await processor.refund(
        key,
        { authorization: authorizationId, amount: r.amount, currency: r.currency },
        timeoutMs,
      );
      return refunded(answer.refund, false);
    } catch (error) {
      if (error instanceof ProcessorRefusedError) {
        if (!isPermanentRefusal(error)) return `refused: ${error.message}`;
        return {
          outcome: { status: 'declined', authorizationId, code: error.code, message: error.message },
          recovered: false,
        };
      }
      if (!(error instanceof ProcessorOutcomeUnknownError)) return `error: ${String(error)}`;
      // The refund may exist: ask for it by key rather than guess.
      try {
        const found = await processor.findRefundByKey(key, timeoutMs);
        return found ? refunded(found, true) : `unknown (${error.reason}), not found by key`;
      } catch (lookup) {
        return `unknown (${error.reason}), lookup failed: ${String(lookup)}`;
      }
    }
  }
}
