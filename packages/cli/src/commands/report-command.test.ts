/**
 * `holdfast report declines`: the text it renders, and the command as a
 * real process against a real server that forwarded offline card payments
 * to a real processor simulator, one of them on a blocked card.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningProcessorSim, startProcessorSim } from '@holdfast/processor-sim';
import {
  ChainBuilder,
  type Decision,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  signMessage,
} from '@holdfast/protocol';
import { type DeclineReport, type RunningServer, startServer } from '@holdfast/server';
import { CliProcess } from '../cli-process.js';
import { renderDeclineReport } from './report-command.js';

const OPERATOR = 'report-test-operator-token-0123456789';
const DAY = 86_400_000;

describe('decline report rendering', () => {
  const row = (merchant: string | null, location: string | null, n: number, d: number, amount: number) => ({
    day: '2026-11-21',
    merchant,
    location,
    currency: 'EUR',
    forwardedCount: n,
    forwardedAmount: amount * n,
    declinedCount: d,
    declinedAmount: amount * d,
    declineRate: d / n,
  });

  it('one line per day, location and currency, then the totals per currency', () => {
    const lines = renderDeclineReport({
      from: Date.UTC(2026, 10, 21),
      to: Date.UTC(2026, 10, 22),
      rows: [row(null, null, 1, 1, 500), row('acme', 'north', 4, 1, 1_000), row('acme', null, 2, 0, 100)],
    });
    assert.match(lines[0] ?? '', /^post-authorization declines, 2026-11-21T00:00:00\.000Z \.\. 2026-11-22/);
    assert.match(lines[2] ?? '', /^2026-11-21\s+\(unplaced\)\s+-\s+EUR\s+1\s+€5\.00\s+1\s+€5\.00\s+100\.0 %$/);
    assert.match(lines[3] ?? '', /^2026-11-21\s+acme\s+north\s+EUR\s+4\s+€40\.00\s+1\s+€10\.00\s+25\.0 %$/);
    assert.match(lines[4] ?? '', /^2026-11-21\s+acme\s+\*\s+EUR\s+2\s+€2\.00\s+0\s+€0\.00\s+0\.0 %$/);
    assert.equal(lines[5], 'total EUR: 2 of 7 declined (28.6 %), €15.00 to recover');
  });

  it('says so when nothing was forwarded', () => {
    const lines = renderDeclineReport({ from: 0, to: DAY, rows: [] });
    assert.equal(lines[1], 'no offline payments were forwarded in this range');
  });
});

describe('holdfast report declines (a real process against a real server and processor)', () => {
  let server: RunningServer;
  let processor: RunningProcessorSim;
  let dir: string;

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown, admin = true) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(admin ? { authorization: `Bearer ${OPERATOR}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, JSON.stringify(json));
    return json;
  };

  const run = async (...args: string[]) => {
    const p = CliProcess.start('report', ['report', ...args]);
    const exit = await p.exited;
    return { code: exit.code, lines: p.lines, stderr: p.stderr };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holdfast-report-'));
    processor = await startProcessorSim({
      dataDir: join(dir, 'processor'),
      seed: 3,
      cards: { tok_blocked_1: { blocked: true } },
    });
    server = await startServer({
      dataDir: join(dir, 'server'),
      port: 0,
      logger: false,
      operatorToken: OPERATOR,
      processor: { url: processor.url, apiKey: processor.apiKey, intervalMs: 20 },
    });
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    await processor.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the decline rate of what the forwarder sent, per location and day', async () => {
    const { token } = (await call('POST', '/v1/admin/enrollment-tokens', { merchant: 'acme', location: 'north' })) as {
      token: string;
    };
    const keys = generateDeviceKeys();
    const key = importPrivateKey(keys.privateKey);
    const sig = signMessage(enrollmentMessage(token, keys.publicKey), key);
    const { deviceId } = (await call('POST', '/v1/enroll', { token, publicKey: keys.publicKey, sig }, false)) as {
      deviceId: string;
    };
    const local: Decision = { mode: 'local', outcome: 'approved', policy: null, rule: 'within_limits' };
    const chain = new ChainBuilder(deviceId, key);
    const open = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 });
    const sales = ['tok_fine_0001', 'tok_blocked_1', 'tok_fine_0002', 'tok_fine_0003'].map((cardToken) =>
      chain.next(
        'sale.recorded',
        {
          shift: open.id,
          currency: 'EUR',
          lines: [{ sku: 'BEER', name: 'Beer', qty: 1, unitPrice: 1_250 }],
          total: 1_250,
          tenders: [{ type: 'card', amount: 1_250, token: cardToken, brand: 'visa', last4: '4242' }],
          customer: { phone: '+1 555 0100' },
        },
        local,
      ),
    );
    await call('POST', '/v1/batches', chain.batch([open, ...sales]), false);
    const deadline = Date.now() + 10_000;
    while ((await server.storage.listOfflinePayments(null)).some((p) => p.settledAt === null)) {
      assert.ok(Date.now() < deadline, 'forwarded within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const ok = await run('declines', '--server', server.url, '--operator-token', OPERATOR);
    assert.equal(ok.code, 0, ok.stderr);
    const today = new Date().toISOString().slice(0, 10);
    assert.ok(
      ok.lines.some((l) =>
        new RegExp(`^${today}\\s+acme\\s+north\\s+EUR\\s+4\\s+€50\\.00\\s+1\\s+€12\\.50\\s+25\\.0 %$`).test(l),
      ),
      ok.lines.join('\n'),
    );
    assert.ok(ok.lines.includes('total EUR: 1 of 4 declined (25.0 %), €12.50 to recover'));
    const json = await run('declines', '--server', server.url, '--operator-token', OPERATOR, '--json', '--from', today);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.lines.join('\n')) as DeclineReport;
    assert.deepEqual(
      report.rows.map((r) => [r.merchant, r.location, r.forwardedCount, r.declinedCount]),
      [['acme', 'north', 4, 1]],
    );
    const exceptions = (await call('GET', '/v1/admin/exceptions?type=post_auth_decline')) as {
      items: { detail: Record<string, unknown>; status: string }[];
    };
    assert.deepEqual(
      exceptions.items.map((x) => [x.status, x.detail.shift, x.detail.customer]),
      [['open', open.id, { phone: '+1 555 0100' }]],
    );
  });

  it('exits 1 naming a refused parameter; 2 for usage errors', async () => {
    const refused = await run('declines', '--server', server.url, '--operator-token', OPERATOR, '--from', '2026-02-30');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /400 invalid_request .*\(query\.from\)/);
    const usage: [string[], RegExp][] = [
      [['declines', '--operator-token', OPERATOR], /--server \(or HOLDFAST_URL\) is required/],
      [
        ['declines', '--server', server.url],
        /--operator-token or --operator-token-file \(or HOLDFAST_OPERATOR_TOKEN \/ HOLDFAST_OPERATOR_TOKEN_FILE\) is required/,
      ],
      [['declines', '--server', server.url, '--operator-token', OPERATOR, '--to', 'soon'], /--to must be/],
      [['refunds', '--server', server.url], /unknown report "refunds"/],
    ];
    for (const [args, message] of usage) {
      const r = await run(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
