#!/usr/bin/env node
// CPU seconds per simulator seed, in one process, from the built packages
// (run `npx tsc -b packages/cli` first). On a shared machine wall time says
// more about the neighbours than about the simulator; the CPU a seed costs
// carries over (docs/performance.md, "Simulator").
//
//   node scripts/sim-cpu-per-seed.mjs 1..10              random seeds 1 to 10
//   node scripts/sim-cpu-per-seed.mjs 1..10 /tmp/base    the same, from another built checkout
//
// One warm-up seed (1000) runs first and is not counted. Prints one line:
// the total, the mean per seed, and each seed as seed:scenario:seconds
// (`!FAIL` after a seed with violations).
import { pathToFileURL } from 'node:url';

const [range = '1..10', root = new URL('..', import.meta.url).pathname] = process.argv.slice(2);
const [from, to] = range.split('..').map(Number);
if (!Number.isInteger(from) || !Number.isInteger(to) || to < from) {
  console.error('usage: node scripts/sim-cpu-per-seed.mjs A..B [checkout]');
  process.exit(2);
}
const { runScenario } = await import(pathToFileURL(`${root}/packages/sim/dist/scenarios/run-scenario.js`).href);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
await runScenario('random', 1000, {});
const seeds = [];
let total = 0;
for (let seed = from; seed <= to; seed++) {
  const before = cpu();
  const result = await runScenario('random', seed, {});
  const seconds = cpu() - before;
  total += seconds;
  seeds.push(`${seed}:${result.variant}:${seconds.toFixed(2)}${result.ok ? '' : '!FAIL'}`);
}
const n = to - from + 1;
console.log(`${root}: ${total.toFixed(1)} s CPU for ${n} seeds, ${(total / n).toFixed(3)} s/seed | ${seeds.join(' ')}`);
