/**
 * The seed pool (seed-pool.ts) runs each seed exactly as it runs alone: the
 * same seeds on two worker threads give the results a plain in-process loop
 * gives (everything but wall time), and a seed the simulator cannot run is
 * reported as that seed's failure, never skipped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScenario, type ScenarioResult } from './run-scenario.js';
import { runSeedPool, type SeedPoolOutcome } from './seed-pool.js';

const withoutWallTime = ({ wallSeconds: _w, ...rest }: ScenarioResult) => rest;

describe('runSeedPool', () => {
  it('gives every seed the result it has when run alone, whatever the number of jobs', async () => {
    const seeds = [1, 2];
    const pooled: SeedPoolOutcome[] = [];
    await runSeedPool({ scenario: 'random', seeds, jobs: 2, options: { explain: 1 } }, (o) => pooled.push(o));
    assert.deepEqual(pooled.map((o) => o.seed).sort(), seeds);
    for (const seed of seeds) {
      const alone = await runScenario('random', seed, { explain: 1 });
      const outcome = pooled.find((o) => o.seed === seed);
      assert.ok(
        outcome && 'result' in outcome,
        `seed ${seed} ran: ${outcome && 'error' in outcome ? outcome.error : ''}`,
      );
      assert.deepEqual(withoutWallTime(outcome.result), withoutWallTime(alone), `seed ${seed}`);
    }
  });

  it("reports a seed the simulator cannot run as that seed's error, and goes on with the rest", async () => {
    const outcomes: SeedPoolOutcome[] = [];
    await runSeedPool({ scenario: 'no-such-scenario', seeds: [7, 8, 9], jobs: 2, options: {} }, (o) =>
      outcomes.push(o),
    );
    assert.deepEqual(outcomes.map((o) => o.seed).sort(), [7, 8, 9]);
    for (const o of outcomes) {
      assert.ok('error' in o, `seed ${o.seed} failed`);
      assert.match(o.error, /no-such-scenario/);
    }
  });
});
