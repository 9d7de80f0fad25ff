/**
 * Violations as text: one line each, and virtual instants relative to the
 * start of trading. (Explaining a violation with the run's history is the
 * simulator's: world/explain.ts.)
 */
import type { Violation } from './violation.js';

/** One line: `rule [device op seq]: message`. */
export function formatViolation(v: Violation): string {
  const where = [v.device, v.opId, v.seq === undefined ? undefined : `seq ${v.seq}`].filter((x) => x !== undefined);
  return `${v.rule}${where.length > 0 ? ` [${where.join(' ')}]` : ''}: ${v.message}`;
}

/** A virtual instant relative to the start of trading: +1h02m03.456s. */
export function stamp(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  let rest = Math.abs(Math.round(ms));
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = (rest / 1000).toFixed(3).padStart(6, '0');
  return `${sign}${h > 0 ? `${h}h` : ''}${String(m).padStart(2, '0')}m${s}s`;
}
