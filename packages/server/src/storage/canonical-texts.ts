/**
 * The text stored as an op's envelope: its canonical JSON without `hash`,
 * exactly the bytes its hash covers (so `sha256(envelope) = hash` can be
 * checked by any tool). Verification already computed it; else compute it.
 */
import { canonicalOpText, type Op } from '@holdfast/protocol';
import type { VerifiedBatch } from '../model/batch.js';

export function canonicalTexts(batch: VerifiedBatch): (op: Op) => string {
  const known = new Map<string, string>();
  const texts = batch.canonical;
  if (texts) {
    for (const [i, op] of batch.ops.entries()) known.set(op.id, texts[i] as string);
  }
  return (op) => known.get(op.id) ?? canonicalOpText(op);
}
