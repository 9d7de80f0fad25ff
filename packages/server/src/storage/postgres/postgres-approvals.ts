/**
 * Loads the facts of local-approval re-evaluation on PostgreSQL (see
 * approval-facts.ts), inside the ingest transaction, after the device row
 * is locked. Only a batch holding a local approval pays for the queries.
 */
import type pg from 'pg';
import { type ApprovalFacts, approvalFactsNeeded } from '../../ingest/ingest-facts.js';
import type { VerifiedBatch } from '../../model/batch.js';
import { approvalFactsOf, HELD_COLUMNS, policyIdsOf } from '../approval-facts.js';
import type { Row } from '../rows.js';
import { unconfirmed } from '../sql/offline-payment-states.js';

export async function loadApprovalFacts(
  client: pg.PoolClient,
  batch: VerifiedBatch,
  device: string,
): Promise<ApprovalFacts | null> {
  const needed = approvalFactsNeeded(batch.ops);
  if (!needed.needed) return null;
  const policies = await client.query('SELECT signed FROM policies WHERE id = ANY ($1::text[])', [
    policyIdsOf(needed.refs),
  ]);
  const held = await client.query(
    `SELECT ${HELD_COLUMNS} FROM offline_payments WHERE device = $1 AND ${unconfirmed()}`,
    [device],
  );
  return approvalFactsOf(
    policies.rows.map((r: Row) => r.signed as string),
    held.rows as Row[],
  );
}
