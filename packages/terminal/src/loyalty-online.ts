/**
 * Loyalty at the till, online (docs/loyalty.md "At the till"): the three
 * questions of `POST /v1/loyalty`, each signed by the device and each
 * answer checked against the server's signature before it is believed.
 *
 * - `lookup(member)`: the member's balance now (the last-known balance
 *   the till then earns and redeems against offline; kept in memory per
 *   member with the server time it was read).
 * - `requestRedemption(member, points)`: the op id of the future
 *   `loyalty.points` op is drawn now and bound to the redemption; the
 *   server sends the member a one-time code.
 * - `confirmRedemption(...)`: the code the member reads out; only a signed
 *   `confirmed` answer for this op id returns, which the till then records
 *   (Terminal.recordLoyaltyPoints with `online`). Never guessed: no answer
 *   is an error, and nothing is recorded.
 */
import type { Clock, Random } from '@holdfast/domain';
import {
  type AnswerRoute,
  deviceOpId,
  epochMs,
  type LoyaltyAnswer,
  type LoyaltyConfirmAnswer,
  type LoyaltyLookupAnswer,
  type LoyaltyQuestion,
  type LoyaltyRedeemAnswer,
  type LoyaltyRequest,
  loyaltyRequestMessage,
  signMessage,
} from '@holdfast/protocol';
import { NotEnrolledError, TransportError } from './errors.js';
import type { Credentials } from './sync-events.js';
import type { Transport } from './transport.js';

/** Codes of LoyaltyOnlineError: the server's refusals, and an answer the till cannot trust. */
export type LoyaltyOnlineCode =
  | 'loyalty_member_unknown'
  | 'loyalty_insufficient_points'
  | 'loyalty_no_rule'
  | 'loyalty_redemption_unknown'
  | 'loyalty_code_wrong'
  | 'loyalty_code_expired'
  | 'loyalty_code_locked'
  | 'loyalty_answer_unverified'
  | 'loyalty_refused';

/** The server refused a loyalty question, or its answer could not be trusted. Nothing was recorded. */
export class LoyaltyOnlineError extends Error {
  override readonly name = 'LoyaltyOnlineError';
  constructor(
    readonly code: LoyaltyOnlineCode,
    message: string,
    /** For `loyalty_code_wrong`: the tries the member has left (read from the server's message). */
    readonly attemptsLeft?: number,
  ) {
    super(message);
  }
}

const KNOWN: ReadonlySet<string> = new Set<LoyaltyOnlineCode>([
  'loyalty_member_unknown',
  'loyalty_insufficient_points',
  'loyalty_no_rule',
  'loyalty_redemption_unknown',
  'loyalty_code_wrong',
  'loyalty_code_expired',
  'loyalty_code_locked',
]);

/** A balance the till learned from the server. */
export interface KnownBalance {
  member: string;
  /** Balance less the points held by online redemptions not yet applied: what may be spent. */
  balance: number;
  /** Server time of the answer. */
  at: number;
}

/** A redemption the server sent a code for. */
export interface PendingRedemption {
  /** The id the `loyalty.points` op must take. */
  opId: string;
  redemption: string;
  member: string;
  points: number;
  expiresAt: number;
  attempts: number;
}

/** A redemption the server confirmed with the member's code: what the till records. */
export interface ConfirmedRedemption {
  opId: string;
  redemption: string;
  member: string;
  points: number;
}

export interface LoyaltyOnlineOptions {
  transport: Transport;
  clock: Clock;
  idRandom: Random;
  timeoutMs: number;
  credentials: () => Credentials | null;
  answerProblem: (route: AnswerRoute, requestSig: string, body: unknown) => Promise<string | null>;
}

export class LoyaltyOnline {
  readonly #o: LoyaltyOnlineOptions;
  readonly #known = new Map<string, KnownBalance>();

  constructor(options: LoyaltyOnlineOptions) {
    this.#o = options;
  }

