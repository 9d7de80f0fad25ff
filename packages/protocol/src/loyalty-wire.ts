/**
 * The till's online loyalty requests (`POST /v1/loyalty`, docs/loyalty.md
 * and docs/protocol.md): one signed route, three questions.
 *
 * - `lookup`: the member's balance as the server knows it now (the
 *   last-known balance the till earns and redeems offline against).
 * - `redeem`: the till wants to redeem `points` for the member on the
 *   `loyalty.points` op `opId` it will record; the server checks the
 *   balance, generates a one-time code and sends it to the member. The
 *   answer names the redemption and when its code expires.
 * - `confirm`: the clerk types the code the member reads out; the server
 *   confirms (single use, bound to member, points, device and op id) or
 *   refuses (`loyalty_code_wrong`, `loyalty_code_expired`,
 *   `loyalty_code_locked`). Only a signed `confirmed` answer lets the till
 *   record an online redemption, which carries the redemption id
 *   (`approval`) and is checked again at ingest.
 *
 * Every answer is signed like the other device routes (signed-answer.ts,
 * route `loyalty`), bound to the request's signature.
 */
import { canonicalHash } from './hash.js';
import { epochMs, uuid } from './op.js';
import { MAX_LOYALTY_POINTS, memberId } from './op-kinds.js';
import * as s from './schema.js';
import { signatureString } from './wire-strings.js';

/** A one-time code as the member reads it out: 6 digits. */
export const LOYALTY_CODE_PATTERN = /^[0-9]{6}$/;

const lookupSchema = s.object({ kind: s.literal('lookup'), member: memberId() });
const redeemSchema = s.object({
  kind: s.literal('redeem'),
  member: memberId(),
  /** The id of the `loyalty.points` op the till will record once confirmed (the redemption is bound to it). */
  opId: uuid(),
  points: s.int({ min: 1, max: MAX_LOYALTY_POINTS }),
});
const confirmSchema = s.object({
  kind: s.literal('confirm'),
  /** The redemption's id, from the `redeem` answer. */
  redemption: uuid(),
  code: s.string({ minLength: 6, maxLength: 6, pattern: LOYALTY_CODE_PATTERN, patternRule: '6 digits' }),
});

export const loyaltyQuestionSchema = s.taggedUnion('kind', {
  lookup: lookupSchema,
  redeem: redeemSchema,
  confirm: confirmSchema,
});
export type LoyaltyQuestion = s.Infer<typeof loyaltyQuestionSchema>;

/** The body of `POST /v1/loyalty`. */
export const loyaltyRequestSchema = s.object({
  device: uuid(),
  /** Device clock when asked (part of the signed message). */
  at: epochMs(),
  /** Signature over loyaltyRequestMessage(device, at, question). */
  sig: signatureString(),
  question: loyaltyQuestionSchema,
});
export type LoyaltyRequest = s.Infer<typeof loyaltyRequestSchema>;

/** What a signature on `POST /v1/loyalty` covers: the device asks `question` at device time `at`. */
export function loyaltyRequestMessage(device: string, at: number, question: LoyaltyQuestion) {
  return { ctx: 'holdfast.loyalty.v1', device, at, question: canonicalHash(question) } as const;
}

/** The answer to `lookup`: the member's account as the server knows it (balance = earned − redeemed + adjusted). */
export interface LoyaltyLookupAnswer {
  kind: 'lookup';
  member: string;
  balance: number;
  /** Points of redemptions confirmed online whose op has not arrived yet (already spoken for). */
  held: number;
  serverTime: number;
}

/** The answer to `redeem`: a code was sent to the member. */
export interface LoyaltyRedeemAnswer {
  kind: 'redeem';
  redemption: string;
  member: string;
  points: number;
  opId: string;
  /** Server time after which the code is refused. */
  expiresAt: number;
  /** Wrong codes allowed before the redemption locks. */
  attempts: number;
  serverTime: number;
}

/** The answer to `confirm`: the redemption is confirmed; the till records it with `approval: redemption`. */
export interface LoyaltyConfirmAnswer {
  kind: 'confirm';
  status: 'confirmed';
  redemption: string;
  member: string;
  points: number;
  opId: string;
  serverTime: number;
}

export type LoyaltyAnswer = LoyaltyLookupAnswer | LoyaltyRedeemAnswer | LoyaltyConfirmAnswer;
