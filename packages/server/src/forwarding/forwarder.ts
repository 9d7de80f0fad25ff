/**
 * Forwarder: the worker that sends offline-approved card payments to the
 * processor and records its answers.
 *
 * One round (`runOnce`):
 *
 *   claim (lease) ──▶ for each payment, in (device, seq) order:
 *                       authorize(key) ──answer──▶ settle (approved | declined)
 *                          │ unknown (timeout, reset, 5xx)
 *                          ▼
 *                       findByKey(key) ──found──▶ settle with it
 *                          │ not found / unknown / refused
 *                          ▼
 *                       leave unsettled; skip the device's later payments
 *                       this round (seq order); the lease runs out and a
 *                       later round tries again with the same key
 *
 * Exactly once at the processor rests on the idempotency key, derived
 * from the op id alone: however often a payment is sent — after a lost
 * answer, a crash between the processor's answer and our settle, or a
 * lease that ran out while another process took it — the processor makes
 * one authorization per key. The lease only keeps two processes from
 * doing the same work at once. "Unknown" is never taken for a decline.
 */
import { bugActive, type Clock, type TimerHandle } from '@holdfast/domain';
import type { Authorization, AuthorizationRequestBody } from '@holdfast/processor-sim';
import {
  type AuthorizeAnswer,
  ProcessorOutcomeUnknownError,
  ProcessorRefusedError,
} from '@holdfast/processor-sim/client';
import { uuidv7 } from '@holdfast/protocol';
import type { ClaimedOfflinePayment, Storage } from '../storage/storage.js';

/** The processor as the forwarder uses it (ProcessorClient fits). */
export interface ProcessorLike {
  authorize(idempotencyKey: string, request: AuthorizationRequestBody, timeoutMs?: number): Promise<AuthorizeAnswer>;
  findByKey(idempotencyKey: string, timeoutMs?: number): Promise<Authorization | null>;
}

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
}

export type ForwardEvent =
  | { kind: 'settled'; opId: string; tenderIndex: number; status: 'approved' | 'declined'; recovered: boolean }
  | { kind: 'unsettled'; opId: string; tenderIndex: number; reason: string }
  | { kind: 'round_failed'; error: string };

export interface RoundSummary {
  claimed: number;
  approved: number;
  declined: number;
  /** Left for a later round: outcome unknown, processor refused, or waiting behind such a payment. */
  unsettled: number;
}

/** The processor idempotency key of a payment: the op id (with the tender index for a split sale's later cards). */
export function idempotencyKeyOf(p: { opId: string; tenderIndex: number }): string {
  return p.tenderIndex === 0 ? `holdfast-op-${p.opId}` : `holdfast-op-${p.opId}-${p.tenderIndex}`;
}

export class Forwarder {
  readonly #o: Readonly<ForwarderOptions>;
  #timer: TimerHandle | null = null;
  #running: Promise<RoundSummary> | null = null;
  #stopped = true;

  constructor(options: ForwarderOptions) {
    this.#o = Object.freeze({ ...options });
  }

  /** One round: claim, forward in order, settle. Rounds never overlap. */
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
        .catch((error: unknown) => this.#o.onEvent?.({ kind: 'round_failed', error: String(error) }))
        .finally(() => {
          if (!this.#stopped) this.#timer = this.#o.clock.setTimer(intervalMs, tick);
        });
    };
    this.#timer = this.#o.clock.setTimer(0, tick);
  }

  /** Stops scheduling rounds and waits for the one in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  async #round(): Promise<RoundSummary> {
    const { storage, clock, owner, batchSize, leaseMs } = this.#o;
    const claimed = await storage.claimOfflinePayments(owner, batchSize, clock.now(), leaseMs);
    const summary: RoundSummary = { claimed: claimed.length, approved: 0, declined: 0, unsettled: 0 };
    // A device whose earlier payment stays unsettled sends nothing more this round: seq order.
    const held = new Set<string>();
    for (const p of claimed) {
      if (held.has(p.device)) {
        summary.unsettled++;
        continue;
      }
      const answer = await this.#forward(p);
      if (typeof answer === 'string') {
        held.add(p.device);
        summary.unsettled++;
        this.#o.onEvent?.({ kind: 'unsettled', opId: p.opId, tenderIndex: p.tenderIndex, reason: answer });
        continue;
      }
      const { authorization, recovered } = answer;
      const at = clock.now();
      await storage.settleOfflinePayment({
        payment: { opId: p.opId, tenderIndex: p.tenderIndex },
        owner,
        settlement: {
          status: authorization.status,
          processorId: authorization.id,
          ...(authorization.declineCode !== undefined ? { declineCode: authorization.declineCode } : {}),
          at,
        },
        exceptionId: uuidv7(at, crypto.getRandomValues(new Uint8Array(10))),
      });
      summary[authorization.status]++;
      this.#o.onEvent?.({
        kind: 'settled',
        opId: p.opId,
        tenderIndex: p.tenderIndex,
        status: authorization.status,
        recovered,
      });
    }
    return summary;
  }

  /** The processor's authorization, or why there is none yet. */
  async #forward(p: ClaimedOfflinePayment): Promise<{ authorization: Authorization; recovered: boolean } | string> {
    const { processor, timeoutMs } = this.#o;
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
      if (error instanceof ProcessorRefusedError) return `refused: ${error.message}`;
      if (!(error instanceof ProcessorOutcomeUnknownError)) return `error: ${String(error)}`;
      if (bugActive('forward-fresh-key')) {
        // Deliberate bug (bug-injection processes only): a second charge under a new key.
        const fresh = `${key}-retry-${this.#o.clock.now()}`;
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
