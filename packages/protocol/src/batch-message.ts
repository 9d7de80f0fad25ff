/**
 * The batch signature's message, free of node:crypto so a browser terminal
 * (WebCrypto Ed25519, packages/terminal-web) signs the same bytes.
 */
import type { DeviceReport } from './device-report.js';

/**
 * What a batch signature covers (`holdfast.batch.v2`): every field of the
 * request but `sig`. The ops are covered by the first seq and the last op's
 * hash (which commits to every op before it through the `prev` links), so no
 * op can be dropped, added or changed; `sentAt` and `latestSeq` are covered
 * directly, so what the server records about the device is the device's word;
 * so is the optional `report` (device-report.ts), when the batch carries one.
 */
export function batchMessage(batch: {
  device: string;
  ops: readonly { seq: number; hash: string }[];
  sentAt: number;
  latestSeq: number;
  report?: DeviceReport | undefined;
}) {
  const first = batch.ops[0];
  const last = batch.ops[batch.ops.length - 1];
  if (!first || !last) throw new RangeError('a batch needs at least one op');
  return {
    ctx: 'holdfast.batch.v2',
    device: batch.device,
    from: first.seq,
    seq: last.seq,
    hash: last.hash,
    sentAt: batch.sentAt,
    latestSeq: batch.latestSeq,
    // Only when sent: a batch without a report signs exactly what terminals before reports signed.
    ...(batch.report !== undefined ? { report: batch.report } : {}),
  } as const;
}
