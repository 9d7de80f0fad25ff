import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { RowInserter } from './row-inserter.js';

describe('RowInserter', () => {
  const open = () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, s TEXT NOT NULL)');
    return db;
  };

  it('inserts every row exactly once, in order, for counts around each chunk size', () => {
    for (const count of [0, 1, 2, 3, 63, 64, 65, 127, 128, 129, 500]) {
      const db = open();
      const inserter = new RowInserter(db, 'INSERT INTO t (n, s)', 2);
      const rows = Array.from({ length: count }, (_, i) => i + 1);
      inserter.insert(rows, (n, out) => out.push(n, `row-${n}`));
      const stored = db.prepare('SELECT n, s FROM t ORDER BY rowid').all() as { n: number; s: string }[];
      assert.deepEqual(
        stored,
        rows.map((n) => ({ n, s: `row-${n}` })),
        `${count} rows`,
      );
      db.close();
    }
  });

  it('applies a tail clause, e.g. ON CONFLICT', () => {
    const db = open();
    const inserter = new RowInserter(db, 'INSERT INTO t (n, s)', 2, 'ON CONFLICT (n) DO NOTHING');
    inserter.insert([1, 2], (n, out) => out.push(n, 'first'));
    inserter.insert([2, 3], (n, out) => out.push(n, 'second'));
    assert.deepEqual(db.prepare('SELECT s FROM t ORDER BY n').pluck().all(), ['first', 'first', 'second']);
    db.close();
  });

  it('refuses a row with the wrong number of values, writing nothing of that chunk', () => {
    const db = open();
    const inserter = new RowInserter(db, 'INSERT INTO t (n, s)', 2);
    assert.throws(() => inserter.insert([1], (n, out) => out.push(n)), /expects 2 values a row, got 1/);
    assert.equal(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 0);
    db.close();
  });

  it('propagates a constraint failure (the caller’s transaction rolls back)', () => {
    const db = open();
    const inserter = new RowInserter(db, 'INSERT INTO t (n, s)', 2);
    const insertAll = db.transaction((rows: number[]) => inserter.insert(rows, (n, out) => out.push(n, 'x')));
    assert.throws(() => insertAll([1, 2, 2]), /UNIQUE constraint failed/);
    assert.equal(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 0);
    db.close();
  });
});
