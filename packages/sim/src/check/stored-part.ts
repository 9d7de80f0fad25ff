/**
 * The part of a per-op result the server stores: what every later answer
 * for the op must repeat, and what its journal must hold once settled.
 */
import type { OpResult, StoredResult } from '@holdfast/protocol';

/** The stored part of `result` (null: nothing stored, as for a seq gap). */
export function storedPart(result: OpResult): StoredResult | null {
  switch (result.status) {
    case 'accepted':
      return { status: 'accepted', at: result.at };
    case 'duplicate': {
      const { id: _id, seq: _seq, ...stored } = result.original;
      return stored;
    }
    case 'rejected': {
      if (result.reason === 'seq_gap') return null;
      const { id: _id, seq: _seq, ...stored } = result;
      return stored;
    }
    default:
      return null;
  }
}
