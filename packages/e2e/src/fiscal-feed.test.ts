/**
 * A fiscal number back on the terminal, over real HTTP: a till records two
 * sales offline (its receipts print as provisional), syncs; the server's
 * fiscal submitter registers them with the authority simulator (a separate
 * HTTP service); the till's device feed brings the numbers, and a reprint
 * says COPY and shows the fiscal number.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { negotiateLocale, receiptText, systemClock } from '@holdfast/domain';
import { FiscalClient } from '@holdfast/processor-client';
import { startFiscalSim } from '@holdfast/processor-sim';
import { FiscalSubmitter } from '@holdfast/server';
import type { Terminal } from '@holdfast/terminal';
import { E2eWorld } from './e2e-fixture.js';

const en = negotiateLocale('en-GB');

describe('fiscal numbers through the device feed, over real HTTP', () => {
  it('a provisional receipt, then a reprint (COPY) with the fiscal number', async () => {
    const w = await E2eWorld.start('fiscal-feed');
    const sim = await startFiscalSim({ dataDir: `${w.dir}/authority`, seed: 2, synchronous: 'OFF' });
    const submitter = new FiscalSubmitter({
      storage: w.server.storage,
      authority: new FiscalClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 2_000 }),
      clock: systemClock,
      owner: 'e2e',
      sellerTaxId: 'PTB12345678',
      batchSize: 10,
      leaseMs: 10_000,
      timeoutMs: 2_000,
    });
    let terminal: Terminal | null = null;
    try {
      const token = await w.enrollmentToken({});
      terminal = w.openTerminal('till', { autoSync: false, idlePingMs: 0 });
      await terminal.enroll(token);
      terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 0 });
      const sale = (amount: number) =>
        terminal?.recordSale({
          lines: [{ sku: 'TEA', name: 'Tea', qty: 1, unitPrice: amount }],
          tenders: [{ type: 'cash' as const, amount, tendered: amount }],
        });
      const first = sale(250);
      const second = sale(400);
      assert.ok(first && second);
      const provisional = receiptText(terminal.receipt(first.id, { eInvoicing: true }), { locale: en });
      assert.match(provisional, /PROVISIONAL - fiscal number pending/);
      assert.doesNotMatch(
        receiptText(terminal.receipt(first.id), { locale: en }),
        /PROVISIONAL|Fiscal no/,
        'off unless asked',
      );

      await terminal.syncNow();
      const summary = await submitter.runOnce();
      assert.equal(summary.registered, 2);
      const bills = await w.server.storage.listFiscalBills(null);
      await terminal.pollFeed();

      const reprint = receiptText(terminal.receipt(first.id, { copy: true, eInvoicing: true }), { locale: en });
      const number = bills.find((b) => b.opId === first.id)?.fiscalNumber;
      assert.ok(number);
      assert.match(reprint, /\*\*\* COPY \*\*\*/);
      assert.ok(reprint.includes(`Fiscal no. ${number}`), reprint);
      assert.doesNotMatch(reprint, /PROVISIONAL/);
      const other = receiptText(terminal.receipt(second.id, { eInvoicing: true }), { locale: en });
      assert.ok(other.includes(`Fiscal no. ${bills.find((b) => b.opId === second.id)?.fiscalNumber}`));
      assert.notEqual(number, bills.find((b) => b.opId === second.id)?.fiscalNumber, 'each bill its own number');
    } finally {
      await submitter.stop();
      await sim.close();
      await w.close();
    }
  });
});
