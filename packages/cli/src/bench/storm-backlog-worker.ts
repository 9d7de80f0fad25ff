/**
 * Worker thread for `buildBacklog`: builds the chains of a slice of devices
 * (shift opened, then sales) and posts each device's signed batches as UTF-8
 * JSON bytes, transferred, not copied, with the lane the SDK would send each
 * in.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChainBuilder, importPrivateKey, type Op, signBatch } from '@holdfast/protocol';
import { type Lane, laneOf } from '@holdfast/terminal';
import { SHIFT_BODY, saleBody } from './sale-body.js';

export interface BacklogJob {
  devices: { deviceId: string; privateKey: string }[];
  opsPerDevice: number;
  batchSize: number;
  /** The ops were recorded between these two times (ms), evenly spaced: during the outage. */
  recordedFrom: number;
  recordedTo: number;
}

export interface BacklogMessage {
  index: number;
  batches: Uint8Array[];
  lanes: Lane[];
}

const job = workerData as BacklogJob;
const encoder = new TextEncoder();
const step = (job.recordedTo - job.recordedFrom) / Math.max(1, job.opsPerDevice - 1);
for (const [index, device] of job.devices.entries()) {
  let n = 0;
  const chain = new ChainBuilder(device.deviceId, device.privateKey, {
    now: () => Math.round(job.recordedFrom + n * step),
  });
  const key = importPrivateKey(device.privateKey);
  const batches: Uint8Array[] = [];
  const lanes: Lane[] = [];
  let shift = '';
  let ops: Op[] = [];
  for (; n < job.opsPerDevice; n++) {
    const op = n === 0 ? chain.next('shift.opened', SHIFT_BODY) : chain.next('sale.recorded', saleBody(shift, n));
    if (n === 0) shift = op.id;
    ops.push(op);
    if (ops.length === job.batchSize || n === job.opsPerDevice - 1) {
      // Every op was recorded before the device came back: latestSeq is the whole backlog.
      batches.push(encoder.encode(JSON.stringify(signBatch(device.deviceId, ops, key, Date.now(), job.opsPerDevice))));
      // Decided now, final: the ops only grow older, and an old batch never becomes live.
      lanes.push(laneOf(ops, job.opsPerDevice, Date.now()));
      ops = [];
    }
  }
  const message: BacklogMessage = { index, batches, lanes };
  parentPort?.postMessage(
    message,
    batches.map((b) => b.buffer as ArrayBuffer),
  );
}
