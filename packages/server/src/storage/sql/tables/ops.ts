/**
 * The `ops` table: every op ever received, with the result answered for
 * it (so a resent op gets the same answer). Its columns and row mapper,
 * for every backend.
 */
import type { Op, StoredResult } from '@holdfast/protocol';
import type { StoredOp } from '../../../model/batch.js';
import { int, type Row } from '../../rows.js';
import { defineTable } from '../table.js';

/** An ops row as written: the op, its canonical text and its serialised result. */
export interface OpRow {
  op: Op;
  /** The op without its hash, as canonical JSON (the text that was signed). */
  envelope: string;
  status: StoredResult['status'];
  /** The result as JSON. */
  result: string;
  receivedAt: number;
}

export const OPS = defineTable<OpRow>('ops', {
  id: ['text', (r) => r.op.id],
  device: ['text', (r) => r.op.device],
  seq: ['bigint', (r) => r.op.seq],
  hash: ['text', (r) => r.op.hash],
  kind: ['text', (r) => r.op.kind],
  envelope: ['text', (r) => r.envelope],
  status: ['text', (r) => r.status],
  result: ['text', (r) => r.result],
  received_at: ['bigint', (r) => r.receivedAt],
});

export function storedOpOf(r: Row): StoredOp {
  return {
    op: { ...(JSON.parse(r.envelope as string) as Omit<Op, 'hash'>), hash: r.hash as string },
    result: JSON.parse(r.result as string) as StoredResult,
    receivedAt: int(r.received_at),
  };
}
