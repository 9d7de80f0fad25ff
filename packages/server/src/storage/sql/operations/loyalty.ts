/**
 * Loyalty members and points, written once for both backends
 * (model/loyalty.ts, docs/loyalty.md).
 *
 * Locks: an ingest locks its device, then the members its ops name in id
 * order (`loadLoyaltyFacts`, operations/loyalty-redemptions.ts); an adjustment locks one member. Entries are
 * unique by entry id, so a points entry is stored at most once.
 */
import { applyLoyaltyEntry, EMPTY_LOYALTY_TOTALS, LoyaltyError } from '@holdfast/domain';
import { ProtocolError } from '@holdfast/protocol';
import type {
  LoyaltyAdjustRequest,
  LoyaltyEntryRecord,
  LoyaltyMemberRecord,
  LoyaltyMemberView,
} from '../../../model/loyalty.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { LOYALTY_ENTRIES, LOYALTY_MEMBERS, loyaltyEntryOf, loyaltyMemberOf } from '../tables/loyalty.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';

/** Creates a member with no points; `loyalty_member_exists` if the card number is taken. */
export function* createLoyaltyMember(
  d: SqlDialect,
  member: string,
  name: string,
  now: number,
): SqlOperation<LoyaltyMemberRecord> {
  const record: LoyaltyMemberRecord = { member, name, ...EMPTY_LOYALTY_TOTALS, createdAt: now, updatedAt: now };
  const inserted = yield* run(insertSql(LOYALTY_MEMBERS, d, { ignoring: true }), valuesOf(LOYALTY_MEMBERS, record, d));
  if (inserted === 0) throw new ProtocolError('loyalty_member_exists', `loyalty member ${member} already exists`);
  return record;
}

function* lockedMember(d: SqlDialect, member: string): SqlOperation<LoyaltyMemberRecord | null> {
  const row = yield* one(`SELECT * FROM loyalty_members WHERE member = $1${d.forUpdate}`, [member]);
  return row ? loyaltyMemberOf(row) : null;
}

function* updateTotals(m: LoyaltyMemberRecord): SqlOperation<void> {
  yield* run(
    'UPDATE loyalty_members SET earned = $1, redeemed = $2, adjusted = $3, overdrawn_by = $4, updated_at = $5 WHERE member = $6',
    [m.earned, m.redeemed, m.adjusted, m.overdrawnBy, m.updatedAt, m.member],
  );
}

/** Writes an ingest plan's loyalty entries and final member totals (after `loadLoyaltyFacts` locked them). */
export function* writeLoyalty(
  d: SqlDialect,
  plan: { loyaltyMembers: readonly LoyaltyMemberRecord[]; loyaltyEntries: readonly LoyaltyEntryRecord[] },
): SqlOperation<void> {
  for (const e of plan.loyaltyEntries) yield* run(insertSql(LOYALTY_ENTRIES, d), valuesOf(LOYALTY_ENTRIES, e, d));
  for (const m of plan.loyaltyMembers) yield* updateTotals(m);
}

/** A member with every entry (oldest first); null if unknown. */
export function* getLoyaltyMember(_d: SqlDialect, member: string): SqlOperation<LoyaltyMemberView | null> {
  const row = yield* one('SELECT * FROM loyalty_members WHERE member = $1', [member]);
  if (!row) return null;
  const entries = (yield* all('SELECT * FROM loyalty_entries WHERE member = $1 ORDER BY pos', [member])).map(
    loyaltyEntryOf,
  );
  return { account: loyaltyMemberOf(row), entries };
}

/** Every member with its entries, by card number (the simulator's checker, operators' exports). */
export function* listLoyaltyMembers(_d: SqlDialect): SqlOperation<LoyaltyMemberView[]> {
  const members = (yield* all('SELECT * FROM loyalty_members ORDER BY member')).map(loyaltyMemberOf);
  const byMember = new Map<string, LoyaltyEntryRecord[]>();
  for (const r of yield* all('SELECT * FROM loyalty_entries ORDER BY pos')) {
    const e = loyaltyEntryOf(r);
    const list = byMember.get(e.member) ?? [];
    list.push(e);
    byMember.set(e.member, list);
  }
  return members.map((account) => ({ account, entries: byMember.get(account.member) ?? [] }));
}

/**
 * An operator's adjustment: one `adjust:<id>` entry and the member's new
 * totals. Unknown member → loyalty_member_unknown; zero, fractional or
 * out-of-range points → loyalty_points_invalid; the same id twice →
 * loyalty_adjustment_exists (nothing applied twice).
 */
export function* adjustLoyaltyPoints(d: SqlDialect, req: LoyaltyAdjustRequest): SqlOperation<LoyaltyMemberView> {
  const account = yield* lockedMember(d, req.member);
  if (!account) throw new ProtocolError('loyalty_member_unknown', `no loyalty member ${req.member}`);
  let totals: ReturnType<typeof applyLoyaltyEntry>['totals'];
  try {
    totals = applyLoyaltyEntry(account, `adjust:${req.id}`, { kind: 'adjust', points: req.points }).totals;
  } catch (e) {
    if (e instanceof LoyaltyError) throw new ProtocolError('loyalty_points_invalid', e.message);
    throw e;
  }
  const entry: LoyaltyEntryRecord = {
    entryId: `adjust:${req.id}`,
    member: req.member,
    kind: 'adjust',
    points: req.points,
    opId: null,
    device: null,
    seq: null,
    sale: null,
    balanceSeen: null,
    route: null,
    reason: req.reason,
    actor: req.actor,
    at: req.now,
  };
  const inserted = yield* run(insertSql(LOYALTY_ENTRIES, d, { ignoring: true }), valuesOf(LOYALTY_ENTRIES, entry, d));
  if (inserted === 0) throw new ProtocolError('loyalty_adjustment_exists', `adjustment ${req.id} was already applied`);
  yield* updateTotals({ ...account, ...totals, updatedAt: req.now });
  return (yield* getLoyaltyMember(d, req.member)) as LoyaltyMemberView;
}
