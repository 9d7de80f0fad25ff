/**
 * Online loyalty redemptions and the facts a loyalty ingest needs, written
 * once for both backends (docs/loyalty.md, "Redeeming online").
 *
 * Locks: every operation that decides on points locks the member first
 * (`loyalty_members` row), as an ingest does after its device, so a
 * redemption's balance check, its confirmation and the ops that move the
 * member's points are serialised per member and never deadlock.
 *
 * Points spoken for: a redemption confirmed online whose op has not
 * arrived yet is `held`: the balance check of the next redemption counts
 * it, so two online redemptions can never both spend the same points.
 */
import {
  type LoyaltyPointsBody,
  type Op,
  ProtocolError,
  parsePolicyRef,
  policyRef,
  type SignedPolicy,
} from '@holdfast/protocol';
import {
  type LoyaltyFacts,
  type LoyaltyMemberRecord,
  type LoyaltyMessageRecord,
  type LoyaltyRedemptionRecord,
  loyaltyCodeHash,
} from '../../../model/loyalty.js';
import { int } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import {
  LOYALTY_OUTBOX,
  LOYALTY_REDEMPTIONS,
  loyaltyMemberOf,
  loyaltyMessageOf,
  loyaltyRedemptionOf,
} from '../tables/loyalty.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';

function* lockedMember(d: SqlDialect, member: string): SqlOperation<LoyaltyMemberRecord | null> {
  const row = yield* one(`SELECT * FROM loyalty_members WHERE member = $1${d.forUpdate}`, [member]);
  return row ? loyaltyMemberOf(row) : null;
}

/** Points of the member's confirmed redemptions whose op has not been applied yet (but `except`). */
function* heldPoints(member: string, except: string | null): SqlOperation<number> {
  const row = yield* one(
    `SELECT COALESCE(SUM(points), 0) AS held FROM loyalty_redemptions r
      WHERE r.member = $1 AND r.status = 'confirmed' AND r.id <> $2
        AND NOT EXISTS (SELECT 1 FROM loyalty_entries e WHERE e.entry_id = r.op_id || ':redeem')`,
    [member, except ?? ''],
  );
  return int(row?.held ?? 0);
}

/** A member's account and the points held by confirmed online redemptions; null if unknown. */
export function* lookupLoyaltyMember(
  _d: SqlDialect,
  member: string,
): SqlOperation<{ account: LoyaltyMemberRecord; held: number } | null> {
  const row = yield* one('SELECT * FROM loyalty_members WHERE member = $1', [member]);
  if (!row) return null;
  return { account: loyaltyMemberOf(row), held: yield* heldPoints(member, null) };
}

export interface StartRedemptionRequest {
  /** The new redemption's id (used only if none is stored for `opId`). */
  id: string;
  opId: string;
  device: string;
  member: string;
  points: number;
  /** Hash of the code about to be sent (a new one, also for a resend). */
  codeHash: string;
  expiresAt: number;
  attempts: number;
  maxSends: number;
  now: number;
}

/**
 * Starts a redemption, or sends its code again when the same op id asks the
 * same question (a lost answer, a code that never came): `send` says
 * whether the caller must send the code whose hash it gave. Refused:
 * unknown member, balance (less what is held) below the points
 * (`loyalty_insufficient_points`), the op id asked with another question
 * (`op_id_reused`), a redemption locked or sent too often (`loyalty_code_locked`).
 */
