/**
 * The operator commands as real processes against a real server: a token,
 * a terminal enrolling with it, the device listed, placed, shown and
 * revoked, a policy refused for an unknown kind then issued with the bound
 * printed, exceptions and betting read; server and token from the
 * environment.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '@holdfast/server';
import { HttpTransport, Terminal } from '@holdfast/terminal';
import { CliProcess } from '../cli-process.js';

const OPERATOR = 'operator-token-for-admin-commands-0123';

describe('holdfast enroll-token, devices, policy, exceptions, betting', () => {
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
    dir = mkdtempSync(join(tmpdir(), 'holdfast-admin-'));
    server = await startServer({ dataDir: join(dir, 'server'), port: 0, logger: false, operatorToken: OPERATOR });
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does the everyday tasks without curl', async () => {
    const token = await run('enroll-token', '--label', 'bar-1');
    assert.equal(token.code, 0, token.stderr);
    const till = Terminal.open({ dataDir: join(dir, 'till'), transport: new HttpTransport(server.url) });
    const { deviceId } = await till.enroll(token.out.split('\n')[0] as string, 'bar-1');
    await till.close();

    const list = await run('devices', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.out, /^id\s+label\s+placement\s+seq\s+behind\s+last seen\s+revoked$/m);
    assert.match(list.out, new RegExp(`^${deviceId}\\s+bar-1\\s+-\\s+0\\s+0\\s`, 'm'));

    const placed = await run('devices', 'place', deviceId, '--merchant', 'acme', '--location', 'north');
    assert.equal(placed.code, 0, placed.stderr);
    assert.match(placed.out, /placement {2}acme\/north\/\*/);
    const shown = await run('devices', 'show', deviceId, '--json');
    assert.equal((JSON.parse(shown.out) as { placement: { merchant: string } }).placement.merchant, 'acme');

    const draft = {
      scope: { merchant: 'acme', location: 'north', event: null, devices: null },
      currency: 'EUR',
      expiresAt: Date.now() + 86_400_000,
      offline: {
        maxOfflineMs: 3_600_000,
        device: { maxAmount: 10_000, maxCount: 10 },
        tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
      },
      online: { kinds: ['ticket.placed'], refundAbove: null, loyaltyRedemptionAbove: null },
    };
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify(draft));
    const typo = await run('policy', 'issue', '--file', file);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /400 invalid_request .*"ticket\.placed".*\(online\.kinds\[0\]\)/);
    writeFileSync(file, JSON.stringify({ ...draft, currency: 'euro' }));
    const local = await run('policy', 'issue', '--file', file);
    assert.equal(local.code, 1);
    assert.match(local.stderr, /is not valid: currency: expected/);
    writeFileSync(file, JSON.stringify({ ...draft, online: { ...draft.online, kinds: ['ticket.issued'] } }));
    const issued = await run('policy', 'issue', '--file', file);
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(issued.out, /^EUR\s+acme\s+north\s+-\s+1\s+€100\.00 \/ 10/m);
    const policies = await run('policy', 'show');
    assert.match(policies.out, /acme\/north\/\*\s+EUR\s+€100\.00 \/ 10/);

    const exceptions = await run('exceptions', 'list', '--status', 'open');
    assert.equal(exceptions.code, 0, exceptions.stderr);
    assert.equal(exceptions.out, 'no exceptions');
    const badStatus = await run('exceptions', 'list', '--status', 'pending');
    assert.equal(badStatus.code, 1);
    assert.match(badStatus.stderr, /400 invalid_request .*\(query\.status\)/);

    const betting = await run('betting', 'show');
    assert.equal(betting.code, 0, betting.stderr);
    assert.deepEqual(JSON.parse(betting.out), { config: null, liabilities: [] });
    const config = join(dir, 'betting.json');
    writeFileSync(
      config,
      JSON.stringify({
        limits: [
          { currency: 'MXN', minStake: 1000, maxStake: 500000, maxPayout: 5000000, selectionLiabilityCap: 20000000 },
        ],
        suspended: { events: [], markets: [] },
      }),
    );
    const set = await run('betting', 'set', '--file', config);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((JSON.parse(set.out) as { version: number }).version, 1);
    const shownConfig = await run('betting', 'show');
    assert.equal((JSON.parse(shownConfig.out) as { config: { version: number } }).config.version, 1);
    writeFileSync(config, JSON.stringify({ limits: 'none' }));
    const badConfig = await run('betting', 'set', '--file', config);
    assert.equal(badConfig.code, 1);
    assert.match(badConfig.stderr, /400 invalid_request/);

    // A drawer counted short raises a cash variance; an operator acknowledges it from the command line.
    const reopened = Terminal.open({ dataDir: join(dir, 'till'), transport: new HttpTransport(server.url) });
    reopened.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
    reopened.closeShift({ countedCash: 9_500 });
    const report = await reopened.syncNow();
    assert.equal(reopened.status().pending, 0, JSON.stringify(report));
    await reopened.close();
    const open = await run('exceptions', 'list', '--status', 'open', '--json');
    const [variance] = (JSON.parse(open.out) as { items: { id: string; type: string }[] }).items;
    assert.equal(variance?.type, 'cash_variance');
    const acted = await run(
      'exceptions',
      'act',
      variance?.id as string,
      '--action',
      'acknowledged',
      '--note',
      'recounted',
    );
    assert.equal(acted.code, 0, acted.stderr);
    assert.equal(acted.out, `exception ${variance?.id} (cash_variance): resolved`);
    const again = await run('exceptions', 'act', variance?.id as string, '--action', 'contacted', '--note', 'late');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409 already_resolved/);

    const revoked = await run('devices', 'revoke', deviceId, '--reason', 'stolen');
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.out, /revoked {4}\S+: stolen/);
    const missing = await run('devices', 'show', '0190a1b2-0000-7000-8000-000000000000');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404 not_found/);
    const usage = await run('devices', 'show');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /devices show needs an id/);
  });

  it('server-keys: rotates the signing key; a till enrolled before keeps syncing, its answers now signed by the new key', async () => {
    const token = await run('enroll-token', '--label', 'bar-keys');
    assert.equal(token.code, 0, token.stderr);
    const tillDir = join(dir, 'till-keys');
    const till = Terminal.open({ dataDir: tillDir, transport: new HttpTransport(server.url), autoSync: false });
    try {
      await till.enroll(token.out.split('\n')[0] as string, 'bar-keys');
      const before = await run('server-keys', 'list', '--json');
      assert.equal(before.code, 0, before.stderr);
      const [old] = (JSON.parse(before.out) as { keys: { id: string }[] }).keys;

      const rotated = await run('server-keys', 'rotate');
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.out, new RegExp(`^previous key ${old?.id} trusted until \\d{4}-`, 'm'));
      const list = await run('server-keys', 'list');
      assert.match(list.out, /^id\s+created\s+retired\s+state$/m);
      assert.match(list.out, new RegExp(`^${old?.id}\\s.*overlap$`, 'm'));
      assert.match(list.out, /active$/m);

      till.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      await till.syncNow();
      assert.deepEqual([till.status().confirmed, till.status().pending], [1, 0], till.status().lastError ?? '');
    } finally {
      await till.close();
    }
  });
});
