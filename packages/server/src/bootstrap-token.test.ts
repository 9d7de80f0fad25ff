/**
 * Rotating the bootstrap operator token without a restart: the file's
 * change is picked up (by the file watch, and by reload() as on SIGHUP),
 * the previous token keeps working for the overlap and not after, and a
 * bad file changes nothing. Then the same through a real server process's
 * HTTP API: a rotated token file, no restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '@holdfast/domain/testing';
import { type BootstrapEvent, BootstrapTokens } from './bootstrap-token.js';
import { startServer } from './start-server.js';

const OLD = 'old-bootstrap-token-0123456789';
const NEW = 'new-bootstrap-token-9876543210';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tokenFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-bootstrap-'));
  dirs.push(dir);
  const file = join(dir, 'operator-token');
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  return file;
}

/** Replaces `file` the way an operator's script should: write aside, then rename over it. */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.new`, `${text}\n`, { mode: 0o600 });
  renameSync(`${file}.new`, file);
}

describe('BootstrapTokens', () => {
  it('picks up a changed file by itself; the old token works for the overlap only', async () => {
    const clock = new ManualClock(1_000_000);
    const file = tokenFile(OLD);
    let seen: (e: BootstrapEvent) => void = () => undefined;
    const tokens = new BootstrapTokens({
      file,
      now: () => clock.now(),
      overlapMs: 60_000,
      pollMs: 20,
      onEvent: (e) => seen(e),
    });
    tokens.watch();
    try {
      assert.equal(tokens.matches(OLD), true);
      assert.equal(tokens.matches(NEW), false);
      const rotated = new Promise<BootstrapEvent>((resolve) => {
        seen = resolve;
      });
      replace(file, NEW);
      // The watch does not keep a process alive by itself (a server's socket does): hold the loop open while waiting.
      const keepAlive = setInterval(() => undefined, 1_000);
      const event = await rotated.finally(() => clearInterval(keepAlive));
      assert.deepEqual(event, { kind: 'rotated', overlapUntil: 1_060_000 });
      assert.equal(tokens.current, NEW);
      assert.equal(tokens.matches(NEW), true);
      assert.equal(tokens.matches(OLD), true, 'within the overlap');
      clock.advance(59_999);
      assert.equal(tokens.matches(OLD), true);
      clock.advance(1);
      assert.equal(tokens.matches(OLD), false, 'after the overlap');
      assert.equal(tokens.matches(NEW), true);
    } finally {
      tokens.stop();
    }
  });

  it('reload() (SIGHUP) re-reads at once; an unreadable or short file changes nothing', () => {
    const clock = new ManualClock(0);
    const file = tokenFile(OLD);
    const tokens = new BootstrapTokens({ file, now: () => clock.now() });
    assert.deepEqual(tokens.reload(), { kind: 'unchanged' });
    replace(file, 'too-short');
    const refused = tokens.reload();
    assert.equal(refused.kind, 'refused');
    assert.match(refused.kind === 'refused' ? refused.reason : '', /at least 16 characters/);
    rmSync(file);
    assert.equal(tokens.reload().kind, 'refused');
    assert.equal(tokens.matches(OLD), true);
    assert.equal(tokens.matches('too-short'), false);
    replace(file, NEW);
    assert.equal(tokens.reload().kind, 'rotated');
    assert.equal(tokens.matches(NEW), true);
  });

  it('a token given directly (no file) never rotates', () => {
    const tokens = new BootstrapTokens({ token: OLD, now: () => 0 });
    assert.deepEqual(tokens.reload(), { kind: 'unchanged' });
    assert.throws(() => new BootstrapTokens({ token: 'short', now: () => 0 }), /at least 16 characters/);
  });
});

describe('a server rotating its bootstrap token file', () => {
  it('accepts the new token without a restart, and the old one only during the overlap', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 21));
    const file = tokenFile(OLD);
    const server = await startServer({
      dataDir: join(file, '..', 'data'),
      operatorTokenFile: file,
      operatorTokenOverlapMs: 120_000,
      operatorTokenPollMs: 20,
      clock,
      sqliteThread: false,
    });
    const devices = (token: string) =>
      fetch(`${server.url}/v1/admin/devices`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    try {
      assert.equal(await devices(OLD), 200);
      assert.equal(await devices(NEW), 401);
      replace(file, NEW);
      // SIGHUP does what the file watch does, at once: the server's own listener re-reads the file.
      process.emit('SIGHUP', 'SIGHUP');
      assert.equal(server.bootstrap.current, NEW);
      assert.equal(await devices(NEW), 200);
      assert.equal(await devices(OLD), 200, 'old token still accepted during the overlap');
      clock.advance(120_000);
      assert.equal(await devices(OLD), 401);
      assert.equal(await devices(NEW), 200);
    } finally {
      await server.close();
    }
  });
});
