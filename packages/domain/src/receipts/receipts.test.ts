import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChainBuilder, generateDeviceKeys, NO_DECISION, type Op } from '@holdfast/protocol';
import fc from 'fast-check';
import { negotiateLocale } from '../locale.js';
import { encodePc858, receiptEscPos } from './escpos.js';
import { COLUMNS, layoutReceipt } from './layout.js';
import { moneyOutSlip, saleReceipt, zReport } from './receipt.js';
import { deviceCode, parseReceiptNumber, receiptNumber } from './receipt-number.js';
import { receiptHtml, receiptText } from './render.js';

const DEVICE = '0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b';
const T0 = Date.UTC(2026, 11, 6, 21, 5);
const en = negotiateLocale('en');
const es = negotiateLocale('es');
const pt = negotiateLocale('pt-BR');

/** A real chain: a shift with a cash sale, a card sale, cash in and out, closed 1.00 short. */
function shiftOps(): { ops: Op[]; shift: string; sale: Op } {
  const keys = generateDeviceKeys();
  let at = T0;
  const chain = new ChainBuilder(DEVICE, keys.privateKey, { now: () => at++ });
  const open = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
  const shift = open.id;
  const sale = chain.next('sale.recorded', {
    shift,
    currency: 'EUR',
    lines: [
      { sku: 'BEER', name: 'Beer 0.5l', qty: 2, unitPrice: 450, discount: 100 },
      { sku: 'PRETZEL', name: 'Pretzel', qty: 1, unitPrice: 300 },
    ],
    total: 1_100,
    tenders: [{ type: 'cash', amount: 1_100, tendered: 2_000 }],
  });
  const card = chain.next('sale.recorded', {
    shift,
    currency: 'EUR',
    lines: [{ sku: 'WINE', name: 'Wine', qty: 1, unitPrice: 700 }],
    total: 700,
    tenders: [{ type: 'card', amount: 700, token: 'tok_abcdefgh1234', brand: 'visa', last4: '4242' }],
  });
  const cashIn = chain.next('cash.moved', { shift, currency: 'EUR', direction: 'in', amount: 500, reason: 'float_in' });
  const cashOut = chain.next('cash.moved', {
    shift,
    currency: 'EUR',
    direction: 'out',
    amount: 2_000,
    reason: 'safe_drop',
  });
  // Expected: 10000 + 1100 + 500 − 2000 = 9600; counted 9500: 1.00 short.
  const close = chain.next('shift.closed', { shift, currency: 'EUR', countedCash: 9_500 });
  return { ops: [open, sale, card, cashIn, cashOut, close], shift, sale };
}

describe('receipt numbers', () => {
  it('are the device code and the zero-padded seq, the same every time', () => {
    const number = receiptNumber(DEVICE, 123);
    assert.match(number, /^[0-9A-HJKMNP-TV-Z]{5}-000123$/);
    assert.equal(receiptNumber(DEVICE, 123), number);
    assert.equal(receiptNumber(DEVICE.toUpperCase(), 123), number);
    assert.equal(receiptNumber(DEVICE, 12_345_678), `${deviceCode(DEVICE)}-12345678`);
    assert.throws(() => receiptNumber(DEVICE, 0), RangeError);
  });

  it('read back as typed or read aloud: any case, spaces, no dash, O for 0 and I/L for 1', () => {
    const code = deviceCode(DEVICE);
    const number = receiptNumber(DEVICE, 1_010);
    const expected = { code, seq: 1_010 };
    assert.deepEqual(parseReceiptNumber(number), expected);
    assert.deepEqual(parseReceiptNumber(number.toLowerCase()), expected);
    assert.deepEqual(parseReceiptNumber(` ${code} 00 1010 `), expected);
    assert.deepEqual(parseReceiptNumber(`${code}OOIOIO`), expected);
    assert.deepEqual(parseReceiptNumber(`${code}-001L1O`.replace('1L1', 'L0L')), { code, seq: 1_010 });
    for (const bad of ['', 'ABCD-1', 'ABCDEU-1', `${code}-0`, `${code}-`, 'x'.repeat(50), `${code}-1.5`]) {
      assert.equal(parseReceiptNumber(bad), null, bad);
    }
  });

  it('round-trip for any device and seq (property)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (device, seq) => {
        assert.deepEqual(parseReceiptNumber(receiptNumber(device, seq)), { code: deviceCode(device), seq });
      }),
    );
  });

  it('spread devices: 200 v7 ids enrolled in the same second mostly get distinct codes', () => {
    const ids = Array.from(
      { length: 200 },
      (_, i) => `0190a0b1-2c3d-7${(i % 4096).toString(16).padStart(3, '0')}-8a9b-${i.toString(16).padStart(12, '0')}`,
    );
    const codes = new Set(ids.map(deviceCode));
    assert.ok(codes.size >= 198, `${codes.size} distinct codes of 200`);
  });
});

