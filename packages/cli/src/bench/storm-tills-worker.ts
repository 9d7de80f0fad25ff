/**
 * Worker thread for the storm's live terminals and its health probe
 * (storm-tills.ts). A till at a counter is a device of its own: its sale
 * waits for the server, not for the 1,000 storm terminals' client, which
 * at the storm's onset writes hundreds of 300-KB bodies in one turn of its
 * event loop (245 ms measured). On the storm client's thread, every live
 * sale in flight then was charged that stall too. Here the tills and the
 * probe run on an event loop of their own, with their own connections,
 * while still sharing the machine's two cores with the client and the
 * server.
 *
 * Commands from the bench: 'storm' (answers the latencies of the idle
 * phase, starts counting anew and starts the probe), then 'stop' or
 * 'abort' (the deadline passed: requests in flight are dropped); both
 * answer with everything counted during the storm.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { cryptoRandom } from '@holdfast/domain';
import { BenchHttpClient, sleep } from './bench-http-client.js';
import { type Device, LiveTerminal, type Tally } from './storm-client.js';

export interface TillsJob {
  url: string;
  devices: Device[];
  /** Mean time between two sales of one till. */
  intervalMs: number;
  /** The SDK's request timeout. */
  timeoutMs: number;
}

export type TillsCommand = 'storm' | 'stop' | 'abort';

/** What the storm counted in the tills' thread. */
export interface TillsCounts {
  /** Each confirmed sale's latency (ms), recorded → the 200 that confirmed it. */
  latencies: number[];
  /** Health probes' round trips (ms), one every ~100 ms. */
  probeMs: number[];
  /** Ops the server confirmed, shifts included, since the tills started. */
  confirmed: number;
  /** Sales recorded but not confirmed when the tills stopped. */
  unconfirmed: number;
  status: [number, number][];
  timeouts: number;
  networkErrors: number;
}

export type TillsReport =
  | { type: 'ready' }
  | { type: 'idle'; latencies: number[] }
  | ({ type: 'done' } & TillsCounts)
  | { type: 'failed'; message: string };

if (!parentPort) throw new Error('storm-tills-worker must run in a worker thread');
const port: MessagePort = parentPort;
const job = workerData as TillsJob;
const post = (report: TillsReport) => port.postMessage(report);

const stop = new AbortController();
const liveClient = new BenchHttpClient(job.url, Math.max(1, job.devices.length));
const probeClient = new BenchHttpClient(job.url, 1);
const tally: Tally = { status: new Map(), timeouts: 0, networkErrors: 0 };
const tills = job.devices.map(
  (device) => new LiveTerminal(device, { client: liveClient, tally, signal: stop.signal, timeoutMs: job.timeoutMs }),
);
let recording = true;
let probing = false;
const probeMs: number[] = [];

async function probe(): Promise<void> {
  while (recording && !stop.signal.aborted) {
    await sleep(100, stop.signal);
    const start = performance.now();
    try {
      await probeClient.request('GET', '/v1/health', { timeoutMs: 60_000, signal: stop.signal });
      probeMs.push(performance.now() - start);
    } catch {
      // Aborted at the deadline: the probe ends with the storm.
    }
  }
}

async function ring(till: LiveTerminal): Promise<void> {
  while (recording && !stop.signal.aborted) {
    await sleep(job.intervalMs * (0.5 + cryptoRandom.float()), stop.signal);
    if (recording && !stop.signal.aborted) till.record();
  }
}

async function main(): Promise<void> {
  await Promise.all(tills.map((t) => t.openShift()));
  const ringing = tills.map(ring);
  let probed: Promise<void> = Promise.resolve();
  const finished = new Promise<TillsCommand>((resolve) => {
    port.on('message', (command: TillsCommand) => {
      if (command === 'storm' && !probing) {
        probing = true;
        const latencies = tills.flatMap((t) => t.latencies);
        for (const t of tills) t.latencies = [];
        tally.status.clear();
        tally.timeouts = 0;
        tally.networkErrors = 0;
        probed = probe();
        post({ type: 'idle', latencies });
      } else if (command === 'stop' || command === 'abort') {
        resolve(command);
      }
    });
  });
  post({ type: 'ready' });
  const command = await finished;
  recording = false;
  if (command === 'abort') stop.abort();
  await Promise.all([...ringing, probed]);
  // What the tills still hold goes out too (unless the deadline stopped everything).
  await Promise.all(tills.map((t) => t.idle()));
  post({
    type: 'done',
    latencies: tills.flatMap((t) => t.latencies),
    probeMs,
    confirmed: tills.reduce((n, t) => n + t.confirmed, 0),
    unconfirmed: tills.reduce((n, t) => n + t.pending, 0),
    status: [...tally.status],
    timeouts: tally.timeouts,
    networkErrors: tally.networkErrors,
  });
}

main()
  .catch((error: unknown) => post({ type: 'failed', message: error instanceof Error ? error.message : String(error) }))
  .finally(() => {
    stop.abort();
    liveClient.close();
    probeClient.close();
    port.close();
  });
