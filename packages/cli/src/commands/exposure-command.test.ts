/**
 * `holdfast exposure`: the report it renders (joining bound and actual,
 * warnings), and the command as a real process against a real server with
 * a placed fleet, a policy and card sales approved offline.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ChainBuilder,
  type Decision,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  type PolicyDraft,
  signMessage,
} from '@holdfast/protocol';
import { type ExposureAnswer, type RunningServer, startServer } from '@holdfast/server';
import { UsageError } from '../args.js';
import { CliProcess } from '../cli-process.js';
import { exposureRows, parseAt, renderExposure } from './exposure-command.js';

const OPERATOR = 'exposure-test-operator-token-0123456789';
const T = Date.UTC(2026, 10, 21, 12, 0, 0);

function answer(over: Partial<ExposureAnswer> = {}): ExposureAnswer {
  const bound = (location: string, amount: number, worst: number) => ({
    currency: 'EUR',
    merchant: 'acme',
    location,
    event: 'final',
    devices: 2,
    maxAmount: amount,
    maxCount: 10,
    worstAmount: worst,
    worstCount: 20,
  });
  return {
    at: T,
    bound: [bound('north', 10_000, 20_000), bound('south', 10_000, 20_000)],
    uncovered: [],
    unplaced: [],
    actual: [],
    ...over,
  };
}

const held = (location: string | null, amount: number, count = 1, merchant: string | null = 'acme') => ({
  currency: 'EUR',
  merchant,
  location,
  event: location === null ? null : 'final',
  amount,
  count,
});

describe('exposure report', () => {
  it('joins bound and actual per placement, in order, unplaced devices first', () => {
    const rows = exposureRows(answer({ actual: [held(null, 300, 1, null), held('south', 2_500, 2)] }));
    assert.deepEqual(
      rows.map((r) => [r.merchant, r.location, r.devices, r.bound.amount, r.worst.amount, r.actual.amount]),
      [
        [null, null, 0, 0, 0, 300],
        ['acme', 'north', 2, 10_000, 20_000, 0],
        ['acme', 'south', 2, 10_000, 20_000, 2_500],
      ],
    );
  });

  it('warns where the actual exposure passes the worst case, notes where it passes only the bound in force', () => {
    const within = renderExposure(answer({ actual: [held('north', 10_000, 10)] }), 2);
    assert.equal(within.filter((l) => /WARNING|note/.test(l)).length, 0, within.join('\n'));
    assert.match(within[0] ?? '', /^offline exposure at 2026-11-21T12:00:00\.000Z/);
    assert.ok(
      within.some((l) => /^EUR\s+acme\s+north\s+final\s+2\s+€100\.00 \/ 10\s+€200\.00 \/ 20\s+€100\.00 \/ 10$/.test(l)),
    );

    const lines = renderExposure(
      answer({ actual: [held(null, 300, 1, null), held('north', 10_001, 3), held('south', 20_001, 4)] }),
      2,
    );
    const flagged = lines.filter((l) => /WARNING|note/.test(l));
    assert.deepEqual(
      flagged.map((l) => l.split(':')[0]),
      ['WARNING', 'note', 'WARNING'],
    );
    assert.match(
      flagged[0] ?? '',
      /EUR \(unplaced devices\): €3\.00 \/ 1 held unsettled is above the worst-case bound of €0\.00 \/ 0/,
    );
    assert.match(flagged[1] ?? '', /acme\/north\/final: €100\.01 \/ 3 .* in force \(€100\.00 \/ 10\)/);
    assert.match(flagged[2] ?? '', /acme\/south\/final: €200\.01 \/ 4 .* worst-case bound of €200\.00 \/ 20/);
    const byCount = renderExposure(answer({ actual: [held('north', 100, 21)] }), 2);
    assert.equal(byCount.filter((l) => l.startsWith('WARNING')).length, 1, 'a count above the bound warns too');
  });

  it('lists devices without a policy in force and devices never placed', () => {
    const lines = renderExposure(answer({ bound: [], uncovered: ['d-1', 'd-2'], unplaced: ['d-3'] }), 0);
    assert.ok(lines.includes('no policies issued and nothing held offline'));
    const issued = renderExposure(answer({ bound: [], uncovered: [], unplaced: ['d-3'] }), 2);
    assert.match(
      issued[1] ?? '',
      /^2 policies issued, none in force for a placed device at this time, and nothing held offline/,
    );
    assert.ok(lines.some((l) => l.includes('2 device(s): d-1, d-2')));
    assert.ok(lines.some((l) => l.includes('not placed') && l.includes('d-3')));
  });

  it('--at takes epoch ms or ISO 8601', () => {
    assert.equal(parseAt(String(T)), T);
    assert.equal(parseAt('2026-11-21T12:00:00Z'), T);
    for (const bad of ['tomorrow', '12', '-5', '2300-01-01T00:00:00Z']) assert.throws(() => parseAt(bad), UsageError);
  });
});

describe('holdfast exposure (a real process against a real server)', () => {
  let server: RunningServer;
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

  /** Enrolls a terminal at a placement and sends a shift with card sales, each with its decision. */
  const terminal = async (location: string, sales: [number, Decision][]) => {
    const { token } = (await call('POST', '/v1/admin/enrollment-tokens', {
      merchant: 'acme',
      location,
      event: 'final',
    })) as { token: string };
    const keys = generateDeviceKeys();
    const key = importPrivateKey(keys.privateKey);
    const sig = signMessage(enrollmentMessage(token, keys.publicKey), key);
    const { deviceId } = (await call('POST', '/v1/enroll', { token, publicKey: keys.publicKey, sig }, false)) as {
      deviceId: string;
    };
    const chain = new ChainBuilder(deviceId, key);
    const open = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 });
    const ops = sales.map(([amount, decision]) =>
      chain.next(
        'sale.recorded',
        {
          shift: open.id,
          currency: 'EUR',
          lines: [{ sku: 'BEER', name: 'Beer', qty: 1, unitPrice: amount }],
          total: amount,
          tenders: [{ type: 'card', amount, token: 'tok_12345678', brand: 'visa', last4: '4242' }],
        },
        decision,
      ),
    );
    await call('POST', '/v1/batches', chain.batch([open, ...ops]), false);
    return deviceId;
  };

  const run = async (...args: string[]) => {
    const p = CliProcess.start('exposure', ['exposure', ...args]);
    const exit = await p.exited;
    return { code: exit.code, lines: p.lines, stderr: p.stderr };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holdfast-exposure-'));
    server = await startServer({ dataDir: dir, port: 0, logger: false, operatorToken: OPERATOR });
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints bound and actual per placement, then warns once a device holds more than any policy allows there', async () => {
    const local: Decision = { mode: 'local', outcome: 'approved', policy: null, rule: 'within_limits' };
    const policy: PolicyDraft = {
      scope: { merchant: 'acme', location: 'north', event: null, devices: null },
      currency: 'EUR',
      expiresAt: Date.now() + 86_400_000,
      offline: {
        maxOfflineMs: 3_600_000,
        device: { maxAmount: 10_000, maxCount: 10 },
        tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
      },
      online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
    };
    await call('POST', '/v1/admin/policies', policy);
    // Issued, but no device is placed in its scope yet: say so rather than "no policies issued".
    const early = CliProcess.start('exposure', ['exposure'], {
      HOLDFAST_URL: server.url,
      HOLDFAST_OPERATOR_TOKEN: OPERATOR,
    });
    assert.equal((await early.exited).code, 0, early.stderr);
    assert.match(early.lines.join('\n'), /1 policy issued, none in force for a placed device at this time/);
    await terminal('north', [
      [4_000, local],
      [2_000, local],
    ]);
    const moved = await terminal('north', [[3_000, local]]);

    const ok = await run('--server', server.url, '--operator-token', OPERATOR);
    assert.equal(ok.code, 0, ok.stderr);
    const text = ok.lines.join('\n');
    assert.match(text, /^EUR\s+acme\s+north\s+final\s+2\s+€200\.00 \/ 20\s+€200\.00 \/ 20\s+€90\.00 \/ 3$/m);
    assert.doesNotMatch(text, /WARNING/);

    // Moved to a location no policy covers while it still holds an approval.
    await call('POST', `/v1/admin/devices/${moved}/placement`, { merchant: 'acme', location: 'south', event: 'final' });
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${OPERATOR}\n`);
    const warned = await run('--server', `${server.url}/`, '--operator-token-file', tokenFile);
    assert.equal(warned.code, 0, warned.stderr);
    assert.ok(
      warned.lines.some((l) => /^EUR\s+acme\s+south\s+final\s+0\s+€0\.00 \/ 0\s+€0\.00 \/ 0\s+€30\.00 \/ 1$/.test(l)),
    );
    assert.ok(warned.lines.some((l) => l.startsWith(`no policy in force`) && l.includes(moved)));
    assert.deepEqual(
      warned.lines.filter((l) => l.startsWith('WARNING')),
      [
        'WARNING: EUR acme/south/final: €30.00 / 1 held unsettled is above the worst-case bound of €0.00 / 0: a terminal approved beyond its policy, a device was moved or is unplaced',
      ],
    );

    const json = await run('--server', server.url, '--operator-token', OPERATOR, '--json', '--at', String(Date.now()));
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.lines.join('\n')) as ExposureAnswer;
    assert.deepEqual(
      parsed.actual.map((a) => [a.location, a.amount, a.count]),
      [
        ['north', 6_000, 2],
        ['south', 3_000, 1],
      ],
    );
  });

  it('exits 1 naming the refusal (wrong token) or the unreachable server; 2 for usage errors', async () => {
    const wrong = await run('--server', server.url, '--operator-token', 'not-the-token-0123456789');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401 unauthorized/);
    const down = await run('--server', 'http://127.0.0.1:1', '--operator-token', OPERATOR);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:1/);
    const usage: [string[], RegExp][] = [
      [['--operator-token', OPERATOR], /--server \(or HOLDFAST_URL\) is required/],
      [
        ['--server', server.url],
        /--operator-token or --operator-token-file \(or HOLDFAST_OPERATOR_TOKEN \/ HOLDFAST_OPERATOR_TOKEN_FILE\) is required/,
      ],
      [['--server', server.url, '--operator-token', 'a', '--operator-token-file', 'b'], /not both/],
      [['--server', 'ftp://x', '--operator-token', OPERATOR], /http:\/\/ or https:\/\//],
      [['--server', server.url, '--operator-token', OPERATOR, '--at', 'soon'], /--at must be/],
    ];
    for (const [args, message] of usage) {
      const r = await run(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
