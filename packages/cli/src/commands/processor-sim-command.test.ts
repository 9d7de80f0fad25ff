/**
 * `holdfast processor-sim` as a real process: it starts, answers over
 * HTTP with the key it wrote, closes on SIGTERM, keeps its records for the
 * next start, and names bad flags.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProcessorClient } from '@holdfast/processor-client';
import { CliProcess } from '../cli-process.js';
import { latencyFlag } from './processor-sim-command.js';

const START_TIMEOUT_MS = 60_000;
const dirs: string[] = [];
after(async () => {
  await CliProcess.killAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-processor-cli-'));
  dirs.push(dir);
  return join(dir, 'data');
}

/** Starts the command on a free port and waits for its "listening" line; returns the process and its URL. */
async function startSim(name: string, args: string[]): Promise<{ sim: CliProcess; url: string }> {
  const sim = CliProcess.start(name, ['processor-sim', '--port', '0', ...args]);
  const listening = () => sim.events.find((e) => e.msg === 'processor-sim listening');
  await sim.waitFor('its listening line', () => listening() !== undefined, START_TIMEOUT_MS);
  return { sim, url: String(listening()?.url) };
}

const request = {
  merchant: 'bar-3',
  amount: 650,
  currency: 'EUR',
  card: { token: 'tok_cli', brand: 'mastercard', last4: '5454' },
  capture: true as const,
  reference: 'op-cli-1',
  offline: true,
};

describe('holdfast processor-sim', () => {
  it('runs as a process, answers with its key file, stops on SIGTERM and keeps its records', async () => {
    const dataDir = tempDir();
    const first = await startSim('processor-sim#1', ['--data', dataDir, '--seed', '7', '--latency-ms', '0..3']);
    const listening = first.sim.events.find((e) => e.msg === 'processor-sim listening');
    assert.equal(listening?.seed, 7);
    const apiKey = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    assert.equal(first.sim.lines.join('\n').includes(apiKey), false, 'the key is not logged');
    const client = new ProcessorClient(first.url, { apiKey, timeoutMs: 10_000 });
    const answer = await client.authorize('op-cli-1', request);
    assert.equal(answer.replayed, false);
    assert.equal(answer.authorization.status, 'approved');
    assert.equal(answer.authorization.offline, true);
    const unauthorized = await fetch(`${first.url}/v1/stats`);
    assert.equal(unauthorized.status, 401);
    assert.deepEqual(await first.sim.kill('SIGTERM'), { code: 0, signal: null });

    const second = await startSim('processor-sim#2', ['--data', dataDir]);
    const again = new ProcessorClient(second.url, { apiKey, timeoutMs: 10_000 });
    const replay = await again.authorize('op-cli-1', request);
    assert.equal(replay.replayed, true);
    assert.deepEqual(replay.authorization, answer.authorization);
    assert.equal((await again.stats()).authorizations, 1);
    assert.deepEqual(await second.sim.kill('SIGINT'), { code: 0, signal: null });
  });

  it('names bad flags and exits 2 before starting anything', async () => {
    const cases: [string[], RegExp][] = [
      [['--decline-rate', '2'], /--decline-rate must be a number from 0 to 1, got "2"/],
      [['--outage-rate', 'often'], /--outage-rate must be a number from 0 to 1/],
      [['--latency-ms', '50..10'], /--latency-ms must be A\.\.B/],
      [['--timeout-mode', 'explode'], /--timeout-mode must be hang or destroy/],
      [['--api-key', 'short'], /--api-key must be at least 16 characters/],
      [['--seed', '-1'], /--seed/],
    ];
    const runs = cases.map(([args]) => CliProcess.start(`processor-sim ${args.join(' ')}`, ['processor-sim', ...args]));
    const help = CliProcess.start('processor-sim --help', ['processor-sim', '--help']);
    for (const [i, [args, message]] of cases.entries()) {
      const run = runs[i] as CliProcess;
      const exit = await run.exited;
      assert.equal(exit.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    assert.equal((await help.exited).code, 0);
    assert.match(help.lines.join('\n'), /--timeout-after-commit-rate R/);
  });

  it('reads --latency-ms as a range or one number', () => {
    assert.deepEqual(latencyFlag('20..200'), [20, 200]);
    assert.deepEqual(latencyFlag('50'), [50, 50]);
    assert.throws(() => latencyFlag('1..2..3'), /--latency-ms/);
  });
});