export function* startLoyaltyRedemption(
  d: SqlDialect,
  req: StartRedemptionRequest,
): SqlOperation<{ record: LoyaltyRedemptionRecord; send: boolean }> {
  const account = yield* lockedMember(d, req.member);
  if (!account) throw new ProtocolError('loyalty_member_unknown', `no loyalty member ${req.member}`);
  const row = yield* one(`SELECT * FROM loyalty_redemptions WHERE op_id = $1${d.forUpdate}`, [req.opId]);
  if (row) {
    const stored = loyaltyRedemptionOf(row);
    if (stored.device !== req.device || stored.member !== req.member || stored.points !== req.points) {
      throw new ProtocolError('op_id_reused', `op id ${req.opId} was already asked about with another redemption`, {
        field: 'question.opId',
      });
    }
    if (stored.status === 'confirmed') return { record: stored, send: false };
    if (stored.status === 'locked' || stored.sends >= req.maxSends) {
      throw new ProtocolError(
        'loyalty_code_locked',
        `redemption ${stored.id} is locked (too many wrong codes or codes sent); ask with a new op id`,
      );
    }
    const resent: LoyaltyRedemptionRecord = {
      ...stored,
      codeHash: req.codeHash,
      expiresAt: req.expiresAt,
      sends: stored.sends + 1,
    };
    yield* run('UPDATE loyalty_redemptions SET code_hash = $1, expires_at = $2, sends = $3 WHERE id = $4', [
      resent.codeHash,
      resent.expiresAt,
      resent.sends,
      resent.id,
    ]);
    return { record: resent, send: true };
  }
  const available = account.balance - (yield* heldPoints(req.member, null));
  if (req.points > available) {
    throw new ProtocolError(
      'loyalty_insufficient_points',
      `member ${req.member} has ${available} points available, ${req.points} asked`,
      { field: 'question.points' },
    );
  }
  const record: LoyaltyRedemptionRecord = {
    id: req.id,
    opId: req.opId,
    device: req.device,
    member: req.member,
    points: req.points,
    codeHash: req.codeHash,
    expiresAt: req.expiresAt,
    attemptsLeft: req.attempts,
    sends: 1,
    status: 'sent',
    createdAt: req.now,
    confirmedAt: null,
  };
  yield* run(insertSql(LOYALTY_REDEMPTIONS, d), valuesOf(LOYALTY_REDEMPTIONS, record, d));
  return { record, send: true };
}

export type ConfirmOutcome =
  | { outcome: 'confirmed'; record: LoyaltyRedemptionRecord; replayed: boolean }
  | { outcome: 'unknown' }
  | { outcome: 'wrong'; attemptsLeft: number }
  | { outcome: 'locked' }
  | { outcome: 'expired' }
  | { outcome: 'insufficient'; available: number; points: number };

/**
 * Confirms redemption `id` for `device` with the code typed (compared by hash).
 * Returns what happened rather than throwing, so that a wrong code's
 * spent attempt (and the lock after the last one) is committed; the
 * caller turns each outcome into its answer or coded error.
 */
export function* confirmLoyaltyRedemption(
  d: SqlDialect,
  req: { id: string; device: string; code: string; now: number },
): SqlOperation<ConfirmOutcome> {
  const peek = yield* one('SELECT member, device FROM loyalty_redemptions WHERE id = $1', [req.id]);
  if (!peek || peek.device !== req.device) return { outcome: 'unknown' };
  // The member first (the lock order of every points decision), then the redemption.
  yield* lockedMember(d, peek.member as string);
  const row = yield* one(`SELECT * FROM loyalty_redemptions WHERE id = $1${d.forUpdate}`, [req.id]);
  if (!row) return { outcome: 'unknown' };
  const r = loyaltyRedemptionOf(row);
  const typed = loyaltyCodeHash(r.opId, req.code);
  if (r.status === 'confirmed') {
    return r.codeHash === typed ? { outcome: 'confirmed', record: r, replayed: true } : { outcome: 'locked' };
  }
  if (r.status === 'locked') return { outcome: 'locked' };
  if (req.now > r.expiresAt) return { outcome: 'expired' };
  if (r.codeHash !== typed) {
    const left = r.attemptsLeft - 1;
    yield* run('UPDATE loyalty_redemptions SET attempts_left = $1, status = $2 WHERE id = $3', [
      left,
      left <= 0 ? 'locked' : 'sent',
      r.id,
    ]);
    return left <= 0 ? { outcome: 'locked' } : { outcome: 'wrong', attemptsLeft: left };
  }
  const account = (yield* lockedMember(d, r.member)) as LoyaltyMemberRecord;
  const available = account.balance - (yield* heldPoints(r.member, r.id));
  if (r.points > available) return { outcome: 'insufficient', available, points: r.points };
  yield* run("UPDATE loyalty_redemptions SET status = 'confirmed', confirmed_at = $1 WHERE id = $2", [req.now, r.id]);
  return { outcome: 'confirmed', record: { ...r, status: 'confirmed', confirmedAt: req.now }, replayed: false };
}

