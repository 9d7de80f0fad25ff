/**
 * The journal finds pending ops by seq from a floor it keeps in memory, not
 * through an index on the state (journal-core.ts). Property: through any mix
 * of appends, confirmations, dead letters, requeues, revocations, rolled-back
 * transactions and reopenings, every read of pending ops answers exactly what
 * the ops' own states say (each op's state read one by one).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, test } from 'node:test';
import { NO_DECISION, uuidv7 } from '@holdfast/protocol';
import { Journal } from './journal.js';
import { tempDir } from './testing/harness.js';

const DEVICE = '01940000-0000-7000-8000-000000000002';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** mulberry32: a small seeded generator, so a failing case can be replayed by its seed. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

let ids = 0;
function append(journal: Journal): void {
  ids++;
  const at = 1_735_689_600_000 + ids;
  const random = new Uint8Array(10);
  new DataView(random.buffer).setUint32(6, ids);
  journal.append({
    id: uuidv7(at, random),
    device: DEVICE,
    kind: 'shift.opened',
    body: { clerk: `clerk-${ids}`, currency: 'EUR', openingFloat: ids },
    at,
    decision: NO_DECISION,
  });
}

/** The pending seqs, from each op's own state. */
function pendingByState(journal: Journal): number[] {
  const out: number[] = [];
  for (let seq = 1; seq <= journal.head.seq; seq++) if (journal.stateAt(seq)?.state === 'pending') out.push(seq);
  return out;
}

function check(journal: Journal, seed: number, step: number): void {
  const where = `seed ${seed}, step ${step}`;
  const expected = pendingByState(journal);
  assert.equal(journal.counts.pending, expected.length, `${where}: pending count`);
  assert.deepEqual(
    journal.pendingAfter(0, 10_000).map((p) => p.seq),
    expected,
    `${where}: pendingAfter(0)`,
  );
  const cut = expected[Math.floor(expected.length / 2)] ?? 0;
  assert.deepEqual(
    journal.pendingAfter(cut, 10_000).map((p) => p.seq),
    expected.filter((seq) => seq > cut),
    `${where}: pendingAfter(${cut})`,
  );
  const run: number[] = [];
  for (const seq of expected) {
    if (run.length > 0 && seq !== (run.at(-1) as number) + 1) break;
    run.push(seq);
  }
  assert.deepEqual(
    journal.pendingRun(10_000).map((op) => op.seq),
    run,
    `${where}: pendingRun`,
  );
  const lowest = expected[0];
  const lowestId = lowest === undefined ? undefined : journal.stateAt(lowest)?.id;
  assert.equal(
    journal.oldestPendingAt(),
    lowestId === undefined ? null : journal.getOp(lowestId)?.op.at,
    `${where}: oldestPendingAt`,
  );
  const next = expected.find((seq) => seq > cut);
  const nextId = next === undefined ? undefined : journal.stateAt(next)?.id;
  assert.equal(
    journal.oldestPendingAfter(cut),
    nextId === undefined ? null : journal.getOp(nextId)?.op.at,
    `${where}: oldestPendingAfter(${cut})`,
  );
}

describe('Journal: pending ops found from the floor', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`every read of pending ops matches the ops' states (seed ${seed})`, () => {
      const random = prng(seed);
      const dir = tempDir('holdfast-floor-');
      dirs.push(dir);
      let journal = Journal.open(dir);
      const somePending = () => {
        const pending = pendingByState(journal);
        return pending[random(pending.length)];
      };
      for (let step = 0; step < 160; step++) {
        const roll = random(100);
        if (roll < 40) {
          const n = 1 + random(4);
          for (let i = 0; i < n; i++) append(journal);
        } else if (roll < 60) {
          const seq = somePending();
          if (seq !== undefined) journal.confirm(seq, { status: 'accepted' }, step);
        } else if (roll < 68) {
          const seq = somePending();
          if (seq !== undefined) journal.deadLetter(seq, 'fork', 'held by another op', null, step);
        } else if (roll < 78) {
          const from = 1 + random(Math.max(1, journal.head.seq));
          journal.requeue(from, from + random(6));
        } else if (roll < 88) {
          // Confirmations read back inside a transaction that then rolls back: the floor must not rise on them.
          assert.throws(() =>
            journal.transaction(() => {
              for (const seq of pendingByState(journal).slice(0, 3)) journal.confirm(seq, {}, step);
              journal.pendingRun(10);
              journal.oldestPendingAt();
              throw new Error('rolled back');
            }),
          );
        } else if (roll < 90) {
          journal.deadLetterAllPending('device_revoked', 'the device was revoked', step);
        } else if (roll < 96) {
          journal.pendingRun(1 + random(5));
        } else {
          journal.close();
          journal = Journal.open(dir);
        }
        check(journal, seed, step);
      }
      journal.close();
    });
  }
});
