// Three receipts (58 mm Spanish copy, 80 mm English, a Portuguese Z report) on one HTML page, for a screenshot:
//   node scripts/receipt-page.mjs /tmp/receipts.html
//   chromium --headless --no-sandbox --window-size=1500,1000 --screenshot=docs/images/receipts.png file:///tmp/receipts.html

import { writeFileSync } from 'node:fs';
import * as d from '../packages/domain/dist/index.js';
import { ChainBuilder, generateDeviceKeys } from '../packages/protocol/dist/index.js';

const keys = generateDeviceKeys();
let at = Date.UTC(2026, 11, 6, 21, 5);
const chain = new ChainBuilder('0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b', keys.privateKey, { now: () => at++ });
const open = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 10000 });
const sale = chain.next('sale.recorded', {
  shift: open.id,
  currency: 'EUR',
  lines: [
    { sku: 'BEER', name: 'Caña 0,5 l <b>bold?</b>', qty: 2, unitPrice: 450, discount: 100 },
    {
      sku: 'PRETZEL',
      name: 'Pretzel with a very long name that needs wrapping on a narrow slip',
      qty: 1,
      unitPrice: 300,
    },
  ],
  total: 1100,
  tenders: [
    { type: 'cash', amount: 600, tendered: 1000 },
    { type: 'card', amount: 500, token: 'tok_abcdefgh1234', brand: 'visa', last4: '4242' },
  ],
});
const out = chain.next('cash.moved', {
  shift: open.id,
  currency: 'EUR',
  direction: 'out',
  amount: 2000,
  reason: 'safe_drop',
});
const close = chain.next('shift.closed', { shift: open.id, currency: 'EUR', countedCash: 8500 });
const shop = { name: 'Bar Norte', lines: ['Calle Mayor 1, Madrid', 'NIF B12345678'] };
const r58 = d.receiptHtml(d.saleReceipt(sale, { status: 'pending', copy: true, shop }), {
  locale: d.negotiateLocale('es-ES'),
  paper: 58,
});
const r80 = d.receiptHtml(d.saleReceipt(sale, { status: 'confirmed', shop }), {
  locale: d.negotiateLocale('en'),
  paper: 80,
});
const z = d.receiptHtml(d.zReport([open, sale, out, close], open.id, { status: 'confirmed', shop }), {
  locale: d.negotiateLocale('pt-BR'),
  paper: 80,
});
writeFileSync(
  process.argv[2] ?? 'receipts.html',
  `<!doctype html><meta charset="utf-8"><body style="background:#ddd;display:flex;gap:16px;align-items:flex-start;padding:16px">${r58}${r80}${z}</body>`,
);
