import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GENESIS_HASH, hashOp, NO_DECISION, type Op, uuidv7 } from '@holdfast/protocol';
import Database from 'better-sqlite3';
import { JournalLockedError, JournalVersionError } from './errors.js';
import { Journal } from './journal.js';
import { SCHEMA_VERSION } from './journal-schema.js';
import { tempDir } from './testing/harness.js';

const DEVICE = '01940000-0000-7000-8000-000000000001';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir('holdfast-journal-');
  dirs.push(d);
  return d;
}

let idCounter = 0;
function append(journal: Journal, at = 1_735_689_600_000 + idCounter): Op {
  idCounter++;
  const random = new Uint8Array(10);
  new DataView(random.buffer).setUint32(6, idCounter);
  return journal.append({
    id: uuidv7(at, random),
    device: DEVICE,
    kind: 'shift.opened',
    body: { clerk: `clerk-${idCounter}`, currency: 'EUR', openingFloat: idCounter },
    at,
    decision: NO_DECISION,
  });
}

/** Checks seq 1..n, prev links and hashes of the ops held in `journal`. */
function assertChain(journal: Journal, ids: string[]): void {
  let prev = GENESIS_HASH;
  ids.forEach((id, i) => {
    const entry = journal.getOp(id);
    assert.ok(entry, `op ${id} is in the journal`);
    assert.equal(entry.seq, i + 1);
    assert.equal(entry.op.prev, prev, `op ${i + 1} links to op ${i}`);
    assert.equal(hashOp(entry.op), entry.hash, `op ${i + 1} hash verifies`);
    prev = entry.hash;
  });
}

