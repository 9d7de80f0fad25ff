/**
 * The real-process chaos test: `holdfast chaos`'s engine with three real
 * till processes and a real server behind the fault proxy, for a bounded
 * window. Every invariant is checked by the engine (chaos/chaos-check.ts);
 * this test also asserts the chaos really happened: every proxy fault kind
 * applied, tills and the server SIGKILLed more than once, and the server
 * answering duplicates (batches it had committed came again).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROXY_FAULTS } from '@holdfast/sim';
import { randomSeed, runChaos } from './chaos/chaos-run.js';

test('real tills and server through drops, delays, cut answers, blackholes and SIGKILLs: exactly once', {
  timeout: 420_000,
}, async (t) => {
  // Every run's invariants are checked. A seed whose faults cut almost no answer may see no committed
  // batch come again (seed 258510049: one answer cut in 108 requests), so the duplicate path went
  // unexercised: then another seed runs, three at most.
  const seeds: number[] = [];
  let duplicates = 0;
  while (duplicates === 0 && seeds.length < 3) {
    const seed = randomSeed();
    seeds.push(seed);
    const report = await runChaos({ terminals: 3, seconds: 40, seed, salesPerTill: 100 });
    for (const line of report.timeline) t.diagnostic(line);
    const { proxy, kills, totals } = report;
    t.diagnostic(`seed ${seed}: ${JSON.stringify({ kills, proxy, duplicates: report.duplicatesAnswered, totals })}`);

    assert.deepEqual(report.violations, [], `seed ${seed}: data kept in ${report.dataDir}`);
    assert.equal(totals.sales, 300);
    assert.equal(totals.onServer, totals.recorded);
    for (const fault of PROXY_FAULTS) {
      assert.ok(proxy.faults[fault] >= 1, `seed ${seed}: no request met ${fault}: ${JSON.stringify(proxy.faults)}`);
    }
    assert.ok(kills.till >= 2 && kills.server >= 2, `seed ${seed}: kills ${JSON.stringify(kills)}`);
    assert.ok(report.snapshots > 0, `seed ${seed}: no stored result was snapshotted`);
    duplicates = report.duplicatesAnswered;
  }
  assert.ok(duplicates > 0, `seeds ${seeds.join(', ')}: the server never answered duplicate`);
});
