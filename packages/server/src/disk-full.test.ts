/**
 * A full disk: batches fail retryable with nothing applied, and
 * GET /v1/health says so (503 storage_unwritable) until a write succeeds
 * again. A real full file system: a small tmpfs mounted for the test
 * (needs root; skipped, saying why, where mounting is not allowed).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WRITE_FAILURE_HOLD_MS } from './holdfast-service.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import { createHarness } from './testing/harness.js';

/** Writes zeros into `path` until the file system is full. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}

describe('health on a full disk', () => {
  it('batches answer 500 retryable with nothing applied; health answers 503 storage_unwritable until the disk has room', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-full-'));
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { encoding: 'utf8' });
    if (mount.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      t.skip(`cannot mount a small tmpfs here to fill (${mount.stderr.trim() || 'not root'})`);
      return;
    }
    const h = await createHarness({ storage: new SqliteStorage({ path: join(dir, 'holdfast.db') }) });
    try {
      const d = await h.enrollDevice('lane-full');
      const open = d.openShift();
      assert.equal((await h.send(d.batch([open]))).status, 200);
      assert.equal((await h.request('GET', '/v1/health')).status, 200);

      fillDisk(join(dir, 'filler'));
      const sales = Array.from({ length: 500 }, (_, i) => d.sale(open.id, 100 + i));
      const failed = await h.send(d.batch(sales));
      assert.equal(failed.status, 500, JSON.stringify(failed.body));
      assert.equal((failed.body as unknown as { retryable: boolean }).retryable, true);

      const unhealthy = await h.request<{ code: string; retryable: boolean; message: string }>('GET', '/v1/health');
      assert.equal(unhealthy.status, 503);
      assert.equal(unhealthy.body.code, 'storage_unwritable');
      assert.equal(unhealthy.body.retryable, true);
      assert.match(unhealthy.body.message, /SQLITE_FULL/);
      assert.equal((await h.request('GET', '/v1/health')).status, 503, 'still failing while the disk is full');

      rmSync(join(dir, 'filler'));
      await h.clock.tick(WRITE_FAILURE_HOLD_MS);
      assert.equal((await h.request('GET', '/v1/health')).status, 200, 'a probe write committed: healthy again');
      const resent = await h.send(d.batch(sales));
      assert.equal(resent.status, 200);
      assert.deepEqual(
        [...new Set(resent.body.results.map((r) => r.status))],
        ['accepted'],
        'nothing was applied by the failed batch',
      );
    } finally {
      await h.close();
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