describe('Journal', () => {
  test('creates the data dir and starts the chain at seq 1 from GENESIS_HASH', () => {
    const d = path.join(dir(), 'nested', 'till');
    const journal = Journal.open(d);
    assert.ok(fs.existsSync(path.join(d, 'journal.db')));
    assert.deepEqual(journal.head, { seq: 0, hash: GENESIS_HASH });
    const op = append(journal);
    assert.equal(op.seq, 1);
    assert.equal(op.prev, GENESIS_HASH);
    assert.deepEqual(journal.head, { seq: 1, hash: op.hash });
    journal.close();
  });

  test('ops and the chain survive a reopen, and the chain continues where it stopped', () => {
    const d = dir();
    const first = Journal.open(d);
    const ids = [append(first).id, append(first).id, append(first).id];
    const headBefore = first.head;
    first.close();

    const second = Journal.open(d);
    assert.deepEqual(second.head, headBefore);
    assert.deepEqual(second.counts, { pending: 3, confirmed: 0, dead: 0 });
    const next = append(second);
    assert.equal(next.seq, 4);
    assert.equal(next.prev, headBefore.hash);
    assertChain(second, [...ids, next.id]);
    second.close();
  });

  test('the stored envelope is the sealed op byte for byte', () => {
    const journal = Journal.open(dir());
    const op = append(journal);
    const entry = journal.getOp(op.id);
    assert.equal(JSON.stringify(entry?.op), JSON.stringify(op));
    journal.close();
  });

  test('a failed append consumes no seq (the id is unique)', () => {
    const journal = Journal.open(dir());
    const op = append(journal);
    assert.throws(() =>
      journal.append({ id: op.id, device: DEVICE, kind: 'x.y', body: {}, at: op.at, decision: NO_DECISION }),
    );
    assert.equal(journal.head.seq, 1);
    assert.equal(journal.counts.pending, 1);
    assert.equal(append(journal).seq, 2);
    journal.close();
  });

  test('a second connection in this process cannot open a journal that is open', () => {
    const d = dir();
    const journal = Journal.open(d);
    assert.throws(
      () => Journal.open(d),
      (error: unknown) => error instanceof JournalLockedError && error.code === 'journal_locked',
    );
    // The holder is unaffected.
    append(journal);
    journal.close();
    Journal.open(d).close();
  });

  test('another process cannot open a journal that is open', () => {
    const d = dir();
    const journal = Journal.open(d);
    // This file runs from source (tsx) or compiled (npm test): the child loads the journal the same way.
    const fromSource = import.meta.url.endsWith('.ts');
    const journalModule = fileURLToPath(new URL(fromSource ? './journal.ts' : './journal.js', import.meta.url));
    const script = `
      import { Journal } from ${JSON.stringify(journalModule)};
      try { Journal.open(${JSON.stringify(d)}); console.log('opened'); }
      catch (e) { console.log(e.code + ' ' + e.message); }
    `;
    const child = spawnSync(
      process.execPath,
      [...(fromSource ? ['--conditions=holdfast-src', '--import', 'tsx'] : []), '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    assert.match(child.stdout, /^journal_locked .*another process/m, child.stderr);
    journal.close();
  });

  test('a journal from a newer SDK is refused', () => {
    const d = dir();
    Journal.open(d).close();
    const db = new Database(path.join(d, 'journal.db'));
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
    db.close();
    assert.throws(() => Journal.open(d), JournalVersionError);
  });

  test('the journal runs in WAL mode with synchronous=FULL, an exclusive lock and foreign keys', () => {
    const journal = Journal.open(dir());
    // synchronous FULL is 2.
    assert.deepEqual(journal.pragmas(), {
      journalMode: 'wal',
      synchronous: 2,
      lockingMode: 'exclusive',
      foreignKeys: 1,
    });
    journal.close();
  });

  test('settling updates the in-memory counts only when the transaction commits', () => {
    const journal = Journal.open(dir());
    const a = append(journal);
    const b = append(journal);
    assert.throws(() =>
      journal.transaction(() => {
        journal.confirm(a.seq, { status: 'accepted' }, 1);
        throw new Error('crash mid-transaction');
      }),
    );
    assert.deepEqual(journal.counts, { pending: 2, confirmed: 0, dead: 0 });
    assert.equal(journal.getOp(a.id)?.state, 'pending');
    journal.transaction(() => {
      journal.confirm(a.seq, { status: 'accepted' }, 1);
      journal.deadLetter(b.seq, 'fork', 'seq held by another op', null, 2);
    });
    assert.deepEqual(journal.counts, { pending: 0, confirmed: 1, dead: 1 });
    assert.deepEqual(
      journal.deadLetters().map((d) => [d.seq, d.reason]),
      [[2, 'fork']],
    );
    assert.equal(journal.requeue(1, 2), 1, 'only confirmed ops go back to pending');
    assert.deepEqual(journal.counts, { pending: 1, confirmed: 0, dead: 1 });
    journal.close();
  });

  test('pendingRun returns the lowest pending seqs, stopping at the first hole', () => {
    const journal = Journal.open(dir());
    const ops = Array.from({ length: 6 }, () => append(journal));
    journal.confirm(1, {}, 1);
    journal.deadLetter(4, 'fork', 'x', null, 1);
    assert.deepEqual(
      journal.pendingRun(10).map((o) => o.seq),
      [2, 3],
    );
    assert.deepEqual(
      journal.pendingRun(1).map((o) => o.seq),
      [2],
    );
    assert.equal(ops.length, 6);
    journal.close();
  });

  test('sync_attempts keeps only the newest rows', () => {
    const journal = Journal.open(dir(), { attemptsKept: 5 });
    const op = append(journal);
    let last = 0;
    for (let i = 1; i <= 12; i++) {
      last = journal.beginAttempt(op.seq, op.seq, 1, i);
      journal.finishAttempt(last, { finishedAt: i + 1, outcome: 'unknown', httpStatus: null, error: 'timeout' });
    }
    const kept = journal.recentAttempts(100);
    assert.deepEqual(
      kept.map((a) => a.id),
      [12, 11, 10, 9, 8],
    );
    assert.deepEqual(kept[0], {
      id: last,
      startedAt: 12,
      finishedAt: 13,
      firstSeq: 1,
      lastSeq: 1,
      ops: 1,
      outcome: 'unknown',
      httpStatus: null,
      error: 'timeout',
    });
    assert.equal(journal.getOp(op.id)?.attempts, 12);
    journal.close();
  });
});

describe('Journal: the next batch comes from the store', () => {
  test('an op appended in a transaction that rolled back never reappears in a batch', () => {
    const journal = Journal.open(dir());
    try {
      const first = append(journal);
      assert.throws(
        () =>
          journal.transaction(() => {
            append(journal);
            throw new Error('abandoned');
          }),
        /abandoned/,
      );
      const second = append(journal);
      assert.equal(second.seq, 2, 'the rolled-back op freed its seq');
      assert.deepEqual(journal.pendingRun(10), [first, second]);
      assert.deepEqual(
        journal.pendingRun(10).map((op) => op.hash),
        [first.hash, second.hash],
      );
    } finally {
      journal.close();
    }
  });

  test('ops no longer held in memory are read back from disk, identical', () => {
    const d = dir();
    const journal = Journal.open(d);
    const ops = Array.from({ length: 1100 }, () => append(journal));
    assert.deepEqual(journal.pendingRun(1100), ops, 'beyond the in-memory window too');
    journal.close();
    const reopened = Journal.open(d);
    try {
      assert.deepEqual(reopened.pendingRun(1100), ops);
    } finally {
      reopened.close();
    }
  });
});
