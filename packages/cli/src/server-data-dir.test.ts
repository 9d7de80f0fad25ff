/**
 * `holdfast server` on a data directory it cannot use, one another server
 * holds, or one a killed server left behind: real processes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CliProcess } from './cli-process.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-datadir-'));
after(async () => {
  await CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

const START_MS = 90_000;

function server(name: string, dataDir: string): CliProcess {
  return CliProcess.start(name, ['server', '--data', dataDir, '--port', '0', '--log-level', 'info']);
}

async function listening(p: CliProcess): Promise<void> {
  await p.waitFor('listening', () => p.events.some((e) => e.msg === 'holdfast server listening'), START_MS);
}

/** The process's exit code and its stderr, trimmed; asserts one line and no stack. */
async function failure(p: CliProcess): Promise<{ code: number | null; line: string }> {
  const timer = setTimeout(() => void p.kill('SIGKILL'), START_MS);
  const exit = await p.exited;
  clearTimeout(timer);
  assert.equal(exit.signal, null, `${p.name} should have exited on its own:\n${p.stderr}`);
  const line = p.stderr.trim();
  assert.equal(line.split('\n').length, 1, `one line, got:\n${p.stderr}`);
  assert.doesNotMatch(line, /\bat .*:\d+:\d+|\[object Object\]/, 'no stack, no [object Object]');
  return { code: exit.code, line };
}

describe('holdfast server: data directory on a broken disk', () => {
  it('a data directory that is a file, or lies under a file: one line naming the path and the cause, exit 1', async () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, 'x');
    const under = await failure(server('under-file', join(file, 'data')));
    assert.equal(under.code, 1);
    assert.match(under.line, new RegExp(`${join(file, 'data')}.*ENOTDIR: not a directory`));
    const itself = await failure(server('is-file', file));
    assert.equal(itself.code, 1);
    assert.match(itself.line, new RegExp(`data directory ${file} is not a directory`));
  });

  it('a read-only data directory: one line naming the path and the cause, exit 1', async (t) => {
    const dir = join(root, 'read-only');
    mkdirSync(dir);
    let undo: () => void;
    let cause: RegExp;
    if (process.getuid?.() === 0) {
      // Root writes through mode bits: mount a read-only file system there instead.
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir], { encoding: 'utf8' });
      if (mount.status !== 0) {
        t.skip(`running as root without the right to mount a read-only tmpfs (${mount.stderr.trim()})`);
        return;
      }
      undo = () => spawnSync('umount', [dir]);
      cause = /EROFS: read-only file system/;
    } else {
      chmodSync(dir, 0o555);
      undo = () => chmodSync(dir, 0o755);
      cause = /EACCES: permission denied/;
    }
    try {
      const r = await failure(server('read-only', dir));
      assert.equal(r.code, 1);
      assert.match(r.line, new RegExp(`data directory ${dir} is not writable: ${cause.source}`));
      const sub = await failure(server('read-only-sub', join(dir, 'sub')));
      assert.equal(sub.code, 1);
      assert.match(sub.line, new RegExp(`cannot create data directory ${join(dir, 'sub')}: ${cause.source}`));
    } finally {
      undo();
    }
  });
});

describe('holdfast server: one server per data directory', () => {
  it('a second server on the same directory exits 1 naming the lock; after SIGKILL of the first, a new one starts', async () => {
    const dir = join(root, 'shared');
    const first = server('first', dir);
    await listening(first);
    const second = await failure(server('second', dir));
    assert.equal(second.code, 1);
    assert.match(second.line, new RegExp(`data directory ${dir} is in use by another holdfast server`));
    assert.ok(first.running, 'the first server is untouched');

    await first.kill('SIGKILL');
    const third = server('third', dir);
    await listening(third);
    await third.kill('SIGTERM');
  });

  it('creates the database, its -wal and -shm, and the lock mode 0600', async () => {
    const dir = join(root, 'modes');
    const p = server('modes', dir);
    await listening(p);
    for (const name of ['holdfast.db', 'holdfast.db-wal', 'holdfast.db-shm', 'holdfast.lock', 'operator-token']) {
      assert.equal((statSync(join(dir, name)).mode & 0o777).toString(8), '600', name);
    }
    await p.kill('SIGTERM');
  });
});
