/**
 * Worker thread for `buildBacklog`: builds the chains of a slice of devices
 * (shift opened, then sales) and posts each device's signed batches as UTF-8
 * JSON bytes, transferred, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChainBuilder, type Op } from '@holdfast/protocol';
import { SHIFT_BODY, saleBody } from './sale-body.js';

export interface BacklogJob {
  devices: { deviceId: string; privateKey: string }[];
  opsPerDevice: number;
  batchSize: number;
}

export interface BacklogMessage {
  index: number;
  batches: Uint8Array[];
}

const job = workerData as BacklogJob;
const encoder = new TextEncoder();
for (const [index, device] of job.devices.entries()) {
  const chain = new ChainBuilder(device.deviceId, device.privateKey);
  const batches: Uint8Array[] = [];
  let shift = '';
  let ops: Op[] = [];
  for (let n = 0; n < job.opsPerDevice; n++) {
    const op = n === 0 ? chain.next('shift.opened', SHIFT_BODY) : chain.next('sale.recorded', saleBody(shift, n));
    if (n === 0) shift = op.id;
    ops.push(op);
    if (ops.length === job.batchSize || n === job.opsPerDevice - 1) {
      // Every op was recorded before the device came back: latestSeq is the whole backlog.
      batches.push(encoder.encode(JSON.stringify(chain.batch(ops, job.opsPerDevice))));
      ops = [];
    }
  }
  const message: BacklogMessage = { index, batches };
  parentPort?.postMessage(
    message,
    batches.map((b) => b.buffer as ArrayBuffer),
  );
}
