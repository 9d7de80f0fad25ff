#!/usr/bin/env node
// Runs every test file with Node's test runner on TypeScript sources (tsx),
// resolving workspace packages to their src/ through the `holdfast-src`
// export condition, and ends with one plain line: "N passed, N failed".
//
//   node scripts/run-tests.mjs                 all tests
//   node scripts/run-tests.mjs server journal  only files whose path contains a word
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
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
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

const out = mkdtempSync(join(tmpdir(), 'holdfast-tests-'));
const tap = join(out, 'results.tap');
const record = process.env.HOLDFAST_RECORD_TEST_DURATIONS === '1';
const durationsReport = join(out, 'durations.json');
// run-files.mjs calls node:test's run() (the `--test` command line would sort the files by path).
const args = [
  '--conditions=holdfast-src',
  '--import',
  'tsx',
  join(root, 'scripts', 'run-files.mjs'),
  String(process.env.TEST_CONCURRENCY ?? 2),
  tap,
  record ? durationsReport : '-',
  ...files,
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
  for (const [path, s] of Object.entries(perFile)) merged[relative(root, path)] = s;
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
