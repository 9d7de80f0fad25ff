/**
 * The chaos run's checker on a small real journal and server database: clean
 * data passes, and each kind of damage is reported (a checker that never
 * fails proves nothing).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cryptoRandom } from '@holdfast/domain';
import { DATABASE_FILE, startServer } from '@holdfast/server';
import { randomBasket } from '@holdfast/sim';
import { HttpTransport, Terminal } from '@holdfast/terminal';
import Database from 'better-sqlite3';
import { checkChaos, type TillRecord } from './chaos-check.js';

const OPERATOR = 'chaos-check-operator-token-0123456789';
const SALES = 3;

describe('checkChaos', () => {
  const root = mkdtempSync(join(tmpdir(), 'holdfast-chaos-check-'));
  const serverDir = join(root, 'server');
  const till: TillRecord & { printed: { id: string; seq: number }[] } = {
    label: 'till-1',
    dataDir: join(root, 'till-1'),
    printed: [],
  };

  before(async () => {
    const server = await startServer({ dataDir: serverDir, port: 0, logger: false, operatorToken: OPERATOR });
    try {
      const res = await fetch(`${server.url}/v1/admin/enrollment-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const { token } = (await res.json()) as { token: string };
      const terminal = Terminal.open({
        dataDir: till.dataDir,
        transport: new HttpTransport(server.url),
        offlineCardPolicy: 'off', // random baskets pay by card; no policy is issued here
      });
      try {
        await terminal.enroll(token, till.label);
        const record = (op: { id: string; seq: number }) => till.printed.push({ id: op.id, seq: op.seq });
        record(terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 }));
        for (let i = 0; i < SALES; i++) record(terminal.recordSale(randomBasket(cryptoRandom)));
        const shift = terminal.currentShift();
        assert.ok(shift);
        record(terminal.closeShift({ countedCash: shift.openingFloat + shift.cashSales }));
        for (let i = 0; i < 100 && terminal.status().pending > 0; i++) await terminal.syncNow();
        assert.equal(terminal.status().pending, 0);
      } finally {
        await terminal.close();
      }
    } finally {
      await server.close();
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('passes clean data and counts it', async () => {
    const { violations, totals } = await checkChaos(serverDir, [till], SALES);
    assert.deepEqual(violations, []);
    assert.equal(totals.recorded, SALES + 2);
    assert.equal(totals.onServer, SALES + 2);
    assert.equal(totals.sales, SALES);
    assert.equal(totals.shifts, 1);
  });

  it('reports a printed op missing from the journal and a wrong sales count', async () => {
    const printed = [...till.printed, { id: '019aa6c0-0000-7000-8000-00000000000a', seq: 2 }];
    const { violations } = await checkChaos(serverDir, [{ ...till, printed }], SALES + 1);
    assert.deepEqual(violations, [
      'till-1: printed as recorded but not in the journal at that seq: 2',
      `till-1: ${SALES} sales in the journal, expected ${SALES + 1}`,
    ]);
  });

  it('reports an op applied twice and a sale no journal recorded', async () => {
    const db = new Database(join(serverDir, DATABASE_FILE));
    try {
      db.exec(`INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
        SELECT op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at FROM ledger
        WHERE type = 'sale.recorded' LIMIT 1`);
      // A sale is its ledger event (the sales view reads them): one no journal recorded.
      db.exec(`INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
        SELECT 'not-recorded', device, 99, type, shift_id, currency, amount, data, device_at, applied_at FROM ledger
        WHERE type = 'sale.recorded' LIMIT 1`);
    } finally {
      db.close();
    }
    const { violations } = await checkChaos(serverDir, [till], SALES);
    const expected = [
      /^ops with more than one ledger event: .* ×2$/,
      /^sales on the server no journal recorded: not-recorded$/,
      /^till-1: sales: journal .*, server /,
      /^till-1: ledger sales \d+, journal \d+$/,
      /^till-1: shift .*: journal .*, server sales /,
    ];
    for (const pattern of expected)
      assert.ok(
        violations.some((v) => pattern.test(v)),
        `${pattern}: ${violations}`,
      );
  });

  it('reports ops the server never got', async () => {
    const offline = Terminal.open({
      dataDir: till.dataDir,
      transport: new HttpTransport('http://127.0.0.1:9'),
      autoSync: false,
      offlineCardPolicy: 'off',
    });
    try {
      offline.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 0 });
    } finally {
      await offline.close();
    }
    const { violations } = await checkChaos(serverDir, [till], SALES);
    const expected = [
      /^till-1: ops not confirmed: 6 pending$/,
      /^till-1: 1 ops pending$/,
      /^till-1: recorded ops missing on the server: 6$/,
      /^till-1: server holds 5 ops, the journal 6$/,
      /^till-1: server device status /,
      /^till-1: 1 shifts on the server, 2 opened$/,
    ];
    for (const pattern of expected)
      assert.ok(
        violations.some((v) => pattern.test(v)),
        `${pattern}: ${violations}`,
      );
  });
});
