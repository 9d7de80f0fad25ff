// Runs test files with node:test's run() in exactly the order given (the
// `node --test` command line sorts its files by path, which would undo
// run-tests.mjs's longest-first order), N at a time, each in its own process
// started with this process's node flags (run-tests.mjs starts this script
// with the tsx loader flags, or with --enable-source-maps for the compiled
// files). Reports: spec to stdout, TAP to a file, and optionally the seconds
// per file (test-durations-reporter.mjs) to another.
//
//   node --conditions=holdfast-src --import tsx scripts/run-files.mjs CONCURRENCY TAP_FILE DURATIONS_FILE|- FILE...
//   node --enable-source-maps scripts/run-files.mjs CONCURRENCY TAP_FILE DURATIONS_FILE|- FILE.js...
import { createWriteStream } from 'node:fs';
import { PassThrough, pipeline } from 'node:stream';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import durations from './test-durations-reporter.mjs';

const [concurrency, tapFile, durationsFile, ...files] = process.argv.slice(2);
const stream = run({ files, concurrency: Number(concurrency) });
const outputs = [];
const report = (reporter, destination) => {
  const input = new PassThrough({ objectMode: true });
  outputs.push(input);
  pipeline(input, reporter, destination, (error) => {
    if (error) {
      console.error(error);
      process.exitCode = 1;
    }
  });
};
report(
  new spec(),
  new PassThrough().on('data', (chunk) => process.stdout.write(chunk)),
);
report(tap, createWriteStream(tapFile));
if (durationsFile !== '-') report(durations, createWriteStream(durationsFile));
stream.on('data', (event) => {
  for (const out of outputs) out.write(event);
});
stream.on('end', () => {
  for (const out of outputs) out.end();
});
