/**
 * `holdfast fiscal` as a real process against a real server: jurisdictions
 * listed and set (an unknown one refused naming the field), bills and
 * credit notes listed, an action on an unknown bill refused with the
 * server's code, and a bad action refused naming the field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '@holdfast/server';
import { CliProcess } from '../cli-process.js';

const OPERATOR = 'operator-token-for-fiscal-command-001';

describe('holdfast fiscal', () => {
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
    dir = mkdtempSync(join(tmpdir(), 'holdfast-fiscal-cli-'));
    server = await startServer({ dataDir: join(dir, 'server'), port: 0, logger: false, operatorToken: OPERATOR });
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets and lists jurisdictions, lists bills and credit notes, refuses bad input with coded errors', async () => {
    const set = await run('fiscal', 'set-jurisdiction', 'shop-1', '--jurisdiction', 'MX');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.out, /shop-1: MX/);
    const unknown = await run('fiscal', 'set-jurisdiction', 'shop-1', '--jurisdiction', 'ZZ');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /400 invalid_request .*\(body\.jurisdiction\)/);
    const listed = await run('fiscal', 'jurisdictions');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.out, /MX +Mexico, CFDI +72/);
    assert.match(listed.out, /shop-1 +MX +bootstrap/);

    const bills = await run('fiscal', 'bills', '--state', 'rejected');
    assert.equal(bills.code, 0, bills.stderr);
    assert.match(bills.out, /no bills/);
    const badState = await run('fiscal', 'bills', '--state', 'lost');
    assert.equal(badState.code, 1);
    assert.match(badState.stderr, /400 invalid_request .*\(query\.state\)/);
    const notes = await run('fiscal', 'credit-notes', '--json');
    assert.equal(notes.code, 0, notes.stderr);
    assert.deepEqual(JSON.parse(notes.out), { creditNotes: [] });

    const act = await run('fiscal', 'act', 'no-such-bill', '--action', 'non_fiscal', '--note', 'test');
    assert.equal(act.code, 1);
    assert.match(act.stderr, /404 fiscal_bill_unknown/);
    const badAction = await run('fiscal', 'act', 'no-such-bill', '--action', 'shred', '--note', 'test');
    assert.equal(badAction.code, 1);
    assert.match(badAction.stderr, /400 invalid_request .*\(body\.action\)/);
  });
});
