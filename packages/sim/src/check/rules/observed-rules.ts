/**
 * Rules on what a simulated run saw while it ran (nothing to judge for a
 * run read only from disk):
 *
 *   result-changed  a stored result never changes, in any answer, nor on disk
 *   clock-offset    the server's clock-offset estimate is the injected drift within the batch's latency
 *   exposure-bound  the actual offline exposure never passed the bound (every sampling tick)
 *   sdk-error       no unexpected error in the SDK or from a clerk action
 *   server-error    no internal server error, no forwarding round failed but by a crash
 *   not-drained     every queue was empty once the faults were over
 */
import { canonicalJson } from '@holdfast/protocol';
import { stamp } from '../format.js';
import type { Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Violation } from '../violation.js';

export function observedRules(truth: Truth): Violation[] {
  const run = truth.run;
  if (!run) return [];
  const out: Violation[] = [];
  const index = indexTruth(truth);
  for (const c of run.changedResults.slice(0, 50)) {
    out.push({
      rule: 'result-changed',
      device: c.lane,
      opId: c.opId,
      message: `an answer carried stored result ${c.later}, an earlier one ${c.first}`,
    });
  }
  for (const [id, first] of run.firstResults) {
    const s = index.opsById.get(id);
    if (s && canonicalJson(JSON.parse(s.result)) !== first) {
      out.push({
        rule: 'result-changed',
        opId: id,
        seq: s.seq,
        message: `the server first answered ${first} for op ${id}, and now stores ${s.result}`,
      });
    }
  }
  for (const journal of truth.journals) {
    const delivery = index.observed(journal.label)?.lastDelivery;
    const row = truth.server.devices.find((d) => d.id === journal.deviceId);
    if (!journal.deviceId || !delivery || !row || row.clockOffsetMs === null) continue;
    const latency = delivery.deliveredAt - delivery.trueSentAt;
    const error = row.clockOffsetMs + delivery.deviceOffsetMs;
    if (row.lastSeenAt !== delivery.deliveredAt || error < 0 || error > latency) {
      out.push({
        rule: 'clock-offset',
        device: journal.label,
        message: `server offset estimate ${row.clockOffsetMs} ms (last seen ${row.lastSeenAt}); the device clock was ${delivery.deviceOffsetMs} ms off when it sent its last batch, delivered ${latency} ms later at ${delivery.deliveredAt}`,
      });
    }
  }
  if (run.cards) {
    for (const b of run.exposureBreaches.slice(0, 20)) {
      out.push({
        rule: 'exposure-bound',
        message: `at ${stamp(b.at - run.start)} the ${b.source === 'server' ? "server's" : "fleet's true"} offline exposure of ${b.group} was ${b.amount} in ${b.count} payments, above the bound ${b.boundAmount} / ${b.boundCount}`,
      });
    }
    for (const e of run.roundErrors.slice(0, 20)) {
      out.push({
        rule: 'server-error',
        message: `forwarding round failed at ${stamp(e.at - run.start)}: ${e.error instanceof Error ? e.error.message : String(e.error)}`,
      });
    }
  }
  for (const e of run.errors.slice(0, 20)) {
    out.push({ rule: 'sdk-error', device: e.lane, message: `unexpected error: ${describe(e.error)}` });
  }
  for (const error of run.serverErrors.slice(0, 20)) {
    out.push({ rule: 'server-error', message: `internal server error: ${describe(error)}` });
  }
  if (run.drainedAt === null) {
    out.push({
      rule: 'not-drained',
      message: `queues were not empty ${Math.round(run.drainLimitMs / 60_000)} virtual minutes after the faults ended (${run.queued} ops pending)`,
    });
  }
  return out;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
