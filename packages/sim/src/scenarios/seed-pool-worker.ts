/**
 * One worker of a seed pool (seed-pool.ts): asks for a seed, runs it exactly
 * as it would run alone, answers with the whole result (or the simulator's
 * own crash, as text), and asks again until told there are no more.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runScenario } from './run-scenario.js';
import type { SeedPoolRequest, SeedPoolSetup } from './seed-pool.js';

const port = parentPort;
if (!port) throw new Error('seed-pool-worker runs as a worker thread only');
const setup = workerData as SeedPoolSetup;
port.on('message', async (request: SeedPoolRequest) => {
  if (request.seed === null) {
    port.close();
    return;
  }
  const seed = request.seed;
  try {
    const result = await runScenario(setup.scenario, seed, setup.options);
    port.postMessage({ seed, result });
  } catch (error) {
    port.postMessage({ seed, error: (error as Error).stack ?? String(error) });
  }
});
port.postMessage({ ready: true });
