/**
 * `holdfast loyalty` as a real process against a real server: a member
 * created, refused a second time, adjusted (and the retry with the same id
 * refused), shown and listed; bad points refused with the server's code.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '@holdfast/server';
import { CliProcess } from '../cli-process.js';

const OPERATOR = 'operator-token-for-loyalty-command-01';

describe('holdfast loyalty', () => {
  let server: RunningServer;
  let dir: string;
  const run = async (...args: string[]) => {
    const p = CliProcess.start(args[0] as string, args, {
      HOLDFAST_URL: server.url,
      HOLDFAST_OPERATOR_TOKEN: OPERATOR,
    });
    const exit = await p.exited;
    return { code: exit.code, out: p.lines.join('\n'), stderr: p.stderr };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holdfast-loyalty-'));
    server = await startServer({ dataDir: join(dir, 'server'), port: 0, logger: false, operatorToken: OPERATOR });
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, adjusts, shows and lists members; refuses bad input with coded errors', async () => {
    const created = await run('loyalty', 'create', 'CARD0001', '--name', 'Ana');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.out, /CARD0001 +Ana +0 +0 +0 +0/);
    const twice = await run('loyalty', 'create', 'CARD0001', '--name', 'Bea');
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /409 loyalty_member_exists/);

    const adjusted = await run('loyalty', 'adjust', 'CARD0001', '--points', '40', '--reason', 'welcome', '--id', 'w1');
    assert.equal(adjusted.code, 0, adjusted.stderr);
    const retry = await run('loyalty', 'adjust', 'CARD0001', '--points', '40', '--reason', 'welcome', '--id', 'w1');
    assert.match(retry.stderr, /409 loyalty_adjustment_exists/);
    const back = await run('loyalty', 'adjust', 'CARD0001', '--points', '-15', '--reason', 'correction', '--json');
    assert.equal(back.code, 0, back.stderr);
    assert.equal(JSON.parse(back.out).account.balance, 25);
    const zero = await run('loyalty', 'adjust', 'CARD0001', '--points', '0', '--reason', 'nothing');
    assert.equal(zero.code, 1);
    assert.match(zero.stderr, /400 loyalty_points_invalid .*\(body\.points\)/);
    const frac = await run('loyalty', 'adjust', 'CARD0001', '--points', '1.5', '--reason', 'half');
    assert.equal(frac.code, 2);
    assert.match(frac.stderr, /--points must be a whole number/);

    const shown = await run('loyalty', 'show', 'CARD0001');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.out, /CARD0001 +Ana +0 +0 +25 +25/);
    assert.match(shown.out, /adjust +-15 +correction/);
    const unknown = await run('loyalty', 'show', 'NOBODY01');
    assert.match(unknown.stderr, /404 loyalty_member_unknown/);
    const list = await run('loyalty', 'list', '--json');
    assert.deepEqual(
      JSON.parse(list.out).members.map((m: { member: string; balance: number }) => [m.member, m.balance]),
      [['CARD0001', 25]],
    );
  });
});
