/**
 * Builds a storm's backlog up front: for every enrolled device, a valid
 * chain of distinct signed ops (a shift, then sales) as ready-to-send batch
 * bytes. Hashing dominates (canonical JSON + SHA-256 per op, ~20 µs), so
 * the devices are split over one worker thread per CPU.
 */
import { cpus } from 'node:os';
import type { Lane } from '@holdfast/terminal';
import { startBenchWorker } from './start-worker.js';
import type { BacklogJob, BacklogMessage } from './storm-backlog-worker.js';

/** One device's backlog: its batches in seq order and the lane the SDK would send each in. */
export interface DeviceBacklog {
  batches: Uint8Array[];
  lanes: Lane[];
}

/** How long before the build the outage began; its ops are stamped from then until a minute before the build. */
export const OUTAGE_MS = 30 * 60_000;

/** Each device's backlog (batches as UTF-8 JSON), indexed like `devices`. */
export async function buildBacklog(
  devices: readonly { deviceId: string; privateKey: string }[],
  opsPerDevice: number,
  batchSize: number,
  threads = Math.max(1, cpus().length),
): Promise<DeviceBacklog[]> {
  const out: DeviceBacklog[] = new Array(devices.length);
  const now = Date.now();
  const per = Math.ceil(devices.length / threads);
  const jobs: Promise<void>[] = [];
  for (let start = 0; start < devices.length; start += per) {
    const slice = devices.slice(start, start + per);
    const job: BacklogJob = {
      devices: slice,
      opsPerDevice,
      batchSize,
      recordedFrom: now - OUTAGE_MS,
      recordedTo: now - 61_000,
    };
    const worker = startBenchWorker('storm-backlog-worker', job);
    jobs.push(
      new Promise<void>((resolve, reject) => {
        let received = 0;
        worker.on('message', (message: BacklogMessage) => {
          out[start + message.index] = { batches: message.batches, lanes: message.lanes };
          received++;
        });
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (code === 0 && received === slice.length) resolve();
          else reject(new Error(`backlog worker exited with ${code} after ${received}/${slice.length} devices`));
        });
      }),
    );
  }
  await Promise.all(jobs);
  return out;
}
