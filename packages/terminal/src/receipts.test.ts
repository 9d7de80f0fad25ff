import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deviceCode, negotiateLocale, receiptText } from '@holdfast/domain';
import { NoReceiptError } from './errors.js';
import { cardSale, cashSale, createHarness, openTill } from './testing/harness.js';

describe('Terminal receipts', () => {
  test('a sale prints pending, then confirmed once synced; a reprint says COPY and records nothing', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      const sale = h.terminal.recordSale(cashSale(2));
      const first = h.terminal.receipt(sale.id);
      assert.equal(first.type, 'sale');
      assert.deepEqual([first.status, first.copy, first.opId, first.seq], ['pending', false, sale.id, sale.seq]);
      assert.match(receiptText(first, { locale: negotiateLocale('en') }), /Pending confirmation/);

      await h.terminal.syncNow();
      const before = h.terminal.status().latestSeq;
      const copy = h.terminal.receipt(sale.id, { copy: true });
      assert.deepEqual([copy.status, copy.copy, copy.number], ['confirmed', true, first.number]);
      assert.match(receiptText(copy, { locale: negotiateLocale('es') }), /\*\*\* COPIA \*\*\*/);
      assert.equal(h.terminal.status().latestSeq, before, 'printing recorded no op');
    } finally {
      await h.cleanup();
    }
  });

  test('closing a shift prints its Z report: expected against counted', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      h.terminal.recordSale(cashSale(4)); // 10.00 cash
      h.terminal.recordSale(cardSale());
      h.terminal.recordCashMovement({ direction: 'out', reason: 'safe_drop', amount: 5_000 });
      const close = h.terminal.closeShift({ countedCash: 5_900 });
      const z = h.terminal.receipt(close.id);
      assert.equal(z.type, 'z_report');
      if (z.type !== 'z_report') return;
      assert.deepEqual(
        [z.openingFloat, z.cashOut, z.expectedCash, z.countedCash, z.variance],
        [10_000, 5_000, 6_000, 5_900, -100],
      );
      assert.deepEqual(
        z.tenders.map((t) => [t.name, t.count, t.amount]),
        [
          ['cash', 1, 1_000],
          ['card', 1, 1_299],
        ],
      );
      assert.equal(
        h.terminal.lastShift()?.countedCash,
        z.countedCash,
        'the report agrees with the shift the till keeps',
      );
    } finally {
      await h.cleanup();
    }
  });

  test('finds a sale again by the number the clerk reads out', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      const sale = h.terminal.recordSale(cashSale());
      const number = h.terminal.receipt(sale.id).number;
      assert.equal(h.terminal.findReceipt(number).id, sale.id);
      assert.equal(h.terminal.findReceipt(` ${number.toLowerCase().replace('-', ' ')} `).id, sale.id);

      const code = deviceCode(h.terminal.deviceId as string);
      const other = code === 'ZZZZZ' ? 'YYYYY' : 'ZZZZZ';
      assert.throws(
        () => h.terminal.findReceipt(`${other}-000002`),
        (e: unknown) => {
          assert.ok(e instanceof NoReceiptError);
          assert.equal(e.code, 'no_receipt');
          assert.match(e.message, /another device/);
          return true;
        },
      );
      assert.throws(() => h.terminal.findReceipt(`${code}-000999`), /no op #999/);
      assert.throws(() => h.terminal.findReceipt('hello'), /not a receipt number/);
      // A shift opening prints no receipt.
      const opening = h.terminal.findReceipt(`${code}-000001`);
      assert.throws(() => h.terminal.receipt(opening.id), /shift\.opened, which prints no receipt/);
      assert.throws(() => h.terminal.receipt('0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b'), NoReceiptError);
    } finally {
      await h.cleanup();
    }
  });
});
