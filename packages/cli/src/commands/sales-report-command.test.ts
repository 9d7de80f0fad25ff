/**
 * `holdfast report sales|outages|accounting` as a real process against a
 * real server: a placed lane sells two catalog items and refunds one; the
 * text, JSON and CSV answers; refusals and usage errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChainBuilder, enrollmentMessage, generateDeviceKeys, importPrivateKey, signMessage } from '@holdfast/protocol';
import { type AccountingExport, type RunningServer, startServer } from '@holdfast/server';
import { CliProcess } from '../cli-process.js';

const OPERATOR = 'sales-report-test-operator-token-0123456789';

describe('holdfast report sales|outages|accounting (a real process against a real server)', () => {
  let server: RunningServer;
  let dir: string;

  const call = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, admin = true) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(admin ? { authorization: `Bearer ${OPERATOR}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    assert.ok(res.status < 300, JSON.stringify(json));
    return json;
  };

  const run = async (...args: string[]) => {
    const p = CliProcess.start('report', ['report', ...args, '--server', server.url, '--operator-token', OPERATOR]);
    const exit = await p.exited;
    return { code: exit.code, lines: p.lines, stderr: p.stderr };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holdfast-sales-report-'));
    server = await startServer({ dataDir: join(dir, 'server'), port: 0, logger: false, operatorToken: OPERATOR });
    await call('PUT', '/v1/admin/catalog/items', {
      items: [
        { sku: 'BEER', name: 'Beer', taxCategory: 'standard', unit: 'each' },
        { sku: 'WATER', name: 'Water', taxCategory: 'reduced', unit: 'each' },
      ],
    });
    await call('PUT', '/v1/admin/catalog/tax-rates', {
      rates: [
        { category: 'standard', rate: 2100 },
        { category: 'reduced', rate: 1000 },
      ],
    });
    const { token } = (await call('POST', '/v1/admin/enrollment-tokens', {
      label: 'lane-7',
      merchant: 'acme',
      location: 'north',
    })) as { token: string };
    const keys = generateDeviceKeys();
    const key = importPrivateKey(keys.privateKey);
    const sig = signMessage(enrollmentMessage(token, keys.publicKey), key);
    const { deviceId } = (await call('POST', '/v1/enroll', { token, publicKey: keys.publicKey, sig }, false)) as {
      deviceId: string;
    };
    const chain = new ChainBuilder(deviceId, key);
    const open = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 });
    const sale = chain.next('sale.recorded', {
      shift: open.id,
      currency: 'EUR',
      lines: [
        { sku: 'BEER', name: 'Beer', qty: 2, unitPrice: 1_210 },
        { sku: 'WATER', name: 'Water', qty: 1, unitPrice: 220 },
      ],
      total: 2_640,
      tenders: [{ type: 'cash', amount: 2_640, tendered: 3_000 }],
    });
    const refund = chain.next('sale.refunded', {
      shift: open.id,
      sale: sale.id,
      currency: 'EUR',
      lines: [{ line: 0, qty: 1 }],
      amount: 1_210,
      tender: 'cash',
    });
    await call('POST', '/v1/batches', chain.batch([open, sale, refund]), false);
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints sales by item as text and CSV, the journal as JSON, and no outages', async () => {
    const text = await run('sales', '--by', 'item');
    assert.equal(text.code, 0, text.stderr);
    // Beer 2 × €12.10 at 21 %: tax €4.20; one returned (€2.10 tax back). Water €2.20 at 10 %: €0.20.
    assert.ok(
      text.lines.some((l) => /^BEER\s+Beer\s+EUR\s+1\s+2\s+€24\.20\s+€4\.20\s+€12\.10\s+€12\.10\s+€2\.10$/.test(l)),
      text.lines.join('\n'),
    );
    assert.ok(text.lines.includes('total EUR: 1 sales, gross €26.40 (tax €4.40), returned €12.10, net €14.30'));
    const csv = await run('sales', '--by', 'lane', '--csv');
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.lines[0] ?? '', /^Device,Lane,Currency,Sales,Qty,Gross \(minor units\),Gross,/);
    assert.match(csv.lines[1] ?? '', /,lane-7,EUR,1,3,2640,€26\.40,440,€4\.40,0,1,1210,€12\.10,210,1430,€14\.30,230$/);
    const json = await run('accounting', '--by', 'shift', '--json');
    assert.equal(json.code, 0, json.stderr);
    const journal = JSON.parse(json.lines.join('\n')) as AccountingExport;
    assert.equal(journal.groups.length, 1);
    assert.deepEqual(
      journal.groups[0]?.accounts.map((t) => [t.account, t.debit, t.credit]),
      [
        ['1000', 2640, 1210],
        ['2200', 210, 440],
        ['4000', 0, 2200],
        ['4100', 1000, 0],
      ],
    );
    const outages = await run('outages');
    assert.equal(outages.code, 0, outages.stderr);
    assert.equal(outages.lines[1], 'no outages in this range');
  });

  it('exits 1 naming a refused parameter; 2 for usage errors', async () => {
    const refused = await run('sales', '--by', 'week');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /400 invalid_request .*\(query\.by\)/);
    const usage: [string[], RegExp][] = [
      [['sales', '--json', '--csv'], /--json and --csv exclude each other/],
      [['outages', '--by', 'day'], /--by is for the sales and accounting reports/],
      [['sales', '--threshold-minutes', '5'], /--threshold-minutes is for the outages report/],
      [['accounting', '--from', 'soon'], /--from must be/],
    ];
    for (const [args, message] of usage) {
      const r = await run(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
