/**
 * Runs many seeds of one scenario on N worker threads. Each seed runs
 * exactly as it would alone (its own world, clock, network and SQLite files,
 * everything drawn from the seed), so results do not depend on N or on which
 * worker ran them; only the completion order does, and callers aggregate in
 * an order-free way or sort by seed. Workers take the next seed when they
 * finish one, so slow and fast seeds spread over the workers by themselves.
 * A crash of the simulator is a failed seed with its stack; a worker that
 * dies fails its seed and the pool goes on with the others.
 */
import { Worker } from 'node:worker_threads';
import type { RunOptions, ScenarioResult } from './run-scenario.js';

export interface SeedPoolSetup {
  scenario: string;
  options: Omit<RunOptions, 'onProgress'>;
}

/** What the pool asks a worker: a seed to run, or null when there are no more. */
export interface SeedPoolRequest {
  seed: number | null;
}

/** One finished seed: its result, or the error that stopped the simulator. */
export type SeedPoolOutcome = { seed: number; result: ScenarioResult } | { seed: number; error: string };

type WorkerMessage = { ready: true } | SeedPoolOutcome;

export async function runSeedPool(
  setup: SeedPoolSetup & { seeds: readonly number[]; jobs: number },
  onOutcome: (outcome: SeedPoolOutcome) => void,
): Promise<void> {
  const queue = [...setup.seeds];
  const jobs = Math.max(1, Math.min(setup.jobs, queue.length));
  const workerSetup: SeedPoolSetup = { scenario: setup.scenario, options: setup.options };
  await Promise.all(Array.from({ length: jobs }, () => runWorker(workerSetup, queue, onOutcome)));
}

/** One worker slot: runs seeds from the queue until it is empty, replacing a worker that died mid-seed. */
async function runWorker(
  setup: SeedPoolSetup,
  queue: number[],
  onOutcome: (outcome: SeedPoolOutcome) => void,
): Promise<void> {
  while (queue.length > 0) {
    const { answered, death } = await runOneWorker(setup, queue, onOutcome);
    if (answered === 0 && queue.length > 0) {
      // A worker that cannot even start would fail the same way again: fail the rest, never skip them.
      const error = `seed pool worker could not start: ${death}`;
      for (const seed of queue.splice(0)) onOutcome({ seed, error });
    }
  }
}

/** Runs one worker until the queue is empty or it dies; resolves with how many seeds it answered (and why it died). */
function runOneWorker(
  setup: SeedPoolSetup,
  queue: number[],
  onOutcome: (outcome: SeedPoolOutcome) => void,
): Promise<{ answered: number; death: string }> {
  return new Promise((resolve) => {
    const worker = startWorker(setup);
    let current: number | null = null;
    let answered = 0;
    let finished = false;
    let death = '';
    const next = () => {
      current = queue.shift() ?? null;
      worker.postMessage({ seed: current } satisfies SeedPoolRequest);
    };
    worker.on('message', (m: WorkerMessage) => {
      if ('ready' in m) return next();
      if (m.seed !== current) return;
      current = null;
      answered++;
      onOutcome(m);
      next();
    });
    worker.on('error', (error) => {
      death = `seed pool worker died: ${error.stack ?? String(error)}`;
    });
    worker.on('exit', (code) => {
      if (finished) return;
      finished = true;
      if (code !== 0 && !death) death = `seed pool worker exited with code ${code}`;
      if (current !== null) {
        answered++;
        onOutcome({ seed: current, error: death || 'seed pool worker exited mid-seed' });
      }
      resolve({ answered, death });
    });
  });
}

/** The worker module; on TypeScript sources (tests, `--conditions=holdfast-src`) it loads through tsx. */
function startWorker(setup: SeedPoolSetup): Worker {
  const ts = import.meta.url.endsWith('.ts');
  const url = new URL(`./seed-pool-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
  if (!ts) return new Worker(url, { workerData: setup });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData: setup });
}
