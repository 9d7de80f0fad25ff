#!/usr/bin/env node
// Runs every test file with Node's test runner and ends with one plain line:
// "N passed, N failed".
//
//   node scripts/run-tests.mjs                 all tests, on the TypeScript sources
//   node scripts/run-tests.mjs server journal  only files whose path contains a word
//   node scripts/run-tests.mjs --built [word…] the same files, compiled (what `npm test` runs)
//
// On sources (the default, for developers: no build needed), each file runs
// through tsx, workspace packages resolved to their src/ through the
// `holdfast-src` export condition. With --built, each packages/P/src/X.test.ts
// runs as the packages/P/dist/X.test.js that `npm run build` compiled (tsc
// puts the tests in dist beside the code), on plain node with
// --enable-source-maps: no process transpiles TypeScript at start (tsx costs
// ~0.5 s of CPU per process, ~2–3 s for one importing the server and CLI),
// and stack traces still point at the .ts lines. A test file with no compiled
// twin (packages/web is only typechecked) is bundled by esbuild into
// packages/P/dist/tests/. --built refuses a stale build: a package with a
// source newer than its dist/.tsbuildinfo (run `npm run build`).
//
// Files start longest first (by the durations in scripts/test-durations.json;
// a file not listed there counts as DEFAULT_SECONDS), so the slow ones do
// not start last and leave one slot working alone at the end. The files run
// through run-files.mjs (node:test's run(), which keeps the order given;
// `node --test FILE…` sorts its files by path).
// HOLDFAST_RECORD_TEST_DURATIONS=1 writes the durations of the files that
// ran back into that list (do it after a full run on a quiet machine).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const built = process.argv.includes('--built');
const filters = process.argv.slice(2).filter((a) => a !== '--built');
const DURATIONS = join(root, 'scripts', 'test-durations.json');
const DEFAULT_SECONDS = 10;

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = walk(join(root, 'packages'), [])
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();
const known = readDurations();
const estimate = (f) => known[f] ?? DEFAULT_SECONDS;
// Longest first; equal estimates keep path order, so the order is the same on every run.
files.sort((a, b) => estimate(b) - estimate(a) || (a < b ? -1 : a > b ? 1 : 0));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (built) {
  const stale = staleBuilds();
  if (stale.length > 0) {
    console.error(`--built: ${stale.join('; ')}: run \`npm run build\` first`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}
/** The file each test runs as (compiled with --built) → its source, relative to the root. */
const sources = new Map();
const runFiles = built ? await compiledTests(files) : files;
for (const [i, f] of runFiles.entries()) sources.set(resolve(root, f), files[i]);

const out = mkdtempSync(join(tmpdir(), 'holdfast-tests-'));
const tap = join(out, 'results.tap');
const record = process.env.HOLDFAST_RECORD_TEST_DURATIONS === '1';
const durationsReport = join(out, 'durations.json');
// run-files.mjs calls node:test's run() (the `--test` command line would sort the files by path).
// Each file's process gets this process's node flags (node:test's run() passes execArgv on).
const nodeFlags = built ? ['--enable-source-maps'] : ['--conditions=holdfast-src', '--import', 'tsx'];
const args = [
  ...nodeFlags,
  join(root, 'scripts', 'run-files.mjs'),
  String(process.env.TEST_CONCURRENCY ?? 2),
  tap,
  record ? durationsReport : '-',
  ...runFiles,
];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => {
  let passed = 0;
  let failed = 0;
  try {
    const text = readFileSync(tap, 'utf8');
    passed = Number(/^# pass (\d+)$/m.exec(text)?.[1] ?? 0);
    failed = Number(/^# fail (\d+)$/m.exec(text)?.[1] ?? 0);
    const cancelled = Number(/^# cancelled (\d+)$/m.exec(text)?.[1] ?? 0);
    failed += cancelled;
  } catch {
    failed = 1;
  }
  if ((code !== 0 || signal) && failed === 0) failed = 1;
  if (record) recordDurations(durationsReport);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
});

/** { file: seconds } from scripts/test-durations.json (empty when missing or unreadable: order by path). */
function readDurations() {
  try {
    const seconds = JSON.parse(readFileSync(DURATIONS, 'utf8')).seconds;
    return seconds && typeof seconds === 'object' ? seconds : {};
  } catch {
    return {};
  }
}

/**
 * Merges the seconds each file's top-level tests took (written by
 * test-durations-reporter.mjs) into scripts/test-durations.json; files that
 * no longer exist are dropped.
 */
function recordDurations(reportFile) {
  let perFile;
  try {
    perFile = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch {
    return;
  }
  const merged = { ...readDurations() };
  for (const [path, s] of Object.entries(perFile)) merged[sources.get(resolve(root, path)) ?? relative(root, path)] = s;
  const seconds = {};
  for (const [file, s] of Object.entries(merged).sort((a, b) => b[1] - a[1])) {
    if (existsSync(join(root, file))) seconds[file] = Math.round(s * 10) / 10;
  }
  const about =
    'Seconds per test file (its top-level tests) from a full run: HOLDFAST_RECORD_TEST_DURATIONS=1 npm test. ' +
    `scripts/run-tests.mjs starts the longest files first; unlisted files count as ${DEFAULT_SECONDS} s. ` +
    'Only the order depends on these figures.';
  writeFileSync(DURATIONS, `${JSON.stringify({ about, seconds }, null, 2)}\n`);
}

/** Packages whose build is older than one of their sources, as "packages/P (why)". */
function staleBuilds() {
  const stale = [];
  for (const name of readdirSync(join(root, 'packages'))) {
    const dir = join(root, 'packages', name);
    const tsconfig = join(dir, 'tsconfig.json');
    // Only packages tsc emits (composite); packages/web is typechecked, its tests are bundled below.
    if (!existsSync(tsconfig) || readFileSync(tsconfig, 'utf8').includes('"noEmit": true')) continue;
    const info = join(dir, 'dist', '.tsbuildinfo');
    if (!existsSync(info)) {
      stale.push(`packages/${name} is not built`);
      continue;
    }
    const builtAt = statSync(info).mtimeMs;
    const newer = newestSource(join(dir, 'src'), builtAt);
    if (newer) stale.push(`packages/${name}/${relative(dir, newer)} is newer than its build`);
  }
  return stale;
}

/** A .ts/.tsx file under dir modified after `since`, or undefined. */
function newestSource(dir, since) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) {
      const found = newestSource(path, since);
      if (found) return found;
    } else if (/\.tsx?$/.test(name) && stat.mtimeMs > since) return path;
  }
  return undefined;
}

/**
 * packages/P/src/X.test.ts → packages/P/dist/X.test.js (tsc's output, with its source map); a
 * file tsc does not emit is bundled by esbuild to packages/P/dist/tests/X.test.mjs (its own
 * imports bundled from source, packages left to node; inline source map).
 */
async function compiledTests(list) {
  const compiled = [];
  for (const file of list) {
    const match = /^(packages\/[^/]+)\/src\/(.+)\.test\.tsx?$/.exec(file);
    if (!match) throw new Error(`--built: ${file} is not under packages/*/src/`);
    const [, pkg, rest] = match;
    const js = `${pkg}/dist/${rest}.test.js`;
    if (existsSync(join(root, js))) {
      compiled.push(js);
      continue;
    }
    const bundle = `${pkg}/dist/tests/${rest}.test.mjs`;
    const { build } = await import('esbuild');
    await build({
      entryPoints: [join(root, file)],
      outfile: join(root, bundle),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'warning',
    });
    compiled.push(bundle);
  }
  return compiled;
}
