/**
 * The chaos schedule: one seed, one plan; every fault mode played between
 * spells of pass; the promised kills, inside the window, in time order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { FAULT_MODES, planChaos, serverKillsFor, tillKillsFor } from './chaos-plan.js';

describe('planChaos', () => {
  const plan = (seed: number, seconds = 40, terminals = 3) => planChaos(new SeededRandom(seed), { seconds, terminals });

  it('is the same plan for the same seed, another for another', () => {
    assert.deepEqual(plan(7), plan(7));
    assert.notDeepEqual(plan(7), plan(8));
  });

  for (const seconds of [10, 40, 60, 300]) {
    it(`${seconds} s: kills as promised, modes alternate with pass, all in order inside the window`, () => {
      for (let seed = 0; seed < 50; seed++) {
        const steps = plan(seed, seconds);
        const kinds = (kind: string) => steps.filter((s) => s.action.kind === kind);
        assert.equal(kinds('kill-till').length, tillKillsFor(seconds));
        assert.equal(kinds('kill-server').length, serverKillsFor(seconds));
        assert.ok(tillKillsFor(seconds) >= 2 && serverKillsFor(seconds) >= 2);
        assert.ok(kinds('kill-server').some((s) => s.action.kind === 'kill-server' && s.action.onBatch));
        for (const step of kinds('kill-till')) assert.ok(step.action.kind === 'kill-till' && step.action.till < 3);
        assert.deepEqual(
          steps.map((s) => s.atMs),
          steps.map((s) => s.atMs).sort((a, b) => a - b),
        );
        assert.ok(steps.every((s) => s.atMs >= 0 && s.atMs < seconds * 1000));
        const modes = kinds('mode').map((s) => (s.action.kind === 'mode' ? s.action.mode : ''));
        assert.deepEqual(
          modes.map((mode) => mode === 'pass'),
          modes.map((_, i) => i % 2 === 1),
          `fault and pass alternate: ${modes}`,
        );
        if (seconds >= 40) for (const mode of FAULT_MODES) assert.ok(modes.includes(mode), `${mode} in ${modes}`);
      }
    });
  }
});
