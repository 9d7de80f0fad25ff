/**
 * Terminal.shiftPending and Terminal.shiftReport against a real server over
 * HTTP: the clerk sees the ops of the shift still waiting for the server,
 * then, once the close has synced, the server's signed word on the shift's
 * Z report; a shift the server does not hold is refused, never "confirmed".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '@holdfast/server';
import { HttpTransport, RequestRejectedError, Terminal } from '@holdfast/terminal';

const OPERATOR = 'operator-token-for-shift-report-0123';

describe('Terminal.shiftPending / shiftReport (real server)', () => {
  let server: RunningServer;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holdfast-shift-report-'));
    server = await startServer({ dataDir: join(dir, 'server'), port: 0, logger: false, operatorToken: OPERATOR });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pending ops of the shift until synced; then the Z report confirmed by the server', async () => {
    const res = await fetch(`${server.url}/v1/admin/enrollment-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const { token } = (await res.json()) as { token: string };
    const till = Terminal.open({
      dataDir: join(dir, 'till'),
      transport: new HttpTransport(server.url),
      autoSync: false,
    });
    try {
      await till.enroll(token, 'bar-1');
      const open = till.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      const sale = till.recordSale({
        lines: [{ sku: 'TEA', name: 'Tea', qty: 2, unitPrice: 250 }],
        tenders: [{ type: 'cash', amount: 500, tendered: 500 }],
      });
      const close = till.closeShift({ countedCash: 10_500 });
      assert.deepEqual(
        till.shiftPending(open.id).map((e) => [e.seq, e.kind]),
        [
          [open.seq, 'shift.opened'],
          [sale.seq, 'sale.recorded'],
          [close.seq, 'shift.closed'],
        ],
      );
      await assert.rejects(till.shiftReport(open.id), (e: unknown) => {
        assert.ok(e instanceof RequestRejectedError);
        assert.equal(e.serverCode, 'not_found', 'nothing synced: the server holds no such shift');
        return true;
      });
      await till.syncNow();
      assert.deepEqual(till.shiftPending(open.id), []);
      const report = await till.shiftReport(open.id);
      assert.equal(report.state, 'confirmed', JSON.stringify(report));
      assert.equal(report.server.expectedCash, 10_500);
      assert.equal(report.server.variance, 0);
    } finally {
      await till.close();
    }
  });
});
