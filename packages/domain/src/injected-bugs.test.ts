import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  BUG_INJECTION_ENV,
  bugInjectionAllowed,
  INJECTABLE_BUGS,
  injectedBugs,
  NO_INJECTED_BUGS,
} from './injected-bugs.js';

describe('injected bugs', () => {
  it('are inert in an ordinary process: never active, and cannot be switched on', () => {
    assert.equal(process.env[BUG_INJECTION_ENV], undefined, 'the test runner must not set the variable');
    assert.equal(bugInjectionAllowed(), false);
    for (const bug of Object.keys(INJECTABLE_BUGS) as (keyof typeof INJECTABLE_BUGS)[]) {
      assert.throws(() => injectedBugs([bug]), /HOLDFAST_INJECT_BUGS=1/);
      assert.equal(NO_INJECTED_BUGS.has(bug), false);
    }
  });

  it('can be switched on in a process started with the variable, and only by known name', () => {
    // This file runs from source (tsx) or compiled (npm test): the child loads the module the same way.
    const fromSource = import.meta.url.endsWith('.ts');
    const module = fileURLToPath(new URL(fromSource ? './injected-bugs.ts' : './injected-bugs.js', import.meta.url));
    const script = `
      const m = await import(${JSON.stringify(module)});
      const before = m.NO_INJECTED_BUGS.has('dedupe-disabled');
      const bugs = m.injectedBugs(['dedupe-disabled']);
      let unknown = 'accepted';
      try { m.injectedBugs(['no-such-bug']); } catch (e) { unknown = e.message; }
      console.log(JSON.stringify({ before, after: bugs.has('dedupe-disabled'), other: bugs.has('results-not-stored'), unknown }));`;
    const run = spawnSync(
      process.execPath,
      [...(fromSource ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script],
      {
        env: { ...process.env, [BUG_INJECTION_ENV]: '1' },
        encoding: 'utf8',
      },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim()), {
      before: false,
      after: true,
      other: false,
      unknown: 'no injectable bug "no-such-bug"',
    });
  });
});