/** Appends a message to the default code sender's outbox. */
export function* insertLoyaltyMessage(d: SqlDialect, message: Omit<LoyaltyMessageRecord, 'pos'>): SqlOperation<void> {
  yield* run(insertSql(LOYALTY_OUTBOX, d), valuesOf(LOYALTY_OUTBOX, { ...message, pos: 0 }, d));
}

/** The outbox, oldest first: every message, or one member's. */
export function* listLoyaltyMessages(_d: SqlDialect, member: string | null): SqlOperation<LoyaltyMessageRecord[]> {
  const rows =
    member === null
      ? yield* all('SELECT * FROM loyalty_outbox ORDER BY pos')
      : yield* all('SELECT * FROM loyalty_outbox WHERE member = $1 ORDER BY pos', [member]);
  return rows.map(loyaltyMessageOf);
}

/** Every redemption, oldest first (the checker's view). */
export function* listLoyaltyRedemptions(_d: SqlDialect): SqlOperation<LoyaltyRedemptionRecord[]> {
  return (yield* all('SELECT * FROM loyalty_redemptions ORDER BY created_at, id')).map(loyaltyRedemptionOf);
}

/**
 * Inside an ingest transaction: what the batch's `loyalty.points` ops need.
 * The members they name, locked in id order; the online redemptions stored
 * under their op ids; the stored sales they name (a sale in the same batch
 * is the planner's own); the loyalty rule of each policy their decisions
 * name (null: the policy is stored without one).
 */
export function* loadLoyaltyFacts(d: SqlDialect, ops: readonly Op[]): SqlOperation<LoyaltyFacts> {
  const members = new Set<string>();
  const online: string[] = [];
  const sales = new Set<string>();
  const refs = new Set<string>();
  for (const op of ops) {
    if (op.kind !== 'loyalty.points') continue;
    const body = op.body as Partial<LoyaltyPointsBody>;
    if (typeof body.member === 'string') members.add(body.member);
    if (body.route === 'online') online.push(op.id);
    if (typeof body.sale === 'string') sales.add(body.sale);
    if (op.decision.policy !== null) refs.add(op.decision.policy);
  }
  const out: LoyaltyFacts = { members: new Map(), redemptions: new Map(), sales: new Map(), rules: new Map() };
  for (const member of [...members].sort()) {
    const record = yield* lockedMember(d, member);
    if (record) out.members.set(member, record);
  }
  for (const opId of online) {
    const row = yield* one('SELECT * FROM loyalty_redemptions WHERE op_id = $1', [opId]);
    if (row) out.redemptions.set(opId, loyaltyRedemptionOf(row));
  }
  // An accepted sale.recorded op is exactly one sale (the `sales` view of the ledger); read by the ops'
  // primary key, as the ledger has no index by op id.
  for (const sale of sales) {
    const row = yield* one(
      "SELECT device, envelope FROM ops WHERE id = $1 AND kind = 'sale.recorded' AND status = 'accepted'",
      [sale],
    );
    if (!row) continue;
    const body = (JSON.parse(row.envelope as string) as { body: { total: number } }).body;
    out.sales.set(sale, { device: row.device as string, total: int(body.total) });
  }
  for (const ref of refs) {
    const parsed = parsePolicyRef(ref);
    if (!parsed) continue;
    const row = yield* one('SELECT signed FROM policies WHERE id = $1', [parsed.id]);
    if (!row) continue;
    const signed = (typeof row.signed === 'string' ? JSON.parse(row.signed) : row.signed) as SignedPolicy;
    if (policyRef(signed.policy) === ref) out.rules.set(ref, signed.policy.loyalty ?? null);
  }
  return out;
}
