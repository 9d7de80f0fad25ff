/**
 * The loyalty counter: what a till asks online about points
 * (`POST /v1/loyalty`, docs/loyalty.md "At the till, online").
 *
 *   lookup  ─▶ the member's balance and the points held by confirmed
 *              online redemptions not yet applied
 *   redeem  ─▶ balance check (less held) ─▶ a one-time code, its hash stored,
 *              the code sent to the member through the code sender
 *   confirm ─▶ the code typed by the clerk: single use, expires, a few
 *              attempts then locked, bound to member + points + device + op id
 *
 * The answers are signed by the caller (HoldfastService) like every device
 * route. Codes are drawn from the service's Random (crypto by default) and
 * stored only as a hash; the default sender writes each message to the
 * outbox table (`loyalty_outbox`), which the demo and tests read.
 */
import type { Clock, Random } from '@holdfast/domain';
import {
  type LoyaltyConfirmAnswer,
  type LoyaltyLookupAnswer,
  type LoyaltyQuestion,
  type LoyaltyRedeemAnswer,
  ProtocolError,
} from '@holdfast/protocol';
import type { DeviceRecord } from '../model/device.js';
import { type LoyaltyMessageRecord, loyaltyCodeHash } from '../model/loyalty.js';
import type { Storage } from '../storage/storage.js';

/** How long a one-time code is good for. */
export const LOYALTY_CODE_TTL_MS = 5 * 60_000;
/** Wrong codes allowed before a redemption locks. */
export const LOYALTY_CODE_ATTEMPTS = 3;
/** Codes one redemption may send (the first and two resends). */
export const LOYALTY_CODE_SENDS = 3;
/** When the code sender fails, the till may ask again after this long. */
export const LOYALTY_SENDER_RETRY_MS = 5_000;

/** A code to deliver to a member. */
export interface LoyaltyCodeMessage {
  member: string;
  redemption: string;
  points: number;
  code: string;
  expiresAt: number;
}

/**
 * Delivers one-time codes to members (SMS, e-mail, an app: pluggable). A
 * throw means "not delivered": the till is told to retry, and its retry
 * sends a new code.
 */
export interface LoyaltyCodeSender {
  send(message: LoyaltyCodeMessage): Promise<void>;
}

/** The default sender: every message is written to the outbox table (simulated delivery). */
export class OutboxCodeSender implements LoyaltyCodeSender {
  readonly #storage: Storage;
  readonly #clock: Clock;

  constructor(storage: Storage, clock: Clock) {
    this.#storage = storage;
    this.#clock = clock;
  }

