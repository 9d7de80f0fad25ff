import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from './errors.js';
import { MAX_AMOUNT } from './money.js';
import { parseBody } from './op-kinds.js';
import { uuidv7 } from './uuidv7.js';

const SHIFT = uuidv7(1_700_000_000_000, new Uint8Array(10).fill(7));
const SALE = uuidv7(1_700_000_000_001, new Uint8Array(10).fill(8));
const UID = '04A1B2C3D4E5F6';

function expectInvalid(run: () => unknown, field: string, rule?: string | RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected a ValidationError, got ${String(e)}`);
    assert.equal(e.field, field);
    if (typeof rule === 'string') assert.equal(e.rule, rule);
    else if (rule) assert.match(e.rule, rule);
    return true;
  });
}

const band = (amount: number, overrides: Record<string, unknown> = {}) => ({
  type: 'wristband',
  amount,
  wristband: UID,
  counter: 4,
  balanceBefore: 1_000,
  ...overrides,
});
const sale = (tenders: Record<string, unknown>[], total = 800) => ({
  shift: SHIFT,
  currency: 'EUR',
  lines: [{ sku: 'BEER', name: 'Beer', qty: 1, unitPrice: total }],
  total,
  tenders,
});
const topUp = (overrides: Record<string, unknown> = {}) => ({
  shift: SHIFT,
  currency: 'EUR',
  wristband: UID,
  amount: 2_000,
  counter: 1,
  balanceBefore: 0,
  paid: 'cash',
  ...overrides,
});
const refund = (overrides: Record<string, unknown> = {}) => ({
  shift: SHIFT,
  currency: 'EUR',
  wristband: UID,
  amount: 500,
  counter: 5,
  balanceBefore: 200,
  sale: SALE,
  ...overrides,
});

describe('wristband tender', () => {
  it('parses a wristband tender, alone or beside cash', () => {
    assert.deepEqual(parseBody('sale.recorded', sale([band(800)])).tenders, [band(800)]);
    const split = sale([band(300), { type: 'cash', amount: 500, tendered: 500 }]);
    assert.equal(parseBody('sale.recorded', split).tenders.length, 2);
  });

  it('balanceBefore must cover the amount: equal passes, one short fails', () => {
    assert.equal(parseBody('sale.recorded', sale([band(800, { balanceBefore: 800 })])).total, 800);
    expectInvalid(
      () => parseBody('sale.recorded', sale([band(800, { balanceBefore: 799 })])),
      'body.tenders[0].balanceBefore',
      'at least the tender amount (800)',
    );
  });

  it('names the field of a bad uid, counter or missing evidence', () => {
    expectInvalid(
      () => parseBody('sale.recorded', sale([band(800, { wristband: '04a1b2c3' })])),
      'body.tenders[0].wristband',
      /upper-case hex/,
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale([band(800, { wristband: '04A1B2' })])),
      'body.tenders[0].wristband',
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale([band(800, { wristband: '04A1B2C3D' })])),
      'body.tenders[0].wristband',
    );
    expectInvalid(() => parseBody('sale.recorded', sale([band(800, { counter: 0 })])), 'body.tenders[0].counter');
    const { balanceBefore: _, ...noEvidence } = band(800);
    expectInvalid(() => parseBody('sale.recorded', sale([noEvidence])), 'body.tenders[0].balanceBefore');
    expectInvalid(() => parseBody('sale.recorded', sale([band(800, { extra: 1 })])), 'body.tenders[0].extra');
  });

  it('one wristband at most once per sale', () => {
    expectInvalid(
      () => parseBody('sale.recorded', sale([band(400), band(400, { counter: 5 })])),
      'body.tenders[1].wristband',
      'a wristband at most once per sale',
    );
    const two = sale([band(400), band(400, { wristband: '04A1B2C3D4E5F7' })]);
    assert.equal(parseBody('sale.recorded', two).tenders.length, 2);
  });
});

describe('wallet.topped_up', () => {
  it('parses a cash and a card top-up', () => {
    assert.deepEqual(parseBody('wallet.topped_up', topUp()), topUp());
    const card = { token: 'tok_4242abcd', brand: 'visa', last4: '4242' };
    assert.deepEqual(parseBody('wallet.topped_up', topUp({ paid: 'card', card })).card, card);
  });

  it('card details exactly when paid by card', () => {
    expectInvalid(
      () => parseBody('wallet.topped_up', topUp({ paid: 'card' })),
      'body.card',
      'required when paid is "card"',
    );
    const card = { token: 'tok_4242abcd', brand: 'visa', last4: '4242' };
    expectInvalid(() => parseBody('wallet.topped_up', topUp({ card })), 'body.card', 'only when paid is "card"');
    expectInvalid(() => parseBody('wallet.topped_up', topUp({ paid: 'voucher' })), 'body.paid');
  });

  it('amount positive, balance after at most MAX_AMOUNT', () => {
    expectInvalid(() => parseBody('wallet.topped_up', topUp({ amount: 0 })), 'body.amount');
    assert.equal(parseBody('wallet.topped_up', topUp({ balanceBefore: MAX_AMOUNT - 2_000 })).amount, 2_000);
    expectInvalid(() => parseBody('wallet.topped_up', topUp({ balanceBefore: MAX_AMOUNT - 1_999 })), 'body.amount');
  });

  it('names missing fields', () => {
    for (const field of ['shift', 'wristband', 'counter', 'balanceBefore', 'paid']) {
      const body: Record<string, unknown> = topUp();
      delete body[field];
      expectInvalid(() => parseBody('wallet.topped_up', body), `body.${field}`);
    }
  });
});

describe('wallet.refunded', () => {
  it('parses a refund naming its sale', () => {
    assert.deepEqual(
      parseBody('wallet.refunded', refund({ reason: 'wrong drink' })),
      refund({ reason: 'wrong drink' }),
    );
  });

  it('names a bad sale id, amount or counter', () => {
    expectInvalid(() => parseBody('wallet.refunded', refund({ sale: 'abc' })), 'body.sale');
    expectInvalid(() => parseBody('wallet.refunded', refund({ amount: -1 })), 'body.amount');
    expectInvalid(() => parseBody('wallet.refunded', refund({ counter: 1.5 })), 'body.counter');
    expectInvalid(() => parseBody('wallet.refunded', refund({ balanceBefore: MAX_AMOUNT })), 'body.amount');
  });
});

describe('wallet.topup_reversed', () => {
  const reversal = (overrides: Record<string, unknown> = {}) => ({
    shift: SHIFT,
    currency: 'EUR',
    wristband: UID,
    amount: 500,
    counter: 3,
    balanceBefore: 2_000,
    topup: SALE,
    ...overrides,
  });

  it('parses a reversal naming its top-up, up to the whole balance read', () => {
    assert.deepEqual(parseBody('wallet.topup_reversed', reversal()), reversal());
    assert.equal(parseBody('wallet.topup_reversed', reversal({ amount: 2_000 })).amount, 2_000);
  });

  it('refuses to take the wristband below zero, and names bad fields', () => {
    expectInvalid(
      () => parseBody('wallet.topup_reversed', reversal({ amount: 2_001 })),
      'body.amount',
      'at most the balance read from the wristband (balanceBefore)',
    );
    expectInvalid(() => parseBody('wallet.topup_reversed', reversal({ topup: 'abc' })), 'body.topup');
    expectInvalid(() => parseBody('wallet.topup_reversed', reversal({ amount: 0 })), 'body.amount');
    expectInvalid(() => parseBody('wallet.topup_reversed', reversal({ paid: 'cash' })), 'body.paid');
    for (const field of ['shift', 'wristband', 'counter', 'balanceBefore', 'topup', 'amount']) {
      const body: Record<string, unknown> = reversal();
      delete body[field];
      expectInvalid(() => parseBody('wallet.topup_reversed', body), `body.${field}`);
    }
  });
});
