import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../args.js';
import { MAX_PG_PROCESSES, PG_PROCESSES } from '../bench/postgres-ingest-bench.js';
import { BENCH_HELP, parsePgProcesses } from './bench-command.js';

describe('bench --pg-processes', () => {
  it('defaults to the figure’s process count and keeps the order given', () => {
    assert.deepEqual(parsePgProcesses(undefined), [PG_PROCESSES]);
    assert.deepEqual(parsePgProcesses('1,2,4'), [1, 2, 4]);
    assert.deepEqual(parsePgProcesses(' 4 , 1 '), [4, 1]);
    assert.deepEqual(parsePgProcesses(String(MAX_PG_PROCESSES)), [MAX_PG_PROCESSES]);
  });

  it('refuses counts that are not whole numbers in range, or repeated, naming the value', () => {
    for (const bad of ['0', String(MAX_PG_PROCESSES + 1), '2.5', '-1', 'two', '1,,2', '']) {
      assert.throws(() => parsePgProcesses(bad), UsageError, bad);
    }
    assert.throws(() => parsePgProcesses('2.5'), /--pg-processes .*got "2\.5"/);
    assert.throws(() => parsePgProcesses('2,4,2'), /names 2 twice/);
  });

  it('is in the help', () => {
    assert.match(BENCH_HELP, /--pg-processes LIST/);
  });
});
