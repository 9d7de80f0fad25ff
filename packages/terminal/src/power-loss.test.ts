/**
 * Power loss at every crash point of every kind of journal write: recording,
 * logging an attempt, settling an answer. After each cut the directory is
 * opened again, the network heals, and nothing the app saw recorded may be
 * lost or applied twice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimulatedCrashError } from './errors.js';
import type { CrashPoint } from './journal.js';
import { cashSale, createHarness, openTill } from './testing/harness.js';

const POINTS: CrashPoint[] = [
  'record:before-commit',
  'record:after-commit',
  'attempt-start:before-commit',
  'attempt-start:after-commit',
  'settle:before-commit',
  'settle:after-commit',
  'attempt-end:before-commit',
  'attempt-end:after-commit',
];

describe('power loss at a journal write', () => {
  for (const point of POINTS) {
    test(`at ${point}: reopen, drain, every op the app saw is applied exactly once`, async () => {
      const h = await createHarness({ autoSync: false });
      try {
        openTill(h.terminal);
        const seen: string[] = [];
        for (let i = 1; i <= 3; i++) seen.push(h.terminal.recordSale(cashSale(i)).id);
        await h.terminal.syncNow();
        for (let i = 4; i <= 5; i++) seen.push(h.terminal.recordSale(cashSale(i)).id);

        // Cut the power at the first time this point is reached.
        let cut = false;
        const hook = (p: CrashPoint) => {
          if (cut || p !== point) return false;
          cut = true;
          return true;
        };
        const crashing = await h.reopen({ crashHook: hook, autoSync: false });
        let lost: string | null = null;
        try {
          if (point.startsWith('record')) {
            // The app never sees this record return.
            crashing.recordSale(cashSale(9));
          } else {
            await crashing.syncNow();
          }
        } catch (error) {
          assert.ok(error instanceof SimulatedCrashError, `unexpected ${String(error)}`);
          lost = point;
        }
        assert.ok(cut, `the crash point ${point} was reached`);
        assert.ok(crashing.closed, 'the terminal died with its journal');
        if (point.startsWith('record')) assert.equal(lost, point, 'the record call never returned');

        // Recover: a new process opens the same directory, without the hook.
        const recovered = await h.reopen({ autoSync: false });
        const journal = recovered.ops({ limit: 1000 });
        const ids = new Set(journal.map((op) => op.id));
        for (const id of seen) assert.ok(ids.has(id), `op ${id} the app saw recorded survived`);
        if (point === 'record:before-commit')
          assert.equal(journal.length, seen.length + 1, 'the cut record rolled back');
        if (point === 'record:after-commit') assert.equal(journal.length, seen.length + 2, 'the cut record committed');
        const seqs = journal.map((op) => op.seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: seqs.length }, (_, i) => i + 1),
          'no seq gap or reuse',
        );

        for (let i = 0; i < 5 && recovered.status().pending > 0; i++) await recovered.syncNow();
        const status = recovered.status();
        assert.equal(status.pending, 0);
        assert.equal(status.deadLetters, 0);
        const stored = h.server.storedOps(recovered.deviceId as string);
        assert.equal(stored.length, journal.length, 'the server holds every journal op');
        for (const op of journal) assert.equal(h.server.timesApplied(op.id), 1, `op ${op.seq} applied exactly once`);
      } finally {
        await h.cleanup();
      }
    });
  }

  test('a killed terminal abandons its request in flight and writes nothing more', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      const id = h.terminal.recordSale(cashSale(2)).id;
      h.net.next({ type: 'delay', ms: 5_000 });
      const inFlight = h.terminal.syncNow();
      await h.clock.tick(1_000);
      assert.equal(h.net.log.filter((r) => r.route === 'sendBatch').length, 1, 'the batch is in flight');
      h.terminal.kill();
      await h.clock.tick(10_000);
      await inFlight.catch(() => undefined);
      assert.ok(h.terminal.closed);
      assert.equal(h.server.timesApplied(id), 1, 'the server applied it; the dead terminal never heard');
      const recovered = await h.reopen({ autoSync: false });
      assert.equal(recovered.opState(id), 'pending', 'the answer to the abandoned request was never applied');
      await recovered.syncNow();
      assert.equal(recovered.opState(id), 'confirmed');
      assert.equal(h.server.timesApplied(id), 1);
    } finally {
      await h.cleanup();
    }
  });
});
