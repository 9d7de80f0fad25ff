/**
 * The card payments approved offline that still wait to be forwarded (not
 * settled, not refused), most urgent first: by deadline base
 * min(approvedAt, receivedAt), as forwarding-deadline.ts measures it, then
 * by device and seq (the order the forwarder sends them in).
 */
import type { ForwardingDeadlineRow } from '../../../model/forwarding-deadline-row.js';
import { int } from '../../rows.js';
import { all, type SqlOperation } from '../transaction-port.js';

/** Rows without `deadlineAt` (the caller adds the configured deadline), at most `limit`. */
export function* listForwardingDeadlines(limit: number): SqlOperation<Omit<ForwardingDeadlineRow, 'deadlineAt'>[]> {
  const rows = yield* all(
    `SELECT p.op_id, p.tender_index, p.device, d.label, p.seq, p.amount, p.currency, p.brand, p.last4,
       p.approved_at, p.received_at, p.deadline_stage, p.attempts, p.last_error,
       CASE WHEN p.approved_at < p.received_at THEN p.approved_at ELSE p.received_at END AS deadline_from
     FROM offline_payments p JOIN devices d ON d.id = p.device
     WHERE p.settled_at IS NULL AND p.refused_at IS NULL
     ORDER BY deadline_from, p.device, p.seq, p.tender_index
     LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    opId: r.op_id as string,
    tenderIndex: int(r.tender_index),
    device: r.device as string,
    deviceLabel: r.label as string,
    seq: int(r.seq),
    amount: int(r.amount),
    currency: r.currency as string,
    brand: r.brand as string,
    last4: r.last4 as string,
    approvedAt: int(r.approved_at),
    receivedAt: int(r.received_at),
    deadlineFrom: int(r.deadline_from),
    stage: (r.deadline_stage as 'warning' | 'missed' | null) ?? null,
    attempts: int(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
  }));
}
