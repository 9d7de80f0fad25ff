/**
 * The staff rule bites: a real server and a real terminal (in process), a
 * roster, a clerk signed in and a supervisor's approval, synced; the check
 * finds nothing. Then the server's roster history is tampered with behind
 * its append-only triggers, and the rule names each op whose staff no
 * longer stands.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HoldfastService, SqliteStorage } from '@holdfast/server';
import { Terminal } from '@holdfast/terminal';
import Database from 'better-sqlite3';
import { inProcessTransport } from '../../in-process-transport.js';
import { checkServerAgainstJournals } from '../check-truth.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-staff-rule-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('staff rule', () => {
  it('finds nothing in an honest run, and every op whose staff or approver no longer stands once the roster is tampered with', async () => {
    const serverPath = join(dir, 'server.db');
    const tillDir = join(dir, 'till-1');
    const storage = new SqliteStorage({ path: serverPath });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    await service.staff.add({ location: 'hall-a', id: 'ana', name: 'Ana', role: 'clerk', pin: '4821' }, 'test');
    await service.staff.add({ location: 'hall-a', id: 'bea', name: 'Bea', role: 'supervisor', pin: '7390' }, 'test');
    const { token } = await service.createEnrollmentToken({ merchant: 'acme', location: 'hall-a' });
    const terminal = Terminal.open({ dataDir: tillDir, transport: inProcessTransport(service), autoSync: false });
    let saleId: string;
    let payoutId: string;
    try {
      await terminal.enroll(token, 'till-1');
      await terminal.pollFeed();
      assert.equal(terminal.staffRoster()?.version, 2, 'the roster came with the feed');
      terminal.signIn({ staff: 'ana' }, '4821');
      const shift = terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 }).id;
      saleId = terminal.recordSale({
        lines: [{ sku: 'A', name: 'A', qty: 1, unitPrice: 450 }],
        tenders: [{ type: 'cash', amount: 450, tendered: 500 }],
      }).id;
      const payout = { direction: 'out', reason: 'paid_out', amount: 300 } as const;
      terminal.approve({ kind: 'cash.moved', body: { shift, currency: 'EUR', ...payout } }, { staff: 'bea' }, '7390');
      payoutId = terminal.recordCashMovement(payout).id;
      await terminal.syncNow();
      assert.equal(terminal.status().pending, 0);
    } finally {
      await terminal.close();
      await storage.close();
    }

    const clean = await checkServerAgainstJournals({ server: serverPath, journals: [tillDir] });
    assert.deepEqual(clean.violations, []);
    assert.deepEqual(
      clean.truth.server.exceptions.map((e) => e.type),
      [],
      'the server raised nothing either',
    );

    const db = new Database(serverPath);
    db.exec('DROP TRIGGER staff_events_no_update;');
    db.prepare("UPDATE staff_events SET role = 'clerk' WHERE staff = 'bea'").run();
    db.prepare("UPDATE staff_events SET location = 'hall-b' WHERE staff = 'ana' AND action = 'added'").run();
    db.close();
    const { violations } = await checkServerAgainstJournals({ server: serverPath, journals: [tillDir] });
    const staff = violations.filter((v) => v.rule === 'staff');
    assert.ok(
      staff.some((v) => v.opId === payoutId && /approved by a clerk, needs a supervisor/.test(v.message)),
      JSON.stringify(staff),
    );
    assert.ok(staff.some((v) => v.opId === saleId && v.device === 'till-1' && /was at hall-b/.test(v.message)));
    assert.equal(staff.length, 4, 'shift, sale and payout by ana at the wrong location, and the payout approval');
  });
});
