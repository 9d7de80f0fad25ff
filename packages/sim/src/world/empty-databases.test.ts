/**
 * The empty databases a world starts from (empty-databases.ts) are what the
 * real code makes on a fresh file: the same schema, every migration applied,
 * the journal's durability settings; and a file already there (a restart, a
 * kept data directory) is never replaced.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteStorage } from '@holdfast/server';
import { Journal, SCHEMA_VERSION } from '@holdfast/terminal';
import { writeEmptyJournal, writeEmptyServerDatabase } from './empty-databases.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-empty-db-'));
  dirs.push(dir);
  return dir;
}

const SCHEMA = 'SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name';

async function serverSchema(file: string, copy: boolean) {
  if (copy) await writeEmptyServerDatabase(file);
  const storage = new SqliteStorage({ path: file, synchronous: 'OFF' });
  await storage.migrate();
  try {
    return {
      schema: storage.query(SCHEMA),
      versions: storage.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'),
    };
  } finally {
    await storage.close();
  }
}

function journalSchema(dir: string, copy: boolean) {
  if (copy) writeEmptyJournal(dir);
  const journal = Journal.open(dir, { synchronous: 'OFF' });
  try {
    return {
      schema: journal.prepare(SCHEMA).all(),
      meta: journal.prepare('SELECT key, value FROM meta ORDER BY key').all(),
      pragmas: journal.pragmas(),
    };
  } finally {
    journal.close();
  }
}

describe('empty databases for a world', () => {
  it('the server database copied is the schema a fresh migration makes, every migration applied', async () => {
    const dir = tempDir();
    const fresh = await serverSchema(join(dir, 'fresh', 'holdfast.db'), false);
    const copied = await serverSchema(join(dir, 'copied', 'holdfast.db'), true);
    const again = await serverSchema(join(dir, 'again', 'holdfast.db'), true);
    assert.ok(fresh.schema.length > 20, 'a real schema');
    assert.deepEqual(copied.schema, fresh.schema);
    assert.deepEqual(copied.versions, fresh.versions);
    assert.deepEqual(again, copied, 'every copy alike');
  });

  it('the journal copied is the journal a fresh open makes (schema, version, WAL)', () => {
    const dir = tempDir();
    const fresh = journalSchema(join(dir, 'fresh'), false);
    const copied = journalSchema(join(dir, 'copied'), true);
    assert.deepEqual(copied, fresh);
    assert.deepEqual(
      copied.meta.find((r) => (r as { key: string }).key === 'schema_version'),
      { key: 'schema_version', value: String(SCHEMA_VERSION) },
    );
    assert.equal(copied.pragmas.journalMode, 'wal');
  });

  it('a database already on disk is kept as it is', async () => {
    const dir = tempDir();
    const file = join(dir, 'server', 'holdfast.db');
    await writeEmptyServerDatabase(file);
    const storage = new SqliteStorage({ path: file, synchronous: 'OFF' });
    await storage.migrate();
    storage.query('INSERT INTO schema_migrations (version, applied_at) VALUES (100000, 1) RETURNING version');
    await storage.close();
    await writeEmptyServerDatabase(file);
    const reopened = new SqliteStorage({ path: file, synchronous: 'OFF' });
    await reopened.migrate();
    assert.equal(reopened.query('SELECT 1 FROM schema_migrations WHERE version = 100000').length, 1, 'not replaced');
    await reopened.close();

    const lane = join(dir, 'lane');
    const journal = Journal.open(lane, { synchronous: 'OFF' });
    journal.setMeta({ marker: 'kept' });
    journal.close();
    writeEmptyJournal(lane);
    const reopenedJournal = Journal.open(lane, { synchronous: 'OFF' });
    assert.equal(reopenedJournal.getMeta('marker'), 'kept');
    reopenedJournal.close();
  });
});