  send(m: LoyaltyCodeMessage): Promise<void> {
    const minutes = Math.max(1, Math.round((m.expiresAt - this.#clock.now()) / 60_000));
    const message: Omit<LoyaltyMessageRecord, 'pos'> = {
      member: m.member,
      redemption: m.redemption,
      channel: 'outbox',
      text: `Your code to redeem ${m.points} points is ${m.code}. It expires in ${minutes} min. Never share it except at the till.`,
      code: m.code,
      at: this.#clock.now(),
    };
    return this.#storage.insertLoyaltyMessage(message);
  }
}

/** A uniformly drawn 6-digit code (rejection sampling: no modulo bias). */
export function drawLoyaltyCode(random: Random): string {
  const limit = 4_294_000_000; // the largest multiple of 10^6 below 2^32
  for (;;) {
    const b = random.bytes(4);
    const n = ((b[0] ?? 0) * 2 ** 24 + ((b[1] ?? 0) << 16) + ((b[2] ?? 0) << 8) + (b[3] ?? 0)) >>> 0;
    if (n < limit) return String(n % 1_000_000).padStart(6, '0');
  }
}

export interface LoyaltyCounterOptions {
  storage: Storage;
  clock: Clock;
  random: Random;
  newId: () => string;
  sender: LoyaltyCodeSender;
  /** Whether the device's policy in force has a loyalty rule (a till without one cannot redeem). */
  hasRule: (device: DeviceRecord) => Promise<boolean>;
}

export class LoyaltyCounter {
  readonly #o: LoyaltyCounterOptions;

  constructor(options: LoyaltyCounterOptions) {
    this.#o = options;
  }

  /** Answers one question of `device` (already authenticated); throws ProtocolError for every refusal. */
  answer(
    device: DeviceRecord,
    q: LoyaltyQuestion,
  ): Promise<LoyaltyLookupAnswer | LoyaltyRedeemAnswer | LoyaltyConfirmAnswer> {
    if (q.kind === 'lookup') return this.#lookup(q.member);
    if (q.kind === 'redeem') return this.#redeem(device, q);
    return this.#confirm(device, q);
  }

  async #lookup(member: string): Promise<LoyaltyLookupAnswer> {
    const found = await this.#o.storage.lookupLoyaltyMember(member);
    if (!found) throw new ProtocolError('loyalty_member_unknown', `no loyalty member ${member}`);
    return {
      kind: 'lookup',
      member,
      balance: found.account.balance,
      held: found.held,
      serverTime: this.#o.clock.now(),
    };
  }

  async #redeem(device: DeviceRecord, q: Extract<LoyaltyQuestion, { kind: 'redeem' }>): Promise<LoyaltyRedeemAnswer> {
    if (!(await this.#o.hasRule(device))) {
      throw new ProtocolError('loyalty_no_rule', `the policy in force for device ${device.id} has no loyalty rule`);
    }
    const now = this.#o.clock.now();
    const code = drawLoyaltyCode(this.#o.random);
    const expiresAt = now + LOYALTY_CODE_TTL_MS;
    const { record, send } = await this.#o.storage.startLoyaltyRedemption({
      id: this.#o.newId(),
      opId: q.opId,
      device: device.id,
      member: q.member,
      points: q.points,
      codeHash: loyaltyCodeHash(q.opId, code),
      expiresAt,
      attempts: LOYALTY_CODE_ATTEMPTS,
      maxSends: LOYALTY_CODE_SENDS,
      now,
    });
    if (send) {
      try {
        await this.#o.sender.send({ member: q.member, redemption: record.id, points: q.points, code, expiresAt });
      } catch (error) {
        throw new ProtocolError(
          'online_unavailable',
          `the code could not be sent to the member (${error instanceof Error ? error.message : String(error)}); ask again`,
          { retryAfterMs: LOYALTY_SENDER_RETRY_MS },
        );
      }
    }
    return {
      kind: 'redeem',
      redemption: record.id,
      member: record.member,
      points: record.points,
      opId: record.opId,
      expiresAt: record.expiresAt,
      attempts: record.attemptsLeft,
      serverTime: this.#o.clock.now(),
    };
  }

  async #confirm(
    device: DeviceRecord,
    q: Extract<LoyaltyQuestion, { kind: 'confirm' }>,
  ): Promise<LoyaltyConfirmAnswer> {
    const result = await this.#o.storage.confirmLoyaltyRedemption({
      id: q.redemption,
      device: device.id,
      code: q.code,
      now: this.#o.clock.now(),
    });
    switch (result.outcome) {
      case 'confirmed':
        return {
          kind: 'confirm',
          status: 'confirmed',
          redemption: result.record.id,
          member: result.record.member,
          points: result.record.points,
          opId: result.record.opId,
          serverTime: this.#o.clock.now(),
        };
      case 'unknown':
        throw new ProtocolError('loyalty_redemption_unknown', `no redemption ${q.redemption} asked by this device`, {
          field: 'question.redemption',
        });
      case 'wrong':
        throw new ProtocolError(
          'loyalty_code_wrong',
          `the code is not the one sent to the member; ${result.attemptsLeft} attempt(s) left`,
          { field: 'question.code' },
        );
      case 'locked':
        throw new ProtocolError(
          'loyalty_code_locked',
          `redemption ${q.redemption} is locked after too many wrong codes; ask for a new one`,
        );
      case 'expired':
        throw new ProtocolError('loyalty_code_expired', `the code of redemption ${q.redemption} expired; ask again`);
      case 'insufficient':
        throw new ProtocolError(
          'loyalty_insufficient_points',
          `the member now has ${result.available} points available, ${result.points} asked`,
        );
    }
  }
}
