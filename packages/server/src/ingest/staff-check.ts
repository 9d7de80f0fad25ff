/**
 * The staff check at ingest (docs/staff-and-roles.md, "Staff at the till";
 * docs/exceptions.md): did the op's staff member exist, not removed, at the
 * device's location when the op was recorded (`op.at`), and did the
 * approver hold a role the kind needs (domain STAFF_RULES)? The op was
 * recorded offline and stands whatever the answer; each broken rule is an
 * exception for the operators.
 *
 * Time is the device clock (`op.at`) against the server clock of the roster
 * history. A member added moments before a till with a slow clock used
 * them would look "not yet added"; STAFF_CLOCK_GRACE_MS forgives that much.
 */
import { approvalNeeded, needsSignedIn } from '@holdfast/domain';
import { type Op, type OpBodies, type OpKind, roleAtLeast, type StaffRole } from '@holdfast/protocol';
import type { DeviceRecord } from '../model/device.js';
import type { ExceptionRecord, ExceptionType } from '../model/exception.js';
import type { StaffEvent, StaffFacts } from '../model/staff.js';

/** How far a device clock may run behind the server's before an op "precedes" the member's addition. */
export const STAFF_CLOCK_GRACE_MS = 10 * 60_000;

export interface StaffProblem {
  type: ExceptionType;
  severity: ExceptionRecord['severity'];
  /** Dedupe key suffix (the type is prefixed by ctx.raise). */
  dedupe: string;
  message: string;
  detail: Record<string, unknown>;
}

/** A member's standing at one instant. */
type Standing =
  | { ok: true; event: StaffEvent }
  | {
      ok: false;
      type: 'staff_unknown' | 'staff_removed' | 'staff_not_at_location';
      why: string;
      event: StaffEvent | null;
    };

/** What `staff` was at device time `at` for a device at `location`. */
export function standingAt(
  events: readonly StaffEvent[] | undefined,
  staff: string,
  at: number,
  location: string | null,
): Standing {
  if (!events || events.length === 0) {
    return { ok: false, type: 'staff_unknown', why: `no staff member ${staff} was ever on a roster`, event: null };
  }
  let state: StaffEvent | null = null;
  for (const e of events) {
    if (e.at <= at) state = e;
    else break;
  }
  const first = events[0] as StaffEvent;
  if (state === null) {
    if (first.at > at + STAFF_CLOCK_GRACE_MS) {
      return {
        ok: false,
        type: 'staff_unknown',
        why: `staff ${staff} was added at ${first.at}, after the op (${at})`,
        event: null,
      };
    }
    state = first;
  }
  if (state.action === 'removed') {
    return {
      ok: false,
      type: 'staff_removed',
      why: `staff ${staff} was removed from location ${state.location} at ${state.at}, before the op (${at})`,
      event: state,
    };
  }
  if (state.location !== location) {
    return {
      ok: false,
      type: 'staff_not_at_location',
      why: `staff ${staff} was on the roster of location ${state.location}, not this device's (${location ?? 'none'})`,
      event: state,
    };
  }
  return { ok: true, event: state };
}

/** The staff rules `op` broke, as exceptions to raise (none when it broke none). */
export function staffProblems<K extends OpKind>(
  op: Op,
  kind: K,
  body: OpBodies[K],
  device: DeviceRecord,
  facts: StaffFacts | undefined,
): StaffProblem[] {
  const actor = op.actor;
  const needed: StaffRole | null = approvalNeeded(kind, body);
  const base = { kind, opAt: op.at, location: device.location };
  if (!actor) {
    const since = facts?.rosterSince ?? null;
    if (!needsSignedIn(kind) || since === null || op.at < since + STAFF_CLOCK_GRACE_MS) return [];
    return [
      {
        type: 'staff_missing',
        severity: 'warning',
        dedupe: op.id,
        message: `op ${op.id} (${kind}, seq ${op.seq}) names no staff member, but location ${device.location} has a roster since ${since}`,
        detail: { ...base, rosterSince: since },
      },
    ];
  }
  const problems: StaffProblem[] = [];
  const standing = standingAt(facts?.events.get(actor.staff), actor.staff, op.at, device.location);
  if (!standing.ok) {
    problems.push({
      type: standing.type,
      severity: 'alarm',
      dedupe: op.id,
      message: `op ${op.id} (${kind}, seq ${op.seq}): ${standing.why}`,
      detail: { ...base, staff: actor.staff, staffLocation: standing.event?.location ?? null },
    });
  }
  if (needed === null) return problems;
  if (actor.approvedBy === undefined) {
    problems.push({
      type: 'approval_missing',
      severity: 'alarm',
      dedupe: op.id,
      message: `op ${op.id} (${kind}, seq ${op.seq}) needs a ${needed}'s approval and names none`,
      detail: { ...base, staff: actor.staff, needed },
    });
    return problems;
  }
  const approver = standingAt(facts?.events.get(actor.approvedBy), actor.approvedBy, op.at, device.location);
  const why = !approver.ok
    ? approver.why
    : !roleAtLeast(approver.event.role, needed)
      ? `approver ${actor.approvedBy} was a ${approver.event.role}, not a ${needed} or above`
      : null;
  if (why !== null) {
    problems.push({
      type: 'approval_role_missing',
      severity: 'alarm',
      dedupe: op.id,
      message: `op ${op.id} (${kind}, seq ${op.seq}) needs a ${needed}'s approval: ${why}`,
      detail: {
        ...base,
        staff: actor.staff,
        approvedBy: actor.approvedBy,
        needed,
        approverRole: approver.ok ? approver.event.role : null,
        reason: approver.ok ? 'role' : approver.type,
      },
    });
  }
  return problems;
}

/** The staff ids the batch's ops name (actor and approver), for loading StaffFacts. */
export function staffRefs(ops: readonly Op[]): string[] {
  const ids = new Set<string>();
  for (const op of ops) {
    const actor = op.actor as { staff?: unknown; approvedBy?: unknown } | undefined;
    if (typeof actor?.staff === 'string') ids.add(actor.staff);
    if (typeof actor?.approvedBy === 'string') ids.add(actor.approvedBy);
  }
  return [...ids];
}
