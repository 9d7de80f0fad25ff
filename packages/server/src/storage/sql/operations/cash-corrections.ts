/**
 * Cash corrections inside the ingest transaction (docs/corrections.md,
 * "Cash corrections"): the movements a batch's corrections name and the
 * corrections stored for them, and writing the new ones. Written once for
 * both backends.
 *
 * Each batch takes a lock per movement id (the dialect's `keyLocks`:
 * PostgreSQL advisory locks; SQLite's one writer) before reading, so two
 * batches correcting one movement at once judge its total whole.
 */
import type { CashMovedBody } from '@holdfast/protocol';
import type { CashCorrectionFacts, CashCorrectionRecord, CashMovementFact } from '../../../model/cash-correction.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { CASH_CORRECTIONS, cashCorrectionOf } from '../tables/cash-corrections.js';
import { all, run, type SqlOperation } from '../transaction-port.js';

/** Locks the movement ids `ids`, then loads the stored movements among them and every correction stored for them. */
export function* loadCashCorrectionFacts(d: SqlDialect, ids: readonly string[]): SqlOperation<CashCorrectionFacts> {
  const sorted = [...new Set(ids)].sort();
  if (d.keyLocks !== null) yield* all(d.keyLocks, [sorted.map((id) => `cash-movement:${id}`)]);
  const movements = new Map<string, CashMovementFact>();
  const rows = yield* all(
    `SELECT id, device, envelope FROM ops WHERE kind = 'cash.moved' AND status = 'accepted' AND ${d.inList('id', '$1')}`,
    [d.list(sorted)],
  );
  for (const r of rows) {
    const body = (JSON.parse(r.envelope as string) as { body: CashMovedBody }).body;
    movements.set(r.id as string, {
      id: r.id as string,
      device: r.device as string,
      shift: body.shift,
      currency: body.currency,
      direction: body.direction,
      amount: body.amount,
      reason: body.reason,
    });
  }
  const corrections = new Map<string, CashCorrectionRecord[]>();
  const stored = yield* all(
    `SELECT * FROM cash_corrections WHERE ${d.inList('movement_op_id', '$1')} ORDER BY recorded_at, device, seq`,
    [d.list(sorted)],
  );
  for (const row of stored) {
    const r = cashCorrectionOf(row);
    corrections.set(r.movement, [...(corrections.get(r.movement) ?? []), r]);
  }
  return { movements, corrections };
}

/** Writes the plan's corrections. */
export function* writeCashCorrections(d: SqlDialect, rows: readonly CashCorrectionRecord[]): SqlOperation<void> {
  for (const r of rows) yield* run(insertSql(CASH_CORRECTIONS, d), valuesOf(CASH_CORRECTIONS, r, d));
}