  /** The balance last read for `member` (null: never read on this till since it started). */
  knownBalance(member: string): KnownBalance | null {
    return this.#known.get(member) ?? null;
  }

  async lookup(member: string): Promise<KnownBalance> {
    const a = (await this.#ask({ kind: 'lookup', member })) as LoyaltyLookupAnswer;
    if (a.kind !== 'lookup' || a.member !== member) throw unverified('the answer is about another question');
    const known = { member, balance: a.balance - a.held, at: a.serverTime };
    this.#known.set(member, known);
    return known;
  }

  async requestRedemption(member: string, points: number): Promise<PendingRedemption> {
    const credentials = this.#o.credentials();
    if (!credentials) throw new NotEnrolledError();
    const opId = deviceOpId(credentials.deviceId, this.#o.clock.now(), this.#o.idRandom.bytes(6));
    return this.#redeem(member, points, opId);
  }

  /** Asks for a new code for the same redemption (the member did not get it); the same op id. */
  resendCode(pending: PendingRedemption): Promise<PendingRedemption> {
    return this.#redeem(pending.member, pending.points, pending.opId);
  }

  async #redeem(member: string, points: number, opId: string): Promise<PendingRedemption> {
    const a = (await this.#ask({ kind: 'redeem', member, opId, points })) as LoyaltyRedeemAnswer;
    if (a.kind !== 'redeem' || a.opId !== opId || a.member !== member || a.points !== points) {
      throw unverified('the answer is about another redemption');
    }
    return { opId, redemption: a.redemption, member, points, expiresAt: a.expiresAt, attempts: a.attempts };
  }

  async confirmRedemption(pending: PendingRedemption, code: string): Promise<ConfirmedRedemption> {
    const a = (await this.#ask({ kind: 'confirm', redemption: pending.redemption, code })) as LoyaltyConfirmAnswer;
    if (
      a.kind !== 'confirm' ||
      a.status !== 'confirmed' ||
      a.redemption !== pending.redemption ||
      a.opId !== pending.opId ||
      a.member !== pending.member ||
      a.points !== pending.points
    ) {
      throw unverified('the confirmation does not match the redemption asked for');
    }
    const known = this.#known.get(pending.member);
    if (known) this.#known.set(pending.member, { ...known, balance: known.balance - pending.points });
    return { opId: a.opId, redemption: a.redemption, member: a.member, points: a.points };
  }

  async #ask(question: LoyaltyQuestion): Promise<LoyaltyAnswer> {
    const credentials = this.#o.credentials();
    if (!credentials) throw new NotEnrolledError();
    const transport = this.#o.transport;
    if (!transport.loyalty) throw new TransportError('network', 'this transport cannot reach POST /v1/loyalty');
    const at = epochMs().parse(this.#o.clock.now(), 'at');
    const req: LoyaltyRequest = {
      device: credentials.deviceId,
      at,
      sig: signMessage(loyaltyRequestMessage(credentials.deviceId, at, question), credentials.key),
      question,
    };
    // A TransportError (timeout, no network) propagates: the outcome of a redeem is unknown, and asking
    // again with the same op id sends a new code; a confirm asked again answers the same.
    const res = await transport.loyalty(req, this.#o.timeoutMs);
    if (!res.ok) {
      const code = KNOWN.has(res.error.code) ? (res.error.code as LoyaltyOnlineCode) : 'loyalty_refused';
      const left = /(\d+) attempt/.exec(res.error.message)?.[1];
      throw new LoyaltyOnlineError(
        code,
        `${res.error.code}: ${res.error.message}`,
        left === undefined ? undefined : Number(left),
      );
    }
    // Anyone on the path could answer "confirmed": only the server's signature over this very request counts.
    const problem = await this.#o.answerProblem('loyalty', req.sig, res.body);
    if (problem !== null) throw unverified(problem);
    return res.body;
  }
}

function unverified(why: string): LoyaltyOnlineError {
  return new LoyaltyOnlineError('loyalty_answer_unverified', `the server's loyalty answer cannot be trusted: ${why}`);
}
