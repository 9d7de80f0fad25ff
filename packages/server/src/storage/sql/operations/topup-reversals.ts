/**
 * Wristband top-up reversals inside the ingest transaction
 * (docs/wristbands.md, "Top-up reversal"): the top-ups a batch's reversals
 * name and the reversals stored for them, and writing the new ones.
 * Written once for both backends.
 *
 * Two devices may reverse one top-up at once (a till and a supervisor's
 * spare): each batch takes a lock per top-up id (the dialect's `keyLocks`:
 * PostgreSQL advisory locks; SQLite's one writer) before reading, so the
 * second sees what the first committed and the total is judged whole.
 */
import type { WalletToppedUpBody } from '@holdfast/protocol';
import type { TopUpFact, TopUpFacts, TopUpReversalRecord } from '../../../model/topup-reversal.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { TOPUP_REVERSALS, topUpReversalOf } from '../tables/topup-reversals.js';
import { all, run, type SqlOperation } from '../transaction-port.js';

/** Locks the top-up ids `ids`, then loads the stored top-ups among them and every reversal stored for them. */
export function* loadTopUpFacts(d: SqlDialect, ids: readonly string[]): SqlOperation<TopUpFacts> {
  const sorted = [...new Set(ids)].sort();
  if (d.keyLocks !== null) yield* all(d.keyLocks, [sorted.map((id) => `topup:${id}`)]);
  const topUps = new Map<string, TopUpFact>();
  const rows = yield* all(
    `SELECT id, device, envelope FROM ops WHERE kind = 'wallet.topped_up' AND status = 'accepted' AND ${d.inList('id', '$1')}`,
    [d.list(sorted)],
  );
  for (const r of rows) {
    const body = (JSON.parse(r.envelope as string) as { body: WalletToppedUpBody }).body;
    topUps.set(r.id as string, {
      id: r.id as string,
      device: r.device as string,
      shift: body.shift,
      wristband: body.wristband,
      currency: body.currency,
      amount: body.amount,
      paid: body.paid,
    });
  }
  const reversals = new Map<string, TopUpReversalRecord[]>();
  const stored = yield* all(
    `SELECT * FROM topup_reversals WHERE ${d.inList('topup_op_id', '$1')} ORDER BY recorded_at, device, seq`,
    [d.list(sorted)],
  );
  for (const row of stored) {
    const r = topUpReversalOf(row);
    reversals.set(r.topup, [...(reversals.get(r.topup) ?? []), r]);
  }
  return { topUps, reversals };
}

/** Writes the plan's reversals. */
export function* writeTopUpReversals(d: SqlDialect, rows: readonly TopUpReversalRecord[]): SqlOperation<void> {
  for (const r of rows) yield* run(insertSql(TOPUP_REVERSALS, d), valuesOf(TOPUP_REVERSALS, r, d));
}
