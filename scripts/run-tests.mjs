#!/usr/bin/env node
// Runs every test file with Node's test runner on TypeScript sources (tsx),
// resolving workspace packages to their src/ through the `holdfast-src`
// export condition, and ends with one plain line: "N passed, N failed".
//
//   node scripts/run-tests.mjs                 all tests
//   node scripts/run-tests.mjs server journal  only files whose path contains a word
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

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
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const tap = join(mkdtempSync(join(tmpdir(), 'holdfast-tests-')), 'results.tap');
const args = [
  '--conditions=holdfast-src',
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tap}`,
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
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
});
