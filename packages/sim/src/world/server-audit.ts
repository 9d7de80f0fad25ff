/**
 * The server side of the invariant checker: stored results against every
 * answer seen on the wire, money per device and shift (journals vs ledger vs
 * projections), the exceptions raised, and the clock-offset estimates.
 */
import { canonicalJson } from '@holdfast/protocol';
import type { SqliteStorage } from '@holdfast/server';
import type { Rule, ServerOp, Violation } from './invariants.js';
import {
  diffBooks,
  expectedCashOf,
  type JournalBooks,
  ledgerBooks,
  PROJECTION_FIELDS,
  projectedBooks,
} from './shift-books.js';
import type { SimLane } from './sim-lane.js';
import type { SimWorld } from './sim-world.js';

/** Stored results: the same in every answer, and still the same on disk. */
export function checkResults(world: SimWorld, serverOps: Map<string, ServerOp>, out: Violation[]): void {
  for (const c of world.history.changed.slice(0, 50)) {
    out.push({
      rule: 'result-changed',
      device: c.lane,
      opId: c.opId,
      message: `an answer carried stored result ${c.later}, an earlier one ${c.first}`,
    });
  }
  for (const [id, first] of world.history.firstResults) {
    const s = serverOps.get(id);
    if (s && canonicalJson(JSON.parse(s.result)) !== first) {
      out.push({
        rule: 'result-changed',
        opId: id,
        seq: s.seq,
        message: `the server first answered ${first} for op ${id}, and now stores ${s.result}`,
      });
    }
  }
}

/** Money per device and shift: journals vs ledger vs projections; only the clerks' miscounts as exceptions. */
export function checkBooks(
  world: SimWorld,
  booksByLane: Map<SimLane, JournalBooks>,
  storage: SqliteStorage,
  out: Violation[],
): void {
  const ledger = ledgerBooks(storage);
  const projected = projectedBooks(storage);
  for (const lane of world.lanes) {
    const books = booksByLane.get(lane);
    if (lane.restores.length > 0 || !lane.deviceId || !books) continue;
    for (const [shift, b] of books.shifts) {
      const l = ledger.get(shift);
      const diff = l ? diffBooks(b, l) : 'no ledger events';
      if (diff)
        out.push({
          rule: 'money',
          device: lane.label,
          opId: shift,
          message: `shift ${shift}: journal vs ledger: ${diff}`,
        });
      const p = projected.get(shift);
      const pdiff = p ? diffBooks(b, p, PROJECTION_FIELDS) : 'no projection';
      if (pdiff)
        out.push({
          rule: 'shift-projection',
          device: lane.label,
          opId: shift,
          message: `shift ${shift}: journal vs projection: ${pdiff}`,
        });
      const variance = b.closed && b.countedCash !== null ? b.countedCash - expectedCashOf(b) : null;
      if (p && p.variance !== variance) {
        out.push({
          rule: 'shift-projection',
          device: lane.label,
          opId: shift,
          message: `shift ${shift}: variance ${p.variance} on the server, ${variance} by the journal`,
        });
      }
    }
    for (const [shift, l] of ledger) {
      if (l.device === lane.deviceId && !books.shifts.has(shift)) {
        out.push({
          rule: 'money',
          device: lane.label,
          opId: shift,
          message: `the ledger holds shift ${shift}, which the journal never recorded`,
        });
      }
    }
  }
}

/** Exceptions: a cash_variance for each miscounted close, post-authorization declines (checked in card-audit.ts), and nothing else (outside injected faults). */
export function checkExceptions(world: SimWorld, storage: SqliteStorage, out: Violation[]): void {
  const injected = new Set(world.lanes.filter((l) => l.restores.length > 0).map((l) => l.deviceId));
  const labelOf = new Map(world.lanes.map((l) => [l.deviceId ?? '', l.label]));
  const variances = new Set(
    storage
      .query<{ id: string; device: string }>(
        'SELECT id, device FROM shifts WHERE variance IS NOT NULL AND variance <> 0',
      )
      .filter((r) => !injected.has(r.device))
      .map((r) => r.id),
  );
  for (const x of storage.query<{
    type: string;
    device: string;
    op_id: string | null;
    seq: number | null;
    message: string;
    shift: string | null;
  }>("SELECT type, device, op_id, seq, message, json_extract(detail, '$.shift') AS shift FROM exceptions")) {
    if (injected.has(x.device)) continue;
    const device = labelOf.get(x.device) ?? x.device;
    if (x.type === 'cash_variance' && x.shift !== null && variances.has(x.shift)) {
      variances.delete(x.shift);
      continue;
    }
    // Post-authorization declines are held against the processor's records (card-audit.ts, decline-surfaced).
    if (x.type === 'post_auth_decline' && world.cards) continue;
    const rule: Rule = x.type === 'fork' || x.type === 'conflict' ? 'fork' : 'exception';
    out.push({
      rule,
      device,
      ...(x.op_id ? { opId: x.op_id } : {}),
      ...(x.seq !== null ? { seq: x.seq } : {}),
      message: `unexpected ${x.type} exception: ${x.message}`,
    });
  }
  for (const shift of variances) {
    out.push({
      rule: 'exception',
      opId: shift,
      message: `shift ${shift} closed with a variance but no cash_variance exception was raised`,
    });
  }
}

/** The server's clock-offset estimate: the injected offset, off by at most the last batch's latency. */
export function checkClockOffsets(world: SimWorld, storage: SqliteStorage, out: Violation[]): void {
  for (const lane of world.lanes) {
    if (!lane.deviceId) continue;
    const delivery = world.history.lastDelivery.get(lane.deviceId);
    const [row] = storage.query<{ clock_offset_ms: number | null; last_seen_at: number | null }>(
      'SELECT clock_offset_ms, last_seen_at FROM devices WHERE id = ?',
      lane.deviceId,
    );
    if (!delivery || !row || row.clock_offset_ms === null) continue;
    const latency = delivery.deliveredAt - delivery.trueSentAt;
    const error = row.clock_offset_ms + lane.clock.offsetAt(delivery.trueSentAt);
    if (row.last_seen_at !== delivery.deliveredAt || error < 0 || error > latency) {
      out.push({
        rule: 'clock-offset',
        device: lane.label,
        message: `server offset estimate ${row.clock_offset_ms} ms (last seen ${row.last_seen_at}); the device clock was ${lane.clock.offsetAt(delivery.trueSentAt)} ms off when it sent its last batch, delivered ${latency} ms later at ${delivery.deliveredAt}`,
      });
    }
  }
}
