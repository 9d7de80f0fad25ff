/**
 * A disk error while an op commits (fsync answering EIO, a full disk): the
 * outcome is unknown, never "failed", and the next open says whether the op
 * was recorded. The fault is injected at the SqliteConnection seam: a
 * better-sqlite3 connection whose commit either lands and then reports
 * SQLITE_IOERR_FSYNC (the op is in the journal: the case that came back as
 * a double charge), or reports it without landing.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openBetterSqlite3 } from './better-sqlite3-connection.js';
import { RecordOutcomeUnknownError } from './errors.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { cashSale, createHarness, openTill } from './testing/harness.js';

/** An I/O error as better-sqlite3 raises it. */
function fsyncError(): Error {
  return Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_FSYNC' });
}

/**
 * A real better-sqlite3 connection whose next transaction, once armed,
 * fails with SQLITE_IOERR_FSYNC: after committing (`landed`) or instead of it.
 */
function faultyConnection(mode: { armed: boolean; landed: boolean }) {
  return (file: string): SqliteConnection => new FaultyConnection(openBetterSqlite3(file), mode);
}

class FaultyConnection implements SqliteConnection {
  constructor(
    readonly real: SqliteConnection,
    readonly mode: { armed: boolean; landed: boolean },
  ) {}
  get isOpen(): boolean {
    return this.real.isOpen;
  }
  exec(sql: string): void {
    this.real.exec(sql);
  }
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string) {
    return this.real.prepare<P, R>(sql);
  }
  transaction<T>(fn: () => T): T {
    if (!this.mode.armed) return this.real.transaction(fn);
    this.mode.armed = false;
    if (this.mode.landed) {
      this.real.transaction(fn);
      throw fsyncError();
    }
    return this.real.transaction(() => {
      fn();
      throw fsyncError(); // rolled back: nothing lands
    });
  }
  pragma(statement: string): unknown {
    return this.real.pragma(statement);
  }
  close(): void {
    this.real.close();
  }
  classify(error: unknown) {
    return this.real.classify(error);
  }
}

describe('a disk error while recording', () => {
  for (const landed of [true, false]) {
    test(`commit ${landed ? 'landed' : 'lost'}: RecordOutcomeUnknownError, then reopening says recorded=${landed}`, async () => {
      const mode = { armed: false, landed };
      const h = await createHarness({ autoSync: false });
      try {
        openTill(h.terminal);
        const before = h.terminal.recordSale(cashSale(1));
        const faulty = await h.reopen({ autoSync: false, connect: faultyConnection(mode) });
        mode.armed = true;
        let error: unknown;
        try {
          faulty.recordSale(cashSale(2));
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof RecordOutcomeUnknownError, `outcome unknown, got ${String(error)}`);
        assert.equal(error.code, 'record_outcome_unknown');
        assert.equal(error.kind, 'sale.recorded');
        assert.equal(error.listed, true, 'the op id was saved in the in-doubt list');
        assert.doesNotMatch(error.message, /fail/i, 'never "failed"');
        assert.ok(faulty.closed, 'the terminal stops: nothing more goes to the failing disk');

        const reopened = await h.reopen({ autoSync: false });
        const inDoubt = reopened.inDoubtOps();
        assert.equal(inDoubt.length, 1);
        const [op] = inDoubt;
        assert.equal(op?.id, error.opId);
        assert.equal(op?.recorded, landed);
        assert.equal(op?.seq, landed ? before.seq + 1 : null);
        assert.equal(reopened.getOp(error.opId) !== undefined, landed, 'the answer matches the journal');
        // A recorded one syncs like any op (it is a fact); the next op takes the next seq either way.
        const next = reopened.recordSale(cashSale(3));
        assert.equal(next.seq, before.seq + (landed ? 2 : 1));
        await reopened.syncNow();
        assert.equal(h.server.timesApplied(error.opId), landed ? 1 : 0);

        reopened.acknowledgeInDoubt();
        assert.deepEqual(reopened.inDoubtOps(), []);
        const again = await h.reopen({ autoSync: false });
        assert.deepEqual(again.inDoubtOps(), [], 'acknowledged: not shown again');
      } finally {
        await h.cleanup();
      }
    });
  }

  test('the journal and its in-doubt list are private (0600)', async () => {
    const mode = { armed: false, landed: true };
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      const faulty = await h.reopen({ autoSync: false, connect: faultyConnection(mode) });
      mode.armed = true;
      assert.throws(() => faulty.recordSale(cashSale(2)), RecordOutcomeUnknownError);
      await h.reopen({ autoSync: false });
      const dir = h.dir;
      for (const name of ['journal.db', 'journal.db-wal', 'journal.db.in-doubt']) {
        assert.equal((statSync(join(dir, name)).mode & 0o777).toString(8), '600', name);
      }
    } finally {
      await h.cleanup();
    }
  });
});
