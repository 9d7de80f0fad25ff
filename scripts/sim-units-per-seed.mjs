#!/usr/bin/env node
// Units of work and CPU by phase per simulator seed, in one process, from the
// built packages (run `npx tsc -b packages/cli` first): what a seed's cost is
// made of (docs/performance.md, "Simulator", "Random seeds, round three").
//
//   node scripts/sim-units-per-seed.mjs 1..40              random seeds 1 to 40
//   node scripts/sim-units-per-seed.mjs 1..40 /tmp/base    the same, from another built checkout
//
// Counts Ed25519 signs and verifies, scrypt calls and key imports (node:crypto),
// SQLite transactions, prepares, pragmas and execs (better-sqlite3), and the
// server's answers by route (HoldfastService); times set-up (server start,
// back office, enrollment, the idle minutes before trading), play (trading and
// drain), the checker and close. One line of JSON per seed, then MEAN.
// The wrappers add a little CPU of their own: take the CPU from
// scripts/sim-cpu-per-seed.mjs, the counts and shares from here.
import crypto from 'node:crypto';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';

const [range = '1..10', root = new URL('..', import.meta.url).pathname] = process.argv.slice(2);
const [from, to] = range.split('..').map(Number);
if (!Number.isInteger(from) || !Number.isInteger(to) || to < from) {
  console.error('usage: node scripts/sim-units-per-seed.mjs A..B [checkout]');
  process.exit(2);
}
const counts = {};
const bump = (key, n = 1) => {
  counts[key] = (counts[key] ?? 0) + n;
};
const wrap = (object, name, key = name, extra = () => {}) => {
  const original = object[name];
  object[name] = function (...args) {
    bump(key);
    extra(args);
    return original.apply(this, args);
  };
};
for (const name of [
  'sign',
  'verify',
  'createPrivateKey',
  'createPublicKey',
  'generateKeyPairSync',
  'scrypt',
  'scryptSync',
]) {
  wrap(crypto, name);
}
syncBuiltinESMExports();
const Database = createRequire(`${root}/packages/server/package.json`)('better-sqlite3');
for (const name of ['prepare', 'exec', 'pragma', 'transaction']) wrap(Database.prototype, name, `db.${name}`);
const load = (path) => import(pathToFileURL(`${root}/packages/${path}`).href);
const { HoldfastService } = await load('server/dist/index.js');
for (const name of ['enroll', 'ingest', 'queryOps', 'fetchPolicy', 'fetchFeed', 'authorize', 'loyaltyAsk']) {
  wrap(HoldfastService.prototype, name, `srv.${name}`, (args) => {
    if (name === 'ingest') bump('srv.ingest.ops', args[0]?.ops?.length ?? 0);
  });
}
const { SimWorld } = await load('sim/dist/world/sim-world.js');
const { SimNetwork } = await load('sim/dist/sim-network.js');
const { runScenario } = await load('sim/dist/scenarios/run-scenario.js');
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let marks = {};
const run = SimWorld.prototype.run;
SimWorld.prototype.run = async function () {
  marks.start = cpu();
  await run.call(this);
  marks.played = cpu();
};
// The world resets the load figures once, when the fleet is enrolled and trading starts.
const resetLoad = SimNetwork.prototype.resetLoad;
SimNetwork.prototype.resetLoad = function () {
  marks.enrolled ??= cpu();
  return resetLoad.call(this);
};
const close = SimWorld.prototype.close;
SimWorld.prototype.close = async function () {
  marks.closing = cpu();
  await close.call(this);
  marks.closed = cpu();
};
await runScenario('random', 1000, {}); // warm-up, not counted
const sums = {};
for (let seed = from; seed <= to; seed++) {
  for (const key of Object.keys(counts)) delete counts[key];
  marks = {};
  const before = cpu();
  const result = await runScenario('random', seed, {});
  const round = (x) => Math.round(x * 1000) / 1000;
  const row = {
    seed,
    scenario: result.variant,
    terminals: result.figures.terminals,
    ops: result.recorded,
    requests: result.figures.network.requests,
    cpu: round(cpu() - before),
    setUp: round(marks.enrolled - marks.start),
    play: round(marks.played - marks.enrolled),
    check: round(marks.closing - marks.played),
    close: round(marks.closed - marks.closing),
    ...counts,
  };
  console.log(JSON.stringify(row));
  for (const [key, value] of Object.entries(row)) if (typeof value === 'number') sums[key] = (sums[key] ?? 0) + value;
}
const n = to - from + 1;
delete sums.seed;
console.log(
  'MEAN',
  JSON.stringify(Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round((v / n) * 1000) / 1000]))),
);
