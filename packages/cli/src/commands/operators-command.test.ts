/**
 * `holdfast operators`, `holdfast tokens` and `holdfast login` as real
 * processes against a real server: the bootstrap admin creates an account,
 * the account logs in to a session file, makes a narrower API token with
 * it, and the token is refused once revoked; refusals exit 1 with the
 * server's code.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '@holdfast/server';
import { CliProcess } from '../cli-process.js';

const BOOTSTRAP = 'operators-test-bootstrap-token-0123456789';

describe('holdfast operators / tokens / login', () => {
  let dir: string;
  let server: RunningServer;

  const run = async (...args: string[]) => {
    const p = CliProcess.start(args[0] as string, args);
    const exit = await p.exited;
    return { code: exit.code, lines: p.lines, events: p.events, stderr: p.stderr };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holdfast-operators-'));
    server = await startServer({ dataDir: join(dir, 'data'), port: 0, logger: false, operatorToken: BOOTSTRAP });
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds an account, logs it in to a 0600 session file, creates and revokes a narrower API token', async () => {
    const admin = ['--server', server.url, '--operator-token', BOOTSTRAP];
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, 'a long enough passphrase\n');
    const added = await run(
      'operators',
      'add',
      ...admin,
      '--username',
      'Maria',
      '--role',
      'supervisor',
      '--password-file',
      passwordFile,
    );
    assert.equal(added.code, 0, added.stderr);

    const short = join(dir, 'short');
    writeFileSync(short, 'short\n');
    const refused = await run(
      'operators',
      'add',
      ...admin,
      '--username',
      'joao',
      '--role',
      'viewer',
      '--password-file',
      short,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /400 invalid_request .*12 to 256 characters.*\(password\)/);

    const list = await run('operators', 'list', ...admin, '--json');
    assert.equal(list.code, 0, list.stderr);
    const sessionFile = join(dir, 'session');
    const login = await run(
      'login',
      '--server',
      server.url,
      '--username',
      'maria',
      '--password-file',
      passwordFile,
      '--out',
      sessionFile,
    );
    assert.equal(login.code, 0, login.stderr);
    assert.equal(statSync(sessionFile).mode & 0o777, 0o600);

    const asMaria = ['--server', server.url, '--operator-token-file', sessionFile];
    const created = await run('tokens', 'create', ...asMaria, '--name', 'wall screen', '--role', 'viewer', '--json');
    assert.equal(created.code, 0, created.stderr);
    const token = created.events[0] as unknown as { token: string; id: string; role: string };
    assert.match(token.token, /^hft_/);
    assert.equal(token.role, 'viewer');
    const viaToken = await fetch(`${server.url}/v1/admin/devices`, {
      headers: { authorization: `Bearer ${token.token}` },
    });
    assert.equal(viaToken.status, 200);

    const notAdmin = await run('operators', 'list', ...asMaria);
    assert.equal(notAdmin.code, 1);
    assert.match(notAdmin.stderr, /403 forbidden .*needs role admin/);

    const revoked = await run('tokens', 'revoke', ...asMaria, '--id', token.id);
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = await fetch(`${server.url}/v1/admin/devices`, {
      headers: { authorization: `Bearer ${token.token}` },
    });
    assert.equal(after.status, 401);

    const disabled = await run('operators', 'disable', ...admin, '--username', 'maria');
    assert.equal(disabled.code, 0, disabled.stderr);
    const gone = await run('tokens', 'list', ...asMaria);
    assert.equal(gone.code, 1, 'the session ended with the account');
    assert.match(gone.stderr, /401/);
  });

  it('refuses a usage error with exit 2 before calling the server', async () => {
    const r = await run(
      'operators',
      'set-role',
      '--server',
      server.url,
      '--operator-token',
      BOOTSTRAP,
      '--username',
      'x',
      '--role',
      'boss',
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--role must be one of viewer, operator, supervisor, admin, auditor/);
  });
});
