/**
 * Staff at the till (docs/staff-and-roles.md):
 *
 *   staff  every op stored with an `actor` names a member who was on the
 *          roster of the device's location, not removed, when the op was
 *          recorded; and when its kind needs an approval (domain
 *          STAFF_RULES), the approver was such a member with the role
 *
 * Judged from the stored envelopes and the server's roster history alone,
 * independently of the server's own ingest check: a simulated clerk signs
 * in from the roster the feed delivered, so an honest run never breaks it.
 * The device clock may run behind the server's; an op up to
 * CLOCK_GRACE_MS before a member's addition counts as theirs, as the
 * server allows.
 */
import { approvalNeeded } from '@holdfast/domain';
import { isKnownKind, type OpBodies, type OpKind, roleAtLeast, type StaffRole } from '@holdfast/protocol';
import type { StaffEventRow, Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Violation } from '../violation.js';

const CLOCK_GRACE_MS = 10 * 60_000;

/** Why `staff` did not stand at `at` at `location`, or null if they did (with their role). */
function standing(
  events: readonly StaffEventRow[] | undefined,
  staff: string,
  at: number,
  location: string | null,
): { why: string } | { role: StaffRole } {
  if (!events || events.length === 0) return { why: `no roster ever had staff ${staff}` };
  const before = events.filter((e) => e.at <= at);
  const state = before.at(-1) ?? (events[0] as StaffEventRow);
  if (before.length === 0 && state.at > at + CLOCK_GRACE_MS) return { why: `staff ${staff} was added after the op` };
  if (state.action === 'removed') return { why: `staff ${staff} had been removed` };
  if (state.location !== location) return { why: `staff ${staff} was at ${state.location}, the device at ${location}` };
  return { role: state.role as StaffRole };
}

export function staffRules(truth: Truth): Violation[] {
  const { server } = truth;
  if (server.staffEvents.length === 0 && !server.ops.some((o) => o.envelope.includes('"actor"'))) return [];
  const index = indexTruth(truth);
  const byStaff = new Map<string, StaffEventRow[]>();
  for (const e of server.staffEvents) {
    const list = byStaff.get(e.staff) ?? [];
    list.push(e);
    byStaff.set(e.staff, list);
  }
  const out: Violation[] = [];
  for (const row of server.ops) {
    if (row.status !== 'accepted' || index.injectedDevices.has(row.device)) continue;
    let op: { at?: unknown; kind?: unknown; body?: unknown; actor?: { staff?: unknown; approvedBy?: unknown } };
    try {
      op = JSON.parse(row.envelope);
    } catch {
      continue; // a malformed envelope is other rules' business
    }
    const actor = op.actor;
    if (actor === undefined || typeof op.at !== 'number') continue;
    const location = server.placements.get(row.device) ?? null;
    const fail = (message: string) =>
      out.push({ rule: 'staff', device: index.labelOf(row.device), opId: row.id, seq: row.seq, message });
    const who = standing(byStaff.get(String(actor.staff)), String(actor.staff), op.at, location);
    if ('why' in who) fail(`op ${row.id} (${String(op.kind)}): ${who.why}`);
    const kind = String(op.kind);
    if (!isKnownKind(kind)) continue;
    const needed = approvalNeeded(kind as OpKind, op.body as OpBodies[OpKind]);
    if (needed === null) continue;
    if (typeof actor.approvedBy !== 'string') {
      fail(`op ${row.id} (${kind}) needs a ${needed}'s approval and names none`);
      continue;
    }
    const approver = standing(byStaff.get(actor.approvedBy), actor.approvedBy, op.at, location);
    if ('why' in approver) fail(`op ${row.id} (${kind}) approver: ${approver.why}`);
    else if (!roleAtLeast(approver.role, needed)) {
      fail(`op ${row.id} (${kind}) approved by a ${approver.role}, needs a ${needed}`);
    }
  }
  return out;
}
