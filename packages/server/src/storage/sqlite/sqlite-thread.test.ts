/**
 * The SQLite backend on its own thread carries errors and failures back
 * faithfully. That it holds to the same storage contract as in process is
 * tested with every backend (storage/contract/).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProtocolError } from '@holdfast/protocol';
import { SqliteStorage } from './sqlite-storage.js';
import { openThreadedSqlite } from './sqlite-thread.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-sqlite-thread-'));
  dirs.push(dir);
  return join(dir, 'holdfast.db');
};

describe('sqlite on a thread: the boundary', () => {
  it('returns a ProtocolError as a ProtocolError, with its code', async () => {
    const storage = openThreadedSqlite({ path: ':memory:' });
    try {
      await storage.migrate();
      const batch = { device: 'no-such-device', ops: [], sentAt: 0, latestSeq: 0, trust: 'fresh' as const };
      await assert.rejects(
        storage.ingest(batch, Date.now(), () => 'unused'),
        (e: unknown) => e instanceof ProtocolError && e.code === 'unknown_device',
      );
    } finally {
      await storage.close();
    }
  });

  it('reports other errors by name and message, and refuses a function argument', async () => {
    const storage = openThreadedSqlite({ path: ':memory:' });
    try {
      await assert.rejects(storage.listDevices(), /call migrate\(\) before use/);
      await assert.rejects(
        (storage as unknown as { getDevice(x: unknown): Promise<unknown> }).getDevice(() => 1),
        /argument 0 of getDevice is a function/,
      );
    } finally {
      await storage.close();
    }
  });

  it('writes what an in-process connection reads back, and refuses calls after close', async () => {
    const path = tempPath();
    const storage = openThreadedSqlite({ path });
    await storage.migrate();
    await storage.close();
    await storage.close();
    await assert.rejects(storage.ping(), /storage thread exited/);
    const direct = new SqliteStorage({ path });
    try {
      const applied = direct.query<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations')[0]?.n ?? 0;
      assert.ok(applied >= 1, 'the thread migrated the file on disk');
    } finally {
      await direct.close();
    }
  });
});
