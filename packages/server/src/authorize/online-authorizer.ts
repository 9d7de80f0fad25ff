/**
 * OnlineAuthorizer: `POST /v1/authorize`, the server deciding in real time
 * for an op the terminal must not record on its own (docs/protocol.md).
 *
 *   verify (device active, signature over authorizeMessage)
 *     │
 *     ├─ ticket ─▶ storage.authorizeTicket (one transaction: stored answer,
 *     │            or the risk rules with the selections' liability locked)
 *     │
 *     ├─ payout ─▶ storage.authorizePayout (one transaction, the ticket row
 *     │            locked: paid once; a second payout declined with the first's receipt)
 *     │
 *     └─ card ──▶ storage.beginAuthorization (pending row keyed by op id)
 *                   ├─ stored and final ─▶ the stored answer
 *                   └─ pending ─▶ (a retry: processor.findByKey first)
 *                                 processor.authorize(holdfast-op-<opId>)
 *                                   ├─ answered ─▶ finishAuthorization ─▶ approved | declined
 *                                   └─ unknown (timeout, reset, 5xx) ─▶ pending
 *
 * The op id is the idempotency key everywhere: the same op id and request
 * gets the stored answer (and never a second charge: the processor key is
 * derived from it); another request under the same op id is refused with
 * `op_id_reused`. "Unknown" is never turned into a decline.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '@holdfast/domain';
import { ProcessorOutcomeUnknownError, ProcessorRefusedError } from '@holdfast/processor-client';
import {
  type AuthorizeRequest,
  type AuthorizeResponse,
  authorizeMessage,
  authorizeRequestSchema,
  type CardAuthorization,
  onlineRequestHash,
  type PayoutAuthorization,
  ProtocolError,
  verifyMessage,
} from '@holdfast/protocol';
import { idempotencyKeyOf, type ProcessorLike, UNPLACED_MERCHANT } from '../forwarding/forwarder.js';
import type { AuthorizationRecord } from '../model/authorization.js';
import type { DeviceRecord } from '../model/device.js';
import { receiptOf } from '../model/ticket.js';
import type { Storage } from '../storage/storage.js';

/** The retry time of `503 online_unavailable` when no processor is configured (a restart must add one). */
export const ONLINE_UNAVAILABLE_RETRY_MS = 30_000;

/** Default timeout of each processor call made while a terminal waits. */
export const DEFAULT_ONLINE_PROCESSOR_TIMEOUT_MS = 8_000;

export interface OnlineAuthorizerOptions {
  storage: Storage;
  clock: Clock;
  newId: () => string;
  /** The device that signed a request (DeviceAuthenticator.signedBy): one answer for unknown, revoked and forged. */
  signedBy: (id: string, verify: (key: KeyObject) => boolean) => Promise<{ device: DeviceRecord; proof: boolean }>;
  /** Card authorizations need a processor; without one they are refused with `online_unavailable`. */
  processor?: ProcessorLike | undefined;
  processorTimeoutMs?: number | undefined;
}

export class OnlineAuthorizer {
  readonly #options: OnlineAuthorizerOptions;

  constructor(options: OnlineAuthorizerOptions) {
    this.#options = options;
  }

  async authorize(body: unknown): Promise<AuthorizeResponse> {
    // A body breaking the schema throws ValidationError: toWireError answers it invalid_request.
    const request: AuthorizeRequest = authorizeRequestSchema.parse(body);
    const message = authorizeMessage(request.device, request.opId, request.at, request.request);
    const { device } = await this.#options.signedBy(request.device, (key) => verifyMessage(message, request.sig, key));
    const now = this.#options.clock.now();
    const r = request.request;
    if (r.kind === 'payout') return this.#payout(request.opId, request.device, r, now);
    const pending: AuthorizationRecord = {
      opId: request.opId,
      device: request.device,
      kind: r.kind,
      requestHash: onlineRequestHash(r),
      request: r,
      status: 'pending',
      authorizationId: this.#options.newId(),
      reason: null,
      message: null,
      amount: r.kind === 'card' ? r.amount : r.stake,
      currency: r.currency,
      potentialPayout: null,
      processorId: null,
      createdAt: now,
      decidedAt: null,
    };
    if (r.kind === 'ticket') {
      const slot = await this.#options.storage.authorizeTicket(pending, now);
      return this.#answer(this.#same(slot.record, pending), !slot.created);
    }
    if (!this.#options.processor) {
      throw new ProtocolError('online_unavailable', 'this server has no card processor configured', {
        retryAfterMs: ONLINE_UNAVAILABLE_RETRY_MS,
      });
    }
    const slot = await this.#options.storage.beginAuthorization(pending);
    const stored = this.#same(slot.record, pending);
    if (stored.status !== 'pending') return this.#answer(stored, true);
    const decided = await this.#charge(stored, device, r as CardAuthorization, !slot.created);
    return this.#answer(decided, !slot.created);
  }