describe('saleReceipt', () => {
  it('carries every line, tender and id, with change worked out', () => {
    const { sale, shift } = shiftOps();
    const r = saleReceipt(sale, { status: 'pending' });
    assert.equal(r.number, receiptNumber(DEVICE, sale.seq));
    assert.deepEqual([r.opId, r.device, r.seq, r.shift, r.copy], [sale.id, DEVICE, sale.seq, shift, false]);
    assert.deepEqual(
      r.lines.map((l) => [l.sku, l.amount]),
      [
        ['BEER', 800],
        ['PRETZEL', 300],
      ],
    );
    assert.deepEqual(r.tenders, [{ type: 'cash', amount: 1_100, tendered: 2_000, change: 900 }]);
  });

  it('refuses an op of another kind', () => {
    const { ops } = shiftOps();
    assert.throws(() => saleReceipt(ops[0] as Op, { status: 'pending' }), /sale\.recorded/);
  });
});

describe('zReport', () => {
  it('counts and totals per kind and tender; the drawer agrees with the shift rules', () => {
    const { ops, shift } = shiftOps();
    const z = zReport(ops, shift, { status: 'confirmed' });
    assert.deepEqual(
      z.kinds.map((k) => [k.name, k.count, k.amount]),
      [
        ['sale.recorded', 2, 1_800],
        ['cash.moved.in', 1, 500],
        ['cash.moved.out', 1, 2_000],
      ],
    );
    assert.deepEqual(
      z.tenders.map((t) => [t.name, t.count, t.amount]),
      [
        ['cash', 1, 1_100],
        ['card', 1, 700],
      ],
    );
    assert.deepEqual(
      [z.openingFloat, z.cashIn, z.cashOut, z.expectedCash, z.countedCash, z.variance],
      [10_000, 500, 2_000, 9_600, 9_500, -100],
    );
    assert.equal(z.number, receiptNumber(DEVICE, (ops[5] as Op).seq), 'numbered by the closing op');
  });

  it('skips ops of other shifts and refuses a shift that is not closed', () => {
    const { ops, shift } = shiftOps();
    const other = shiftOps();
    const mixed = [...other.ops.slice(0, 2), ...ops];
    assert.equal(zReport(mixed, shift, { status: 'confirmed' }).kinds[0]?.count, 2);
    assert.throws(() => zReport(ops.slice(0, -1), shift, { status: 'pending' }), /still open/);
    assert.throws(() => zReport(ops.slice(1), shift, { status: 'pending' }), /no shift\.opened/);
  });
});

