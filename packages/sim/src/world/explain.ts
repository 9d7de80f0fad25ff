/**
 * Renders a violation for a person: the rule and what broke, the run
 * (scenario, seed), the op (what the app recorded, what the journal and the
 * server hold), its history (every send, answer, loss, crash around it), and
 * the one command that replays the run.
 */
import { stamp } from '../check/format.js';
import { readProcessor } from '../check/processor-reader.js';
import type { Rule, Violation } from '../check/violation.js';
import type { SimWorld } from './sim-world.js';

const MAX_LINES = 80;

/** Rules about a card payment: its story is the forwarder's and the processor's, not the batches'. */
const CARD_RULES: ReadonlySet<Rule> = new Set(['forwarded-once', 'double-charge', 'decline-surfaced', 'unsettled']);

/** A violation explained for a person: what broke, where, its history in the run, and how to replay it. */
export function explain(world: SimWorld, v: Violation, replay: string): string {
  const start = world.plan.start;
  const lines = [`✗ ${v.rule}: ${v.message}`, `  run: scenario ${world.scenario}, seed ${world.seed}`];
  const lane = v.device ? world.lane(v.device) : undefined;
  if (lane)
    lines.push(`  terminal: ${lane.label} in zone ${lane.spec.zone} (device ${lane.deviceId ?? 'not enrolled'})`);
  const intent = v.opId ? lane?.intents.find((i) => i.id === v.opId) : undefined;
  if (v.opId) {
    lines.push(`  op: ${v.opId}${v.seq !== undefined ? ` (seq ${v.seq})` : ''}`);
    if (intent) {
      lines.push(`    the app recorded it at ${stamp(intent.at - start)}: ${intent.kind}, amount ${intent.amount}`);
    }
    const entry = lane?.terminal?.getOp(v.opId);
    if (entry) {
      const result = entry.result === null ? '' : `, result ${JSON.stringify(entry.result)}`;
      lines.push(`    journal: ${entry.state} after ${entry.attempts} attempts${result}`);
    }
    const stored = world.server.up
      ? world.server.storage.query<{ status: string; result: string; received_at: number }>(
          'SELECT status, result, received_at FROM ops WHERE id = ?',
          [v.opId],
        )[0]
      : undefined;
    lines.push(
      stored
        ? `    server: ${stored.status}, stored ${stored.result}, received at ${stamp(stored.received_at - start)}`
        : '    server: not stored',
    );
  }
  const cardRule = CARD_RULES.has(v.rule);
  if (lane && !cardRule) {
    const seq = v.seq ?? intent?.seq;
    const from = intent ? intent.at - 60_000 : start - 3_600_000;
    const events =
      seq !== undefined
        ? world.history.forOp(lane.label, seq, from, world.clock.now())
        : [...lane.crashes.map((c) => [c.at, `power cut (${c.how}), generation ${c.generation}`] as const)];
    if (events.length > 0) {
      lines.push(seq !== undefined ? '  history of the op:' : '  crashes of the terminal:');
      const shown =
        events.length > MAX_LINES
          ? [
              ...events.slice(0, MAX_LINES / 2),
              [Number.NaN, `… ${events.length - MAX_LINES} more …`] as const,
              ...events.slice(-MAX_LINES / 2),
            ]
          : events;
      for (const [at, text] of shown) lines.push(`    ${Number.isNaN(at) ? '' : stamp(at - start).padEnd(16)}${text}`);
    }
  }
  const payment = v.opId && world.cards ? world.cards.historyOf(v.opId) : [];
  if (payment.length > 0) {
    lines.push('  its card payment:');
    for (const [at, text] of payment.slice(0, MAX_LINES)) lines.push(`    ${stamp(at - start).padEnd(16)}${text}`);
  }
  if (cardRule && v.opId) {
    const held = (world.cards ? readProcessor(world.cards.processor.storage) : []).filter(
      (r) => r.reference === v.opId,
    );
    lines.push(held.length > 0 ? '  the processor holds:' : '  the processor holds nothing for it');
    for (const r of held) lines.push(`    ${r.id} ${r.status} ${r.amount} ${r.currency} under key ${r.key}`);
  }
  const serverCrashes = world.server.crashes;
  if (serverCrashes.length > 0) {
    lines.push(
      `  server crashes: ${serverCrashes.map((c) => `${stamp(c.at - start)} at ${c.point} (down ${Math.round(c.downMs / 1000)} s)`).join('; ')}`,
    );
  }
  lines.push(`  replay: ${replay}`);
  return lines.join('\n');
}
