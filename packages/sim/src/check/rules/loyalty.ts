/**
 * The loyalty rules, from the server's members, entries, ops and
 * exceptions, with plain sums (not with the rules the server applies):
 *
 *   points-conserved          per member, earned, redeemed and adjusted are the sums of its
 *                             entries by kind (so balance = earned − redeemed + adjusted holds
 *                             for the entries, not only for the totals); no entry without a member
 *   points-once               the earn and redeem entries are exactly the points of the accepted
 *                             `loyalty.points` ops for known members, one entry per op and kind;
 *                             an accepted op for an unknown member has loyalty_unknown_member
 *   points-overdrawn-flagged  a member below zero has a loyalty_overdrawn exception, and each
 *                             loyalty_overdrawn names a member and a redemption the server applied
 *   points-online-confirmed   every online redemption applied was confirmed with the member's
 *                             one-time code: a `confirmed` redemption under the same op id, for
 *                             the same device, member and points, or else the op carries its
 *                             loyalty_online_unverified exception
 */
import type { ServerTruth, Truth } from '../truth.js';
import type { Violation } from '../violation.js';

export function loyaltyRules(truth: Truth): Violation[] {
  const server = truth.server;
  return [...conserved(server), ...once(server), ...overdrawnFlagged(server), ...onlineConfirmed(server)];
}

function onlineConfirmed(server: ServerTruth): Violation[] {
  const byOp = new Map(server.loyaltyRedemptions.map((r) => [r.opId, r]));
  const flagged = new Set(server.exceptions.filter((x) => x.type === 'loyalty_online_unverified').map((x) => x.opId));
  const out: Violation[] = [];
  for (const e of server.loyaltyEntries) {
    if (e.kind !== 'redeem' || e.route !== 'online' || e.opId === null || flagged.has(e.opId)) continue;
    const r = byOp.get(e.opId);
    const why =
      r === undefined
        ? 'no redemption was asked for it'
        : r.status !== 'confirmed'
          ? `its redemption ${r.id} is ${r.status}, not confirmed`
          : r.device !== e.device || r.member !== e.member || r.points !== e.points
            ? `its redemption ${r.id} confirmed ${r.points} points of ${r.member} for device ${r.device}`
            : null;
    if (why !== null) {
      out.push({
        rule: 'points-online-confirmed',
        message: `online redemption of ${e.points} points for ${e.member} applied, but ${why}, and no loyalty_online_unverified says so`,
        opId: e.opId,
      });
    }
  }
  return out;
}

type Sums = { earn: number; redeem: number; adjust: number };

function sumsOf(server: ServerTruth): Map<string, Sums> {
  const sums = new Map<string, Sums>();
  for (const e of server.loyaltyEntries) {
    const sum = sums.get(e.member) ?? { earn: 0, redeem: 0, adjust: 0 };
    if (e.kind === 'earn' || e.kind === 'redeem' || e.kind === 'adjust') sum[e.kind] += e.points;
    sums.set(e.member, sum);
  }
  return sums;
}

function conserved(server: ServerTruth): Violation[] {
  const out: Violation[] = [];
  const sums = sumsOf(server);
  for (const m of server.loyaltyMembers) {
    const sum = sums.get(m.member) ?? { earn: 0, redeem: 0, adjust: 0 };
    sums.delete(m.member);
    if (m.earned !== sum.earn || m.redeemed !== sum.redeem || m.adjusted !== sum.adjust) {
      out.push({
        rule: 'points-conserved',
        message:
          `member ${m.member}: totals ${m.earned}/${m.redeemed}/${m.adjusted} (balance ${m.earned - m.redeemed + m.adjusted}), ` +
          `but its entries sum to ${sum.earn}/${sum.redeem}/${sum.adjust} (balance ${sum.earn - sum.redeem + sum.adjust})`,
      });
    }
  }
  for (const [member] of sums) {
    out.push({ rule: 'points-conserved', message: `entries of member ${member}, who has no account` });
  }
  return out;
}

type PointsBody = { member?: string; earned?: number; redeemed?: number };