  /**
   * A ticket payout, decided in one transaction with the ticket locked
   * (storage/sql/operations/tickets.ts): approved once per ticket; a second
   * payout is declined `ticket_paid` with the first one's receipt.
   */
  async #payout(opId: string, device: string, r: PayoutAuthorization, now: number): Promise<AuthorizeResponse> {
    const decision = await this.#options.storage.authorizePayout({
      opId,
      device,
      ticket: r.ticket,
      amount: r.amount,
      currency: r.currency,
      authorizationId: this.#options.newId(),
      now,
    });
    const serverTime = this.#options.clock.now();
    if (decision.status === 'approved') {
      const out: AuthorizeResponse = {
        opId,
        kind: 'payout',
        status: 'approved',
        replayed: decision.replayed,
        serverTime,
      };
      if (decision.payout.authorizationId !== null) out.authorizationId = decision.payout.authorizationId;
      return out;
    }
    const out: AuthorizeResponse = {
      opId,
      kind: 'payout',
      status: 'declined',
      reason: decision.reason,
      message: decision.message,
      replayed: false,
      serverTime,
    };
    if (decision.firstPayout) out.firstPayout = receiptOf(decision.firstPayout);
    return out;
  }

  /** The stored row, if it was asked by the same device with the same request; op_id_reused otherwise. */
  #same(stored: AuthorizationRecord, asked: AuthorizationRecord): AuthorizationRecord {
    if (stored.device !== asked.device || stored.requestHash !== asked.requestHash) {
      throw new ProtocolError('op_id_reused', `op id ${asked.opId} was already asked about with a different request`, {
        field: 'opId',
      });
    }
    return stored;
  }

  /** Asks the processor (by key first on a retry); the final row, or the pending one if the outcome is unknown. */
  async #charge(
    pending: AuthorizationRecord,
    device: DeviceRecord,
    card: CardAuthorization,
    retry: boolean,
  ): Promise<AuthorizationRecord> {
    const processor = this.#options.processor as ProcessorLike;
    const timeoutMs = this.#options.processorTimeoutMs ?? DEFAULT_ONLINE_PROCESSOR_TIMEOUT_MS;
    const key = idempotencyKeyOf({ opId: pending.opId, tenderIndex: 0 });
    try {
      let authorization = retry ? await processor.findByKey(key, timeoutMs) : null;
      authorization ??= (
        await processor.authorize(
          key,
          {
            merchant: device.merchant ?? UNPLACED_MERCHANT,
            amount: card.amount,
            currency: card.currency,
            card: { token: card.token, brand: card.brand, last4: card.last4 },
            capture: true,
            reference: pending.opId,
            offline: false,
          },
          timeoutMs,
        )
      ).authorization;
      const declined = authorization.status === 'declined';
      const finished = await this.#options.storage.finishAuthorization(pending.opId, {
        status: authorization.status,
        reason: declined ? (authorization.declineCode ?? 'declined') : null,
        message: declined ? `the processor declined the card (${authorization.declineCode ?? 'no code'})` : null,
        processorId: authorization.id,
        decidedAt: this.#options.clock.now(),
      });
      return finished ?? pending;
    } catch (error) {
      if (error instanceof ProcessorOutcomeUnknownError) return pending;
      if (error instanceof ProcessorRefusedError && error.retryable) return pending;
      if (error instanceof ProcessorRefusedError) {
        // The processor refused the request itself (nothing was charged) and will refuse it again: final.
        return (
          (await this.#options.storage.finishAuthorization(pending.opId, {
            status: 'declined',
            reason: 'processor_refused',
            message: error.message,
            processorId: null,
            decidedAt: this.#options.clock.now(),
          })) ?? pending
        );
      }
      throw error;
    }
  }

  #answer(a: AuthorizationRecord, replayed: boolean): AuthorizeResponse {
    const out: AuthorizeResponse = {
      opId: a.opId,
      kind: a.kind,
      status: a.status,
      replayed,
      serverTime: this.#options.clock.now(),
    };
    if (a.status === 'approved') out.authorizationId = a.authorizationId;
    if (a.status === 'declined') {
      if (a.reason !== null) out.reason = a.reason;
      if (a.message !== null) out.message = a.message;
    }
    if (a.potentialPayout !== null) out.potentialPayout = a.potentialPayout;
    return out;
  }
}
