/**
 * The CI seed campaign: at least 200 seeds of the `random` pseudo-scenario
 * (each seed picks a scenario and small parameters), every one green. The
 * campaign also proves its own reach: over all runs, every scenario ran,
 * every terminal crash point and both server crash points were hit, forks
 * were injected and flagged, the network lied in every way it can, and
 * card payments went through everything too: offline approvals, sales the
 * policy sent online, post-authorization declines, processor answers lost
 * after commit and found by key, processor outages, and forwarding rounds
 * cut by a server crash; and wristbands: sales, cash top-ups, payments the
 * terminal refused (outside the policy) and the clerk took in cash.
 * `npm run chaos -- --seeds 1..10000` is the long version of this.
 *
 * The seeds run on HOLDFAST_CI_JOBS worker threads (default 2, the CI
 * machine's cores); every seed runs exactly as alone, and everything below
 * is a sum over seeds, so the verdict does not depend on the job count.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TERMINAL_CRASH_POINTS } from './plan-kit.js';
import { SCENARIOS } from './registry.js';
import { runSeedPool } from './seed-pool.js';

const SEEDS = Number(process.env.HOLDFAST_CI_SEEDS ?? 200);
const JOBS = Number(process.env.HOLDFAST_CI_JOBS ?? 2);

describe('seed campaign', () => {
  it(`${SEEDS} random seeds across all scenarios are green`, async () => {
    const started = performance.now();
    const failures: string[] = [];
    const runs = new Map<string, number>();
    const crashes = new Map<string, number>();
    const coverage = {
      ops: 0,
      forks: 0,
      duplicatesAnswered: 0,
      responsesLost: 0,
      duplicated: 0,
      reordered: 0,
      refused: 0,
      lateAnswers: 0,
      cardsOffline: 0,
      cardsSentOnline: 0,
      postAuthDeclines: 0,
      processorAnswersLost: 0,
      recoveredByKey: 0,
      processorRefused: 0,
      forwardingCutByCrash: 0,
      wristbandSales: 0,
      wristbandTopUps: 0,
      wristbandsRefused: 0,
    };
    const seeds = Array.from({ length: SEEDS }, (_, i) => i + 1);
    await runSeedPool({ scenario: 'random', seeds, jobs: JOBS, options: { explain: 1 } }, (outcome) => {
      if ('error' in outcome) {
        failures.push(`holdfast simulate --scenario random --seed ${outcome.seed}\n${outcome.error}`);
        return;
      }
      const r = outcome.result;
      runs.set(r.variant, (runs.get(r.variant) ?? 0) + 1);
      if (!r.ok) failures.push(`${r.replay}\n${r.violations[0]?.explanation ?? ''}`);
      const f = r.figures;
      for (const [how, n] of Object.entries({ ...f.crashes.terminalBy, ...f.crashes.serverBy })) {
        crashes.set(how, (crashes.get(how) ?? 0) + n);
      }
      coverage.ops += r.recorded;
      coverage.forks += f.injected.reduce((s, x) => s + x.forks, 0);
      coverage.duplicatesAnswered += f.duplicatesAnswered;
      coverage.responsesLost += f.network.responsesLost;
      coverage.duplicated += f.network.duplicated;
      coverage.reordered += f.network.reordered;
      coverage.refused += f.network.refused;
      coverage.lateAnswers += f.network.lateAnswers;
      const c = f.cards;
      if (c) {
        coverage.cardsOffline += c.offlineApproved;
        coverage.cardsSentOnline += c.cashFallbacks + c.dropped;
        coverage.postAuthDeclines += c.postAuthDeclines;
        coverage.processorAnswersLost += c.processor.lostAnswers;
        coverage.recoveredByKey += c.forwarded.recovered;
        coverage.processorRefused += c.processor.refused;
        coverage.forwardingCutByCrash += c.roundsFailed;
        coverage.wristbandSales += c.wristbands.sales;
        coverage.wristbandTopUps += c.wristbands.topUps;
        coverage.wristbandsRefused += Object.values(c.wristbands.refused).reduce((a, b) => a + b, 0);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `seed campaign: ${SEEDS} seeds on ${JOBS} jobs in ${seconds.toFixed(1)} s (${Math.round((SEEDS / seconds) * 60)} seeds/minute);`,
      JSON.stringify({ runs: Object.fromEntries(runs), crashes: Object.fromEntries(crashes), ...coverage }),
    );
    assert.deepEqual(failures.sort(), [], `failing seeds:\n${failures.join('\n\n')}`);
    for (const s of SCENARIOS)
      assert.ok((runs.get(s.name) ?? 0) >= SEEDS / 10, `${s.name} ran ${runs.get(s.name)} times`);
    // The campaign reached the hard cases (meta writes are rare: enrollment only).
    for (const point of TERMINAL_CRASH_POINTS.filter((p) => !p.startsWith('meta'))) {
      assert.ok((crashes.get(point) ?? 0) > 0, `power was cut at ${point}`);
    }
    for (const how of ['kill', 'ingest:before-commit', 'ingest:after-commit'])
      assert.ok((crashes.get(how) ?? 0) > 0, how);
    for (const [what, n] of Object.entries(coverage)) assert.ok(n > 0, `${what}: ${n}`);
  });
});