function bodyOf(envelope: string): PointsBody {
  try {
    return ((JSON.parse(envelope) as { body?: PointsBody }).body ?? {}) as PointsBody;
  } catch {
    return {};
  }
}

function once(server: ServerTruth): Violation[] {
  const out: Violation[] = [];
  const members = new Set(server.loyaltyMembers.map((m) => m.member));
  const unknownFlagged = new Set(
    server.exceptions.filter((x) => x.type === 'loyalty_unknown_member').map((x) => x.opId),
  );
  // What the accepted ops carry, by `opId:kind`.
  const expected = new Map<string, { member: string; points: number; device: string; seq: number; opId: string }>();
  for (const o of server.ops) {
    if (o.status !== 'accepted' || o.kind !== 'loyalty.points') continue;
    const body = bodyOf(o.envelope);
    const member = String(body.member);
    if (!members.has(member)) {
      if (!unknownFlagged.has(o.id)) {
        out.push({
          rule: 'points-once',
          message: `points for unknown member ${member} with no loyalty_unknown_member exception`,
          opId: o.id,
          seq: o.seq,
        });
      }
      continue;
    }
    const where = { member, device: o.device, seq: o.seq, opId: o.id };
    if ((body.earned ?? 0) > 0) expected.set(`${o.id}:earn`, { ...where, points: body.earned ?? 0 });
    if ((body.redeemed ?? 0) > 0) expected.set(`${o.id}:redeem`, { ...where, points: body.redeemed ?? 0 });
  }
  const seen = new Set<string>();
  for (const e of server.loyaltyEntries) {
    if (e.kind === 'adjust') continue;
    const key = `${e.opId}:${e.kind}`;
    const want = expected.get(key);
    if (seen.has(key)) {
      out.push({
        rule: 'points-once',
        message: `${e.kind} of op ${e.opId} applied twice`,
        ...(e.opId ? { opId: e.opId } : {}),
      });
      continue;
    }
    seen.add(key);
    if (!want) {
      out.push({
        rule: 'points-once',
        message: `${e.kind} entry ${e.entryId} of ${e.points} points matches no accepted loyalty.points op`,
        ...(e.opId ? { opId: e.opId } : {}),
      });
    } else if (want.points !== e.points || want.member !== e.member) {
      out.push({
        rule: 'points-once',
        message: `${e.kind} of op ${e.opId}: entry has ${e.points} points for ${e.member}, the op ${want.points} for ${want.member}`,
        opId: want.opId,
        seq: want.seq,
      });
    }
  }
  for (const [key, want] of expected) {
    if (!seen.has(key)) {
      out.push({
        rule: 'points-once',
        message: `${key.slice(key.lastIndexOf(':') + 1)} of ${want.points} points for ${want.member} never applied`,
        opId: want.opId,
        seq: want.seq,
      });
    }
  }
  return out;
}

function overdrawnFlagged(server: ServerTruth): Violation[] {
  const raised = server.exceptions.filter((x) => x.type === 'loyalty_overdrawn');
  const flagged = new Set(raised.map((x) => String(x.detail.member)));
  const redeemed = new Set(
    server.loyaltyEntries.filter((e) => e.kind === 'redeem').map((e) => `${e.member} ${e.opId}`),
  );
  const groundless: Violation[] = raised
    .filter((x) => !redeemed.has(`${String(x.detail.member)} ${x.opId}`))
    .map((x) => ({
      rule: 'points-overdrawn-flagged' as const,
      message: `loyalty_overdrawn for member ${String(x.detail.member)} names no redemption the server applied`,
      ...(x.opId ? { opId: x.opId } : {}),
    }));
  return groundless.concat(
    server.loyaltyMembers
      .filter((m) => m.earned - m.redeemed + m.adjusted < 0 && !flagged.has(m.member))
      .map((m) => ({
        rule: 'points-overdrawn-flagged' as const,
        message: `member ${m.member} at ${m.earned - m.redeemed + m.adjusted} points with no loyalty_overdrawn exception`,
      })),
  );
}
