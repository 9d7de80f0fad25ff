/**
 * An op as `record*` returns it: recorded in the journal, pending until the
 * server answers. Its own module so that the feature modules (online.ts) and
 * the terminal's types can both name it without importing each other.
 */
import type { OpKind } from '@holdfast/protocol';

/** An op just committed to the journal. */
export interface RecordedOp {
  id: string;
  seq: number;
  kind: OpKind;
  hash: string;
  at: number;
  state: 'pending';
}
