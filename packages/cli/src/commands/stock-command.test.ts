/**
 * `holdfast stock` as a real process against a real server: a real till
 * (over HTTP) receives 1 beer and sells 2; the levels and movements show
 * it, the shortfall is resolved with a refund decision that must name a
 * stored refund op, and bad input is refused with the server's codes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '@holdfast/server';
import { HttpTransport, Terminal } from '@holdfast/terminal';
import { CliProcess } from '../cli-process.js';

const OPERATOR = 'operator-token-for-stock-command-001';

describe('holdfast stock', () => {
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
    dir = mkdtempSync(join(tmpdir(), 'holdfast-stock-'));
    server = await startServer({ dataDir: join(dir, 'server'), port: 0, logger: false, operatorToken: OPERATOR });
  });
  after(async () => {
    await CliProcess.killAll();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists levels and movements and records a shortfall decision; bad input refused with codes', async () => {
    const empty = await run('stock', 'levels');
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.out, 'no stock levels');

    await server.service.catalog.upsertItems(
      { items: [{ sku: 'BEER-05', name: 'Beer', taxCategory: 'standard', unit: 'each' }] },
      'test',
    );
    const { token } = await server.service.createEnrollmentToken({ merchant: 'acme', location: 'stand-1' });
    const till = Terminal.open({
      dataDir: join(dir, 'till'),
      transport: new HttpTransport(server.url),
      autoSync: false,
    });
    let sale: string;
    try {
      await till.enroll(token, 'till-1');
      till.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      till.recordStock('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: 1 });
      sale = till.recordSale({
        lines: [{ sku: 'BEER-05', name: 'Beer', qty: 2, unitPrice: 500 }],
        tenders: [{ type: 'cash', amount: 1000, tendered: 1000 }],
      }).id;
      await till.syncNow();
      assert.equal(till.status().pending, 0);
    } finally {
      await till.close();
    }

    const levels = await run('stock', 'levels', '--location', 'stand-1');
    assert.equal(levels.code, 0, levels.stderr);
    assert.match(levels.out, /stand-1 +BEER-05 +1 +2 +0 +0 +-1 +oversold \(episode 1\)/);
    const moves = await run('stock', 'moves', '--json');
    assert.deepEqual(
      JSON.parse(moves.out).items.map((m: { kind: string; delta: number }) => [m.kind, m.delta]),
      [
        ['receive', 1],
        ['sale', -2],
      ],
    );
    const badLocation = await run('stock', 'levels', '--location', 'a b');
    assert.equal(badLocation.code, 1);
    assert.match(badLocation.stderr, /400 invalid_request .*\(query\.location\)/);

    const shortfalls = await server.storage.listExceptions(0, 100);
    const shortfall = shortfalls.items.find((x) => x.type === 'stock_shortfall');
    assert.ok(shortfall);
    assert.equal(shortfall.opId, sale);
    const notRefund = await run(
      'stock',
      'resolve',
      shortfall.id,
      '--action',
      'refunded',
      '--note',
      'n',
      '--reference',
      sale,
    );
    assert.equal(notRefund.code, 1);
    assert.match(notRefund.stderr, /400 invalid_request .*\(reference\)/);
    const resolved = await run('stock', 'resolve', shortfall.id, '--action', 'backordered', '--note', 'on order');
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.match(resolved.out, /stock_shortfall .*: backordered by bootstrap, now resolved/);
  });
});
