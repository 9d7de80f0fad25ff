/**
 * GET /v1/ready apart from GET /v1/health: alive but not ready when the
 * store cannot be written (another writer holds its lock) or a migration
 * this build knows is missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { WireError } from '@holdfast/protocol';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../storage/sqlite/sqlite-schema.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createHarness } from '../testing/harness.js';

async function withFileHarness(fn: (path: string, h: Awaited<ReturnType<typeof createHarness>>) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-ready-'));
  const path = join(dir, 'holdfast.db');
  const h = await createHarness({ storage: new SqliteStorage({ path }) });
  try {
    await fn(path, h);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('GET /v1/ready', () => {
  it('answers ready with the storage and the migrations applied, without authentication', async () => {
    const h = await createHarness();
    try {
      const res = await h.request<{ status: string; storage: string; migrations: number }>('GET', '/v1/ready');
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'ready');
      assert.equal(res.body.storage, 'sqlite');
      assert.equal(res.body.migrations, SQLITE_MIGRATIONS.length);
    } finally {
      await h.close();
    }
  });

  it('is not ready while another writer holds the store, though health stays ok; ready again after', async () => {
    await withFileHarness(async (path, h) => {
      const other = new Database(path);
      try {
        other.pragma('busy_timeout = 0');
        other.prepare('BEGIN IMMEDIATE').run();
        const res = await h.request<WireError>('GET', '/v1/ready');
        assert.equal(res.status, 503);
        assert.equal(res.error.code, 'not_ready');
        assert.equal(res.error.retryable, true);
        assert.match(res.error.message, /the store cannot be written: .*locked/);
        assert.equal((await h.request('GET', '/v1/health')).status, 200, 'alive all the same');
        other.prepare('ROLLBACK').run();
      } finally {
        other.close();
      }
      assert.equal((await h.request('GET', '/v1/ready')).status, 200);
    });
  });

  it('is not ready when a migration this build knows is not applied', async () => {
    await withFileHarness(async (path, h) => {
      const other = new Database(path);
      try {
        other.prepare('DELETE FROM schema_migrations WHERE version = ?').run(SQLITE_MIGRATIONS.length);
      } finally {
        other.close();
      }
      const res = await h.request<WireError>('GET', '/v1/ready');
      assert.equal(res.status, 503);
      assert.equal(res.error.code, 'not_ready');
      assert.equal(
        res.error.message,
        `migrations pending: ${SQLITE_MIGRATIONS.length - 1} of ${SQLITE_MIGRATIONS.length} applied (run holdfast migrate)`,
      );
    });
  });
});