describe('printed forms', () => {
  it('text: money in whole units of the locale, COPY on a reprint, at most the paper’s columns', () => {
    const { ops, shift, sale } = shiftOps();
    const text = receiptText(saleReceipt(sale, { status: 'pending', copy: true }), { locale: es, paper: 58 });
    assert.match(text, /11,00\u00a0€/);
    assert.match(text, /\*\*\* COPIA \*\*\*/);
    assert.match(text, /Pendiente de confirmación/);
    for (const paper of [58, 80] as const) {
      for (const r of [saleReceipt(sale, { status: 'confirmed' }), zReport(ops, shift, { status: 'confirmed' })]) {
        for (const line of receiptText(r, { locale: en, paper }).split('\n')) {
          assert.ok(line.length <= COLUMNS[paper], `${paper} mm: "${line}" is ${line.length} long`);
        }
      }
    }
    assert.doesNotMatch(receiptText(saleReceipt(sale, { status: 'confirmed' }), { locale: en }), /COPY/);
  });

  it('the Z report says expected, counted and the variance', () => {
    const { ops, shift } = shiftOps();
    const text = receiptText(zReport(ops, shift, { status: 'confirmed' }), { locale: en });
    assert.match(text, /Z REPORT/);
    assert.match(text, /Expected cash\s+€96\.00/);
    assert.match(text, /Counted cash\s+€95\.00/);
    assert.match(text, /Variance\s+-€1\.00/);
    assert.match(text, /2 x Sales\s+€18\.00/);
  });

  it('any line text stays within the paper and carries no control character (property)', () => {
    const { sale } = shiftOps();
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200, unit: 'binary' }),
        fc.constantFrom(58, 80) as fc.Arbitrary<58 | 80>,
        (name, paper) => {
          const r = saleReceipt(sale, { status: 'pending' });
          (r.lines[0] as { name: string }).name = name;
          for (const line of layoutReceipt(r, { locale: en, paper })) {
            assert.ok(line.text.length <= (line.big ? COLUMNS[paper] / 2 : COLUMNS[paper]));
            for (const ch of line.text) {
              const code = ch.codePointAt(0) as number;
              assert.ok(code >= 0x20 && (code < 0x7f || code > 0x9f), `control character ${code} printed`);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('HTML escapes every supplied text', () => {
    const { sale } = shiftOps();
    const r = saleReceipt(sale, {
      status: 'pending',
      shop: { name: '<script>alert(1)</script>', lines: ['a "b" & c'] },
    });
    const html = receiptHtml(r, { locale: en });
    assert.doesNotMatch(html, /<script>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /a &quot;b&quot; &amp; c/);
    assert.match(html, new RegExp(`data-receipt="${r.number}"`));
  });

  it('HTML: each receipt keeps its paper width, also beside one of another paper on the same page', () => {
    const { sale } = shiftOps();
    const r = saleReceipt(sale, { status: 'pending' });
    const narrow = receiptHtml(r, { locale: en, paper: 58 });
    const wide = receiptHtml(r, { locale: en, paper: 80 });
    assert.match(narrow, /^<div class="receipt" style="width:32ch"/);
    assert.match(wide, /^<div class="receipt" style="width:48ch"/);
    // The shared class rules carry no width: a later receipt's style element cannot resize an earlier one.
    for (const html of [narrow, wide]) assert.doesNotMatch(/<style>(.*)<\/style>/.exec(html)?.[1] ?? '', /width/);
  });

  it('ESC/POS: initialise, code page 858, € and ñ encoded, COPY, feed and cut', () => {
    const { sale } = shiftOps();
    const r = saleReceipt(sale, { status: 'pending', copy: true, shop: { name: 'Peña' } });
    const bytes = Array.from(receiptEscPos(r, { locale: es }));
    assert.deepEqual(bytes.slice(0, 5), [0x1b, 0x40, 0x1b, 0x74, 19]);
    assert.deepEqual(bytes.slice(-7), [0x1b, 0x64, 3, 0x1d, 0x56, 66, 0]);
    const text = Buffer.from(bytes).toString('latin1');
    assert.ok(text.includes('Pe\u00a4a'), 'ñ is 0xA4 in PC858');
    assert.ok(bytes.includes(0xd5), '€ is 0xD5 in PC858');
    assert.ok(text.includes('*** COPIA ***'));
    assert.deepEqual(encodePc858('a€\u00a0ñ☃'), [0x61, 0xd5, 0x20, 0xa4, 0x3f]);
  });
});

describe('money-out slips', () => {
  /** A betting shop's shift: a ticket paid online and one offline, a ticket voided, a sale voided and one refunded to its card. */
  function slipOps() {
    const keys = generateDeviceKeys();
    let at = T0;
    const chain = new ChainBuilder(DEVICE, keys.privateKey, { now: () => at++ });
    const shift = chain.next('shift.opened', { clerk: 'ana', currency: 'MXN', openingFloat: 50_000 }).id;
    const ticket = '0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5c';
    const clerk = { staff: 'ana' };
    const approved = { staff: 'ana', approvedBy: 'sofia' };
    const paid = chain.next(
      'ticket.paid',
      { shift, ticket, currency: 'MXN', amount: 12_550, authorization: 'pay_01' },
      NO_DECISION,
      undefined,
      clerk,
    );
    const paidOffline = chain.next(
      'ticket.paid',
      { shift, ticket, currency: 'MXN', amount: 900, authorization: null },
      NO_DECISION,
      undefined,
      clerk,
    );
    const voided = chain.next(
      'ticket.voided',
      { shift, ticket, currency: 'MXN', amount: 5_000, reason: 'wrong match' },
      NO_DECISION,
      undefined,
      approved,
    );
    const sale = chain.next('sale.recorded', {
      shift,
      currency: 'MXN',
      lines: [{ sku: 'SODA', name: 'Soda', qty: 2, unitPrice: 2_500 }],
      total: 5_000,
      tenders: [
        { type: 'cash', amount: 3_000, tendered: 3_000 },
        { type: 'card', amount: 2_000, token: 'tok_abcdefgh1234', brand: 'visa', last4: '4242' },
      ],
    });
    const saleVoid = chain.next(
      'sale.voided',
      { shift, sale: sale.id, currency: 'MXN', cash: 3_000, card: 2_000 },
      NO_DECISION,
      undefined,
      approved,
    );
    const refund = chain.next(
      'sale.refunded',
      {
        shift,
        sale: sale.id,
        currency: 'MXN',
        lines: [{ line: 0, qty: 1 }],
        amount: 2_500,
        tender: 'card',
        card: { token: 'tok_abcdefgh1234', brand: 'visa', last4: '4242' },
        reason: 'flat',
      },
      NO_DECISION,
      undefined,
      approved,
    );
    return { paid, paidOffline, voided, sale, saleVoid, refund };
  }

  it('a payout names its ticket, the money out and the authorization, or that it was paid offline', () => {
    const { paid, paidOffline } = slipOps();
    const slip = moneyOutSlip(paid, { status: 'confirmed', referenceNumber: 'K7M2Q-000001' });
    assert.deepEqual(
      [slip.type, slip.slip, slip.amount, slip.cash, slip.card, slip.authorization, slip.staff, slip.approvedBy],
      ['slip', 'payout', 12_550, 12_550, null, 'pay_01', 'ana', null],
    );
    assert.deepEqual(slip.reference, {
      kind: 'ticket',
      id: '0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5c',
      number: 'K7M2Q-000001',
    });
    const text = receiptText(slip, { locale: en });
    assert.match(text, /^PAYOUT$/m);
    assert.match(text, /Ticket K7M2Q-000001/);
    assert.match(text, /TOTAL\s+-MX\$125\.50/);
    assert.match(text, /Authorization pay_01/);
    const offline = receiptText(moneyOutSlip(paidOffline, { status: 'pending' }), { locale: es });
    assert.match(offline, /PAGO DE PREMIO/);
    assert.match(offline, /Pagado sin conexión, a riesgo de la tienda/);
    assert.match(offline, /Boleto 0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5c/);
  });

  it('a void slip says who approved it and why; a sale void gives back its cash and card parts', () => {
    const { voided, saleVoid } = slipOps();
    const ticketVoid = receiptText(moneyOutSlip(voided, { status: 'confirmed', copy: true }), { locale: pt });
    assert.match(ticketVoid, /CANCELAMENTO DE BILHETE/);
    assert.match(ticketVoid, /Motivo: wrong match/);
    assert.match(ticketVoid, /Aprovado por: sofia/);
    assert.match(ticketVoid, /\*\*\* CÓPIA \*\*\*/);
    const slip = moneyOutSlip(saleVoid, { status: 'confirmed' });
    assert.deepEqual([slip.slip, slip.amount, slip.cash, slip.card?.amount], ['sale_void', 5_000, 3_000, 2_000]);
    const text = receiptText(slip, { locale: en });
    assert.match(text, /SALE VOID/);
    assert.match(text, /Cash\s+-MX\$30\.00/);
    assert.match(text, /Card\s+-MX\$20\.00/);
    assert.match(text, /Approved by: sofia/);
  });

  it('a refund to a card lists the lines given back and the card; it fits the paper', () => {
    const { refund, sale } = slipOps();
    const slip = moneyOutSlip(refund, { status: 'pending' });
    assert.deepEqual(
      [slip.slip, slip.cash, slip.card, slip.lines, slip.reference.id],
      ['refund', 0, { amount: 2_500, brand: 'visa', last4: '4242' }, [{ line: 0, qty: 1 }], sale.id],
    );
    for (const paper of [58, 80] as const) {
      const text = receiptText(slip, { locale: en, paper });
      assert.match(text, /Line 1 x 1/);
      assert.match(text, /Card visa \*\*\*\*4242\s+-MX\$25\.00/);
      for (const line of text.split('\n')) assert.ok(line.length <= COLUMNS[paper], `${paper} mm: "${line}"`);
    }
    assert.throws(() => moneyOutSlip(sale, { status: 'pending' }), RangeError);
  });
});
