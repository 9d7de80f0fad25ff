/**
 * `holdfast simulate` as a user runs it (real processes): one scenario and
 * seed with --json, a seed campaign (in one process and sharded), --list,
 * usage errors that name the flag — and the proof that the simulator bites:
 * with each deliberate bug of production code switched on
 * (HOLDFAST_INJECT_BUGS=1 --inject-bug), the run fails on the rule that bug
 * breaks and prints a replay command that carries the bug.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI_BIN, childNodeFlags } from '../cli-process.js';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));

function holdfast(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childNodeFlags(), CLI_BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('holdfast simulate', () => {
  it('runs one scenario and seed: --json carries the result and the figures', async () => {
    const r = await holdfast(['simulate', '--scenario', 'lte-outage', '--seed', '3', '--small', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const field of [
      'scenario',
      'seed',
      'ok',
      'violations',
      'recorded',
      'applied',
      'duplicatesApplied',
      'lost',
      'drainSeconds',
    ]) {
      assert.ok(field in result, `--json has ${field}`);
    }
    assert.equal(result.scenario, 'lte-outage');
    assert.equal(result.seed, 3);
    assert.equal(result.ok, true);
    assert.deepEqual(result.violations, []);
    assert.ok((result.recorded as number) > 0 && result.applied === result.recorded);
    assert.equal(result.replay, 'holdfast simulate --scenario lte-outage --seed 3 --small');
    const figures = result.figures as Record<string, unknown>;
    for (const figure of ['ops', 'retries', 'maxQueueDepth', 'drainSeconds', 'peakServerLoad', 'crashes']) {
      assert.ok(figure in figures, `figures.${figure}`);
    }
  });

  it('runs a seed campaign across scenarios, in one process and sharded over two', async () => {
    const [one, two] = await Promise.all([
      holdfast(['simulate', '--seeds', '1..4', '--json']),
      holdfast(['simulate', '--seeds', '1..4', '--jobs', '2', '--json']),
    ]);
    for (const r of [one, two]) {
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as {
        runs: number;
        failed: number;
        byScenario: Record<string, { runs: number }>;
      };
      assert.equal(summary.runs, 4);
      assert.equal(summary.failed, 0);
      assert.equal(
        Object.values(summary.byScenario).reduce((s, x) => s + x.runs, 0),
        4,
      );
    }
    const a = JSON.parse(one.stdout) as { byScenario: Record<string, { ops: number }> };
    const b = JSON.parse(two.stdout) as { byScenario: Record<string, { ops: number }> };
    const ops = (x: typeof a) => Object.fromEntries(Object.entries(x.byScenario).map(([k, v]) => [k, v.ops]));
    assert.deepEqual(ops(b), ops(a), 'sharding changes nothing about a seed');
  });

  it('lists the scenarios, and refuses bad flags by name', async () => {
    const [list, unknown, range, param, bug, none] = await Promise.all([
      holdfast(['simulate', '--list']),
      holdfast(['simulate', '--scenario', 'moon-landing']),
      holdfast(['simulate', '--seeds', '9..3']),
      holdfast(['simulate', '--scenario', 'lte-outage', '--set', 'warpFactor=9']),
      holdfast(['simulate', '--scenario', 'lte-outage', '--inject-bug', 'dedupe-disabled'], {
        HOLDFAST_INJECT_BUGS: '',
      }),
      holdfast(['simulate']),
    ]);
    assert.equal(list.code, 0);
    for (const name of [
      'stadium-partial-partition',
      'lte-outage',
      'festival-3-day',
      'latam-intermittent',
      'mass-reconnect',
      'random',
    ]) {
      assert.match(list.stdout, new RegExp(name));
    }
    assert.match(list.stdout, /outageMinutes\s+45/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--scenario must be one of .*got "moon-landing"/);
    assert.equal(range.code, 2);
    assert.match(range.stderr, /--seeds must be A\.\.B with A <= B/);
    assert.equal(param.code, 2);
    assert.match(param.stderr, /lte-outage has no parameter "warpFactor"/);
    assert.equal(bug.code, 2);
    assert.match(bug.stderr, /--inject-bug needs a process started with HOLDFAST_INJECT_BUGS=1/);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--scenario \(or --seeds, or --list\) is required/);
  });

  it('catches every deliberate bug of production code, on the rule it breaks, with a replay command', async () => {
    const cases = [
      { bug: 'dedupe-disabled', scenario: 'lte-outage', seed: '1', rule: 'applied-once' },
      { bug: 'results-not-stored', scenario: 'lte-outage', seed: '1', rule: 'result-changed' },
      // A terminal that restarts asks the server for its head and re-sends what the server lacks, so an
      // answer sent before its commit no longer ends as a lost op: the re-sent op gets another answer.
      { bug: 'commit-after-ack', scenario: 'lte-outage', seed: '7', rule: 'result-changed' },
      { bug: 'seq-reuse-after-crash', scenario: 'stadium-partial-partition', seed: '1', rule: 'recorded-durable' },
      { bug: 'timeout-is-failure', scenario: 'lte-outage', seed: '1', rule: 'dead-letter' },
      // Card payments: a second charge after a lost answer; a decline nobody is told of.
      { bug: 'forward-fresh-key', scenario: 'lte-outage', seed: '1', rule: 'forwarded-once', also: 'double-charge' },
      { bug: 'decline-without-exception', scenario: 'lte-outage', seed: '1', rule: 'decline-surfaced' },
    ];
    const runs = await Promise.all(
      cases.map((c) =>
        holdfast(['simulate', '--scenario', c.scenario, '--seed', c.seed, '--small', '--inject-bug', c.bug, '--json'], {
          HOLDFAST_INJECT_BUGS: '1',
        }),
      ),
    );
    for (const [i, c] of cases.entries()) {
      const r = runs[i];
      assert.ok(r);
      assert.equal(r.code, 1, `${c.bug}: exit 1\n${r.stderr}`);
      const result = JSON.parse(r.stdout) as {
        ok: boolean;
        violations: { rule: string; explanation?: string }[];
        replay: string;
      };
      assert.equal(result.ok, false);
      const rules = new Set(result.violations.map((v) => v.rule));
      assert.ok(rules.has(c.rule), `${c.bug} is caught as ${c.rule} (got ${[...rules].join(', ')})`);
      if (c.also) assert.ok(rules.has(c.also), `${c.bug} is also caught as ${c.also}`);
      assert.equal(
        result.replay,
        `HOLDFAST_INJECT_BUGS=1 holdfast simulate --scenario ${c.scenario} --seed ${c.seed} --small --inject-bug ${c.bug}`,
      );
      assert.match(result.violations[0]?.explanation ?? '', /replay: HOLDFAST_INJECT_BUGS=1 holdfast simulate/);
    }
  });

  it('a failing campaign exits 1 and lists each failing seed with the command that replays it', async () => {
    const r = await holdfast(
      [
        'simulate',
        '--scenario',
        'lte-outage',
        '--small',
        '--seeds',
        '1..3',
        '--jobs',
        '2',
        '--inject-bug',
        'dedupe-disabled',
      ],
      { HOLDFAST_INJECT_BUGS: '1' },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /3 runs in .* 3 FAILED/);
    for (const seed of [1, 2, 3]) {
      assert.match(
        r.stdout,
        new RegExp(
          `HOLDFAST_INJECT_BUGS=1 holdfast simulate --scenario lte-outage --seed ${seed} --small --inject-bug dedupe-disabled`,
        ),
      );
    }
  });
});
