/**
 * The storm's live terminals and health probe on a thread of their own
 * (storm-tills-worker.ts says why): started after the idle baseline, told
 * when the storm begins, and stopped when it has drained or at the deadline.
 */
import { startBenchWorker } from './start-worker.js';
import type { Device } from './storm-client.js';
import type { TillsCommand, TillsCounts, TillsJob, TillsReport } from './storm-tills-worker.js';

export interface Tills {
  /** The storm begins: the latencies of the sales before it; the probe starts. */
  storm(): Promise<number[]>;
  /** Stops ringing up sales, lets (or with `abort`, stops) what is in flight, and reports the storm's counts. */
  finish(abort: boolean): Promise<TillsCounts>;
  /** Ends the thread whatever its state (after a failure). */
  terminate(): Promise<void>;
}

/** Starts the tills; resolves once each has opened its shift. */
export async function startTills(
  url: string,
  devices: Device[],
  intervalMs: number,
  timeoutMs: number,
): Promise<Tills> {
  const job: TillsJob = { url, devices, intervalMs, timeoutMs };
  const worker = startBenchWorker('storm-tills-worker', job);
  const reports: TillsReport[] = [];
  let waiting: (() => void) | null = null;
  let ended: Error | null = null;
  worker.on('message', (report: TillsReport) => {
    reports.push(report);
    waiting?.();
  });
  const end = (error: Error) => {
    ended ??= error;
    waiting?.();
  };
  worker.once('error', end);
  worker.once('exit', (code) => end(new Error(`storm: the tills' thread exited (code ${code})`)));

  const next = async <T extends TillsReport['type']>(type: T): Promise<Extract<TillsReport, { type: T }>> => {
    for (;;) {
      const report = reports.shift();
      if (report?.type === 'failed') throw new Error(`storm: a till failed: ${report.message}`);
      if (report?.type === type) return report as Extract<TillsReport, { type: T }>;
      if (report) throw new Error(`storm: the tills answered ${report.type}, expected ${type}`);
      if (ended) throw ended;
      await new Promise<void>((resolve) => {
        waiting = resolve;
      });
      waiting = null;
    }
  };
  const send = (command: TillsCommand) => worker.postMessage(command);

  try {
    await next('ready');
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    async storm() {
      send('storm');
      return (await next('idle')).latencies;
    },
    async finish(abort) {
      send(abort ? 'abort' : 'stop');
      const { type: _, ...counts } = await next('done');
      return counts;
    },
    async terminate() {
      await worker.terminate();
    },
  };
}
