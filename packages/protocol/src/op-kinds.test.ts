import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from './errors.js';
import { MAX_AMOUNT } from './money.js';
import {
  CARD_BRANDS,
  CASH_MOVEMENT_REASONS,
  type CashMovementReason,
  CUSTOMER_LIMITS,
  isKnownKind,
  OP_BODY_SCHEMAS,
  OP_KINDS,
  type OpKind,
  parseBody,
} from './op-kinds.js';
import { uuidv7 } from './uuidv7.js';

const SHIFT = uuidv7(1_700_000_000_000, new Uint8Array(10).fill(7));

function expectInvalid(run: () => unknown, field: string, rule?: string | RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected a ValidationError, got ${String(e)}`);
    assert.equal(e.field, field);
    if (typeof rule === 'string') assert.equal(e.rule, rule);
    else if (rule) assert.match(e.rule, rule);
    return true;
  });
}

type Line = { sku: string; name: string; qty: number; unitPrice: number; discount?: number };
type Tender = Record<string, unknown>;

const line = (qty: number, unitPrice: number, discount?: number): Line => ({
  sku: `SKU-${qty}-${unitPrice}`,
  name: 'Item',
  qty,
  unitPrice,
  ...(discount === undefined ? {} : { discount }),
});
const cash = (amount: number, tendered = amount): Tender => ({ type: 'cash', amount, tendered });
const card = (amount: number, overrides: Tender = {}): Tender => ({
  type: 'card',
  amount,
  token: 'tok_4242abcd',
  brand: 'visa',
  last4: '4242',
  ...overrides,
});
const totalOf = (lines: readonly Line[]) => lines.reduce((t, l) => t + l.qty * l.unitPrice - (l.discount ?? 0), 0);

/** A consistent sale: total computed from the lines, paid in cash unless tenders are given. */
function sale(lines: Line[], tenders?: Tender[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const total = totalOf(lines);
  return {
    shift: SHIFT,
    currency: 'EUR',
    lines,
    total,
    tenders: tenders ?? (total > 0 ? [cash(total)] : []),
    ...overrides,
  };
}

function cashMoved(reason: CashMovementReason, amount: number, overrides: Record<string, unknown> = {}) {
  return { shift: SHIFT, currency: 'EUR', direction: CASH_MOVEMENT_REASONS[reason], amount, reason, ...overrides };
}
const opened = (overrides: Record<string, unknown> = {}) => ({
  clerk: 'ana',
  currency: 'EUR',
  openingFloat: 10_000,
  ...overrides,
});
const closed = (overrides: Record<string, unknown> = {}) => ({
  shift: SHIFT,
  currency: 'EUR',
  countedCash: 12_345,
  ...overrides,
});

describe('op kinds', () => {
  it('lists exactly the kinds that have body schemas', () => {
    assert.deepEqual([...OP_KINDS].sort(), [
      'cash.corrected',
      'cash.moved',
      'loyalty.points',
      'sale.recorded',
      'sale.refunded',
      'sale.voided',
      'shift.closed',
      'shift.opened',
      'stock.adjusted',
      'stock.counted',
      'stock.received',
      'ticket.issued',
      'ticket.paid',
      'ticket.voided',
      'wallet.refunded',
      'wallet.topped_up',
      'wallet.topup_reversed',
    ]);
    assert.deepEqual(OP_KINDS, Object.keys(OP_BODY_SCHEMAS));
  });

  it('isKnownKind is true for those kinds only, not for inherited names', () => {
    for (const kind of OP_KINDS) assert.equal(isKnownKind(kind), true);
    for (const kind of ['sale.edited', 'toString', '__proto__', 'constructor', ''])
      assert.equal(isKnownKind(kind), false);
  });

  it('a valid body of each kind parses to an equal value', () => {
    const bodies: Record<OpKind, Record<string, unknown>> = {
      'sale.recorded': sale([line(2, 250), line(1, 400, 50)], [cash(300, 500), card(550)]),
      'cash.moved': cashMoved('safe_drop', 5_000, { note: 'to the safe' }),
      'cash.corrected': {
        shift: SHIFT,
        currency: 'EUR',
        movement: SHIFT,
        direction: 'in',
        amount: 500,
        reason: 'keyed 50.00 instead of 45.00',
      },
      'shift.opened': opened(),
      'shift.closed': closed({ note: 'counted twice' }),
      'ticket.issued': {
        shift: SHIFT,
        currency: 'EUR',
        stake: 1_000,
        selections: [{ event: 'e1', market: 'match_result', selection: 'home', odds: 250 }],
        potentialPayout: 2_500,
        authorization: 'auth-1',
      },
      'ticket.paid': { shift: SHIFT, ticket: SHIFT, currency: 'EUR', amount: 2_500, authorization: null },
      'ticket.voided': { shift: SHIFT, ticket: SHIFT, currency: 'EUR', amount: 1_000, approvedBy: 'sup-1' },
      'wallet.topup_reversed': {
        shift: SHIFT,
        currency: 'EUR',
        wristband: '04A1B2C3D4E5F6',
        amount: 500,
        counter: 2,
        balanceBefore: 2_000,
        topup: SHIFT,
        reason: 'paid twice',
      },
      'wallet.topped_up': {
        shift: SHIFT,
        currency: 'EUR',
        wristband: '04A1B2C3D4E5F6',
        amount: 2_000,
        counter: 1,
        balanceBefore: 0,
        paid: 'cash',
      },
      'wallet.refunded': {
        shift: SHIFT,
        currency: 'EUR',
        wristband: '04A1B2C3D4E5F6',
        amount: 500,
        counter: 3,
        balanceBefore: 1_000,
        sale: SHIFT,
        reason: 'spilled',
      },
      'loyalty.points': {
        shift: SHIFT,
        member: 'M0001234',
        sale: SHIFT,
        earned: 12,
        redeemed: 50,
        balanceSeen: 80,
        route: 'offline',
      },
      'sale.voided': { shift: SHIFT, sale: SHIFT, currency: 'EUR', cash: 300, card: 550, reason: 'wrong items' },
      'sale.refunded': {
        shift: SHIFT,
        sale: SHIFT,
        currency: 'EUR',
        lines: [{ line: 1, qty: 1 }],
        amount: 350,
        tender: 'card',
        card: { token: 'tok_visa_4242', brand: 'visa', last4: '4242' },
      },
      'stock.received': { location: 'stand-1', sku: 'BEER-05', qty: 48, reference: 'DN-1001' },
      'stock.counted': { location: 'stand-1', sku: 'BEER-05', counted: 0 },
      'stock.adjusted': { location: 'stand-1', sku: 'BEER-05', delta: -2, reason: 'damaged' },
    };
    for (const kind of OP_KINDS) {
      assert.deepEqual(parseBody(kind, bodies[kind]), bodies[kind], kind);
    }
  });

  it('roots error paths at body', () => {
    expectInvalid(() => parseBody('shift.opened', []), 'body', 'object');
    expectInvalid(() => parseBody('shift.opened', opened({ clerk: '' })), 'body.clerk', 'string of 1..64 characters');
  });
});

describe('sale.recorded: totals', () => {
  it('total must equal Σ(qty × unitPrice − discount): exact passes, one off either way fails', () => {
    const lines = [line(3, 199), line(2, 500, 100), line(1, 1)];
    const total = totalOf(lines);
    assert.equal(total, 3 * 199 + (2 * 500 - 100) + 1);
    assert.equal(parseBody('sale.recorded', sale(lines)).total, total);
    const rule = `equal to the sum of the lines (${total})`;
    for (const wrong of [total - 1, total + 1]) {
      expectInvalid(() => parseBody('sale.recorded', sale(lines, [cash(wrong)], { total: wrong })), 'body.total', rule);
    }
  });

  it('a line discount may be the whole line but not more, reported on that line', () => {
    const at = (discount: number) => sale([line(1, 100), line(2, 300, discount)]);
    assert.equal(parseBody('sale.recorded', at(599)).total, 101);
    assert.equal(parseBody('sale.recorded', at(600)).total, 100);
    expectInvalid(() => parseBody('sale.recorded', at(601)), 'body.lines[1].discount', 'at most qty × unitPrice');
  });

  it('accepts a zero-total sale with no tenders', () => {
    assert.deepEqual(parseBody('sale.recorded', sale([line(1, 0)])).tenders, []);
    assert.equal(parseBody('sale.recorded', sale([line(2, 300, 600)])).total, 0);
  });

  it('a zero-total sale cannot carry a tender (tender amounts are at least 1)', () => {
    expectInvalid(() => parseBody('sale.recorded', sale([line(1, 0)], [cash(1)])), 'body.tenders');
  });

  it('lines add up to at most MAX_AMOUNT', () => {
    const single = sale([line(1, MAX_AMOUNT)]);
    assert.equal(parseBody('sale.recorded', single).total, MAX_AMOUNT);
    const rule = `sale total at most ${MAX_AMOUNT}`;
    // Each line is fine, their sum is not; the stated total is within its own bound.
    const twoLines = sale([line(1, MAX_AMOUNT), line(1, 1)], [cash(MAX_AMOUNT)], { total: MAX_AMOUNT });
    expectInvalid(() => parseBody('sale.recorded', twoLines), 'body.total', rule);
    // qty × unitPrice beyond the safe-integer range is still caught, not silently rounded.
    const huge = sale([line(10_000, MAX_AMOUNT)], [cash(MAX_AMOUNT)], { total: MAX_AMOUNT });
    expectInvalid(() => parseBody('sale.recorded', huge), 'body.total', rule);
  });

  it('total and lines are bounded by their own fields', () => {
    expectInvalid(
      () => parseBody('sale.recorded', sale([line(1, 1)], [cash(1)], { total: MAX_AMOUNT + 1 })),
      'body.total',
      `integer 0..${MAX_AMOUNT}`,
    );
    expectInvalid(() => parseBody('sale.recorded', sale([line(1, 1)], [cash(1)], { total: -1 })), 'body.total');
  });

  it('a correct total is accepted for any lines (property)', () => {
    const lineArb = fc
      .record({ qty: fc.integer({ min: 1, max: 10_000 }), unitPrice: fc.integer({ min: 0, max: 100_000 }) })
      .chain(({ qty, unitPrice }) =>
        fc.option(fc.integer({ min: 0, max: qty * unitPrice }), { nil: undefined }).map((d) => line(qty, unitPrice, d)),
      );
    fc.assert(
      fc.property(
        fc.array(lineArb, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 1000 }),
        (lines, off) => {
          const body = sale(lines);
          assert.equal(parseBody('sale.recorded', body).total, totalOf(lines));
          const total = totalOf(lines) + off;
          expectInvalid(() => parseBody('sale.recorded', sale(lines, [cash(total)], { total })), 'body.total');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('sale.recorded: tenders', () => {
  const lines = [line(1, 1_000)];

  it('tender amounts must sum to the total', () => {
    assert.equal(parseBody('sale.recorded', sale(lines, [cash(400), card(600)])).tenders.length, 2);
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [cash(400), card(599)])),
      'body.tenders',
      'amounts summing to the total (1000), got 999',
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [cash(400), card(601)])),
      'body.tenders',
      'amounts summing to the total (1000), got 1001',
    );
    expectInvalid(() => parseBody('sale.recorded', sale(lines, [])), 'body.tenders', /got 0$/);
  });

  it('cash tendered must be at least the cash amount (change is tendered − amount)', () => {
    assert.equal(parseBody('sale.recorded', sale(lines, [cash(1_000, 1_000)])).total, 1_000);
    assert.equal(parseBody('sale.recorded', sale(lines, [cash(1_000, 1_001)])).total, 1_000);
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [cash(1_000, 999)])),
      'body.tenders[0].tendered',
      'at least the tender amount',
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [card(500), cash(500, 499)])),
      'body.tenders[1].tendered',
      'at least the tender amount',
    );
  });

  it('at most 10 tenders', () => {
    const ten = Array.from({ length: 10 }, () => cash(100));
    assert.equal(parseBody('sale.recorded', sale(lines, ten)).tenders.length, 10);
    const eleven = [...Array.from({ length: 9 }, () => cash(100)), cash(50), cash(50)];
    expectInvalid(() => parseBody('sale.recorded', sale(lines, eleven)), 'body.tenders', 'array of 0..10 items');
  });

  it('tender amounts are 1..MAX_AMOUNT', () => {
    const rule = `integer 1..${MAX_AMOUNT}`;
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [cash(0), cash(1_000)])),
      'body.tenders[0].amount',
      rule,
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [cash(1_000, MAX_AMOUNT + 1)])),
      'body.tenders[0].tendered',
      rule,
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [card(MAX_AMOUNT + 1)])),
      'body.tenders[0].amount',
      rule,
    );
  });

  it('an unknown tender type is reported on the type field', () => {
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [{ type: 'voucher', amount: 1_000 }])),
      'body.tenders[0].type',
      'one of "cash", "card", "wristband"',
    );
  });

  it('card: token of 8..128 allowed characters', () => {
    const withToken = (token: string) => sale(lines, [card(1_000, { token })]);
    assert.doesNotThrow(() => parseBody('sale.recorded', withToken('a'.repeat(8))));
    assert.doesNotThrow(() => parseBody('sale.recorded', withToken('a'.repeat(128))));
    assert.doesNotThrow(() => parseBody('sale.recorded', withToken('tok_A-9:x.y')));
    expectInvalid(
      () => parseBody('sale.recorded', withToken('a'.repeat(7))),
      'body.tenders[0].token',
      'string of 8..128 characters',
    );
    expectInvalid(
      () => parseBody('sale.recorded', withToken('a'.repeat(129))),
      'body.tenders[0].token',
      'string of 8..128 characters',
    );
    for (const bad of ['4242 4242 4242', 'tok/abcdef', 'tok+abcdef', 'tökabcdef']) {
      expectInvalid(
        () => parseBody('sale.recorded', withToken(bad)),
        'body.tenders[0].token',
        'token of letters, digits and _-:.',
      );
    }
  });

  it('card: last4 is exactly 4 digits', () => {
    const withLast4 = (last4: unknown) => sale(lines, [card(1_000, { last4 })]);
    assert.doesNotThrow(() => parseBody('sale.recorded', withLast4('0000')));
    expectInvalid(
      () => parseBody('sale.recorded', withLast4('123')),
      'body.tenders[0].last4',
      'string of 4..4 characters',
    );
    expectInvalid(
      () => parseBody('sale.recorded', withLast4('12345')),
      'body.tenders[0].last4',
      'string of 4..4 characters',
    );
    expectInvalid(() => parseBody('sale.recorded', withLast4('12a4')), 'body.tenders[0].last4', '4 digits');
    expectInvalid(() => parseBody('sale.recorded', withLast4(4242)), 'body.tenders[0].last4');
  });

  it('card: brand is one of CARD_BRANDS', () => {
    for (const brand of CARD_BRANDS) {
      assert.doesNotThrow(() => parseBody('sale.recorded', sale(lines, [card(1_000, { brand })])), brand);
    }
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [card(1_000, { brand: 'diners' })])),
      'body.tenders[0].brand',
      `one of ${CARD_BRANDS.map((b) => `"${b}"`).join(', ')}`,
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [card(1_000, { brand: 'VISA' })])),
      'body.tenders[0].brand',
    );
  });

  it('card and cash tenders reject each other’s fields', () => {
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [card(1_000, { tendered: 1_000 })])),
      'body.tenders[0].tendered',
      'no such field (unknown fields are rejected)',
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [{ ...cash(1_000), last4: '4242' }])),
      'body.tenders[0].last4',
      'no such field (unknown fields are rejected)',
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale(lines, [{ type: 'card', amount: 1_000 }])),
      'body.tenders[0].token',
      'required',
    );
  });
});

describe('sale.recorded: fields', () => {
  it('lines: 1..500 items', () => {
    const many = (n: number) => Array.from({ length: n }, () => line(1, 1));
    assert.equal(parseBody('sale.recorded', sale(many(500))).lines.length, 500);
    expectInvalid(() => parseBody('sale.recorded', sale(many(501))), 'body.lines', 'array of 1..500 items');
    expectInvalid(() => parseBody('sale.recorded', sale([])), 'body.lines', 'array of 1..500 items');
  });

  it('line qty: 1..10000', () => {
    assert.doesNotThrow(() => parseBody('sale.recorded', sale([line(1, 5)])));
    assert.doesNotThrow(() => parseBody('sale.recorded', sale([line(10_000, 5)])));
    expectInvalid(
      () => parseBody('sale.recorded', sale([line(1, 5), line(0, 5)])),
      'body.lines[1].qty',
      'integer 1..10000',
    );
    expectInvalid(() => parseBody('sale.recorded', sale([line(10_001, 5)])), 'body.lines[0].qty', 'integer 1..10000');
    expectInvalid(() => parseBody('sale.recorded', sale([line(1.5, 2)])), 'body.lines[0].qty', 'integer 1..10000');
  });

  it('line unitPrice and discount: 0..MAX_AMOUNT', () => {
    const rule = `integer 0..${MAX_AMOUNT}`;
    expectInvalid(
      () => parseBody('sale.recorded', sale([line(1, MAX_AMOUNT + 1)], [cash(1)], { total: 1 })),
      'body.lines[0].unitPrice',
      rule,
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale([line(1, -1)], [], { total: 0 })),
      'body.lines[0].unitPrice',
      rule,
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale([line(1, 10, -1)], [cash(10)], { total: 10 })),
      'body.lines[0].discount',
      rule,
    );
  });

  it('line sku 1..64 and name 0..200 characters; no extra fields', () => {
    const withLine = (patch: Record<string, unknown>) => sale([{ ...line(1, 1), ...patch } as Line]);
    assert.doesNotThrow(() => parseBody('sale.recorded', withLine({ sku: 'x'.repeat(64), name: '' })));
    assert.doesNotThrow(() => parseBody('sale.recorded', withLine({ name: 'x'.repeat(200) })));
    expectInvalid(
      () => parseBody('sale.recorded', withLine({ sku: '' })),
      'body.lines[0].sku',
      'string of 1..64 characters',
    );
    expectInvalid(() => parseBody('sale.recorded', withLine({ sku: 'x'.repeat(65) })), 'body.lines[0].sku');
    expectInvalid(
      () => parseBody('sale.recorded', withLine({ name: 'x'.repeat(201) })),
      'body.lines[0].name',
      'string of 0..200 characters',
    );
    expectInvalid(
      () => parseBody('sale.recorded', withLine({ name: 'bad \ud800' })),
      'body.lines[0].name',
      'well-formed Unicode (no lone surrogates)',
    );
    expectInvalid(
      () => parseBody('sale.recorded', withLine({ colour: 'red' })),
      'body.lines[0].colour',
      'no such field (unknown fields are rejected)',
    );
  });

  it('currency: ISO 4217 code', () => {
    const body = (currency: unknown) => sale([line(1, 1)], undefined, { currency });
    assert.equal(parseBody('sale.recorded', body('JPY')).currency, 'JPY');
    for (const bad of ['eur', 'E1R', 'Eur']) {
      expectInvalid(
        () => parseBody('sale.recorded', body(bad)),
        'body.currency',
        'ISO 4217 code (3 upper-case letters)',
      );
    }
    for (const bad of ['EU', 'EURO', '', 978]) {
      expectInvalid(() => parseBody('sale.recorded', body(bad)), 'body.currency', 'string of 3..3 characters');
    }
  });

  it('shift: a UUIDv7', () => {
    expectInvalid(
      () => parseBody('sale.recorded', sale([line(1, 1)], undefined, { shift: 'not-a-uuid' })),
      'body.shift',
      'string of 36..36 characters',
    );
    expectInvalid(
      () => parseBody('sale.recorded', sale([line(1, 1)], undefined, { shift: SHIFT.toUpperCase() })),
      'body.shift',
      'UUIDv7 or UUIDv8 in lowercase hex',
    );
  });

  it('every field is required', () => {
    for (const field of ['shift', 'currency', 'lines', 'total', 'tenders']) {
      const body = sale([line(1, 1)]);
      delete body[field];
      expectInvalid(() => parseBody('sale.recorded', body), `body.${field}`, 'required');
    }
  });
});

describe('cash.moved', () => {
  it('each reason with its own direction passes', () => {
    for (const reason of Object.keys(CASH_MOVEMENT_REASONS) as CashMovementReason[]) {
      assert.equal(parseBody('cash.moved', cashMoved(reason, 100)).direction, CASH_MOVEMENT_REASONS[reason]);
    }
    assert.deepEqual(CASH_MOVEMENT_REASONS, { float_in: 'in', paid_in: 'in', safe_drop: 'out', paid_out: 'out' });
  });

  it('the direction must match the reason', () => {
    expectInvalid(
      () => parseBody('cash.moved', cashMoved('float_in', 100, { direction: 'out' })),
      'body.direction',
      '"in" for reason "float_in"',
    );
    expectInvalid(
      () => parseBody('cash.moved', cashMoved('safe_drop', 100, { direction: 'in' })),
      'body.direction',
      '"out" for reason "safe_drop"',
    );
    expectInvalid(
      () => parseBody('cash.moved', cashMoved('paid_in', 100, { direction: 'sideways' })),
      'body.direction',
      'one of "in", "out"',
    );
  });

  it('amount: 1..MAX_AMOUNT', () => {
    assert.equal(parseBody('cash.moved', cashMoved('paid_in', 1)).amount, 1);
    assert.equal(parseBody('cash.moved', cashMoved('paid_in', MAX_AMOUNT)).amount, MAX_AMOUNT);
    expectInvalid(() => parseBody('cash.moved', cashMoved('paid_in', 0)), 'body.amount', `integer 1..${MAX_AMOUNT}`);
    expectInvalid(
      () => parseBody('cash.moved', cashMoved('paid_in', MAX_AMOUNT + 1)),
      'body.amount',
      `integer 1..${MAX_AMOUNT}`,
    );
  });

  it('reason: a known one; note: optional, at most 500 characters', () => {
    expectInvalid(() => parseBody('cash.moved', cashMoved('paid_in', 1, { reason: 'tip' })), 'body.reason');
    expectInvalid(() => parseBody('cash.moved', cashMoved('paid_in', 1, { reason: 'toString' })), 'body.reason');
    assert.equal(parseBody('cash.moved', cashMoved('paid_in', 1, { note: 'n'.repeat(500) })).note?.length, 500);
    expectInvalid(
      () => parseBody('cash.moved', cashMoved('paid_in', 1, { note: 'n'.repeat(501) })),
      'body.note',
      'string of 0..500 characters',
    );
    expectInvalid(() => parseBody('cash.moved', cashMoved('paid_in', 1, { currency: 'usd' })), 'body.currency');
  });
});

describe('shift.opened and shift.closed', () => {
  it('shift.opened: clerk 1..64, openingFloat 0..MAX_AMOUNT', () => {
    assert.equal(parseBody('shift.opened', opened({ openingFloat: 0 })).openingFloat, 0);
    assert.equal(parseBody('shift.opened', opened({ openingFloat: MAX_AMOUNT })).openingFloat, MAX_AMOUNT);
    assert.equal(parseBody('shift.opened', opened({ clerk: 'c'.repeat(64) })).clerk.length, 64);
    expectInvalid(() => parseBody('shift.opened', opened({ openingFloat: -1 })), 'body.openingFloat');
    expectInvalid(() => parseBody('shift.opened', opened({ openingFloat: MAX_AMOUNT + 1 })), 'body.openingFloat');
    expectInvalid(() => parseBody('shift.opened', opened({ clerk: 'c'.repeat(65) })), 'body.clerk');
    expectInvalid(
      () => parseBody('shift.opened', opened({ shift: SHIFT })),
      'body.shift',
      'no such field (unknown fields are rejected)',
    );
  });

  it('shift.closed: countedCash 0..MAX_AMOUNT, optional note', () => {
    assert.equal(parseBody('shift.closed', closed({ countedCash: 0 })).countedCash, 0);
    assert.equal(Object.hasOwn(parseBody('shift.closed', closed()), 'note'), false);
    expectInvalid(
      () => parseBody('shift.closed', closed({ countedCash: -1 })),
      'body.countedCash',
      `integer 0..${MAX_AMOUNT}`,
    );
    expectInvalid(() => parseBody('shift.closed', closed({ countedCash: MAX_AMOUNT + 1 })), 'body.countedCash');
    expectInvalid(() => parseBody('shift.closed', closed({ shift: 'x' })), 'body.shift');
  });
});

describe('sale.recorded: customer contact', () => {
  const base = () => sale([line(1, 500)]);
  const parse = (customer: unknown) => parseBody('sale.recorded', { ...base(), customer });

  it('is optional; any one of name, phone, email is enough and is kept as given', () => {
    assert.equal('customer' in parseBody('sale.recorded', base()), false);
    for (const customer of [
      { name: 'Ada L.' },
      { phone: '+44 20 7946-0958' },
      { email: 'ada@example.org' },
      { name: 'Ada', phone: '(020) 7946.0958', email: 'a@b' },
    ]) {
      assert.deepEqual(parse(customer).customer, customer);
    }
  });

  it('an empty contact is refused on the customer field', () => {
    expectInvalid(() => parse({}), 'body.customer', 'at least one of name, phone, email');
    expectInvalid(() => parse(null), 'body.customer');
  });

  it('name 1..100 characters: 100 passes, 101 and empty fail', () => {
    assert.equal(parse({ name: 'n'.repeat(CUSTOMER_LIMITS.name) }).customer?.name?.length, 100);
    expectInvalid(() => parse({ name: 'n'.repeat(CUSTOMER_LIMITS.name + 1) }), 'body.customer.name');
    expectInvalid(() => parse({ name: '' }), 'body.customer.name');
  });

  it('phone: 4..32 characters of digits and separators, optional leading +', () => {
    assert.ok(parse({ phone: '1234' }));
    assert.ok(parse({ phone: `+${'1'.repeat(CUSTOMER_LIMITS.phone - 1)}` }));
    expectInvalid(() => parse({ phone: '123' }), 'body.customer.phone');
    expectInvalid(() => parse({ phone: `+${'1'.repeat(CUSTOMER_LIMITS.phone)}` }), 'body.customer.phone');
    for (const bad of ['12a4567', '++1234', '1234-', 'call me 1234']) {
      expectInvalid(() => parse({ phone: bad }), 'body.customer.phone', /phone number/);
    }
  });

  it('email: local@domain without spaces, at most 254 characters', () => {
    assert.ok(parse({ email: `${'a'.repeat(CUSTOMER_LIMITS.email - 2)}@b` }));
    expectInvalid(() => parse({ email: `${'a'.repeat(CUSTOMER_LIMITS.email - 1)}@b` }), 'body.customer.email');
    for (const bad of ['ada', 'ada@', '@example.org', 'a da@example.org']) {
      expectInvalid(() => parse({ email: bad }), 'body.customer.email', /email address/);
    }
  });

  it('no other fields', () => {
    expectInvalid(() => parse({ name: 'Ada', address: 'x' }), 'body.customer.address');
  });
});

describe('loyalty.points', () => {
  const body = (over: Record<string, unknown> = {}) => ({
    shift: SHIFT,
    member: 'M0001234',
    sale: SHIFT,
    earned: 10,
    redeemed: 0,
    balanceSeen: 0,
    ...over,
  });

  it('refuses negative, fractional and empty points, naming the field', () => {
    expectInvalid(() => parseBody('loyalty.points', body({ earned: -1 })), 'body.earned', /integer/);
    expectInvalid(() => parseBody('loyalty.points', body({ earned: 1.5 })), 'body.earned', /integer/);
    expectInvalid(() => parseBody('loyalty.points', body({ earned: 0 })), 'body.earned', /at least 1/);
  });

  it('needs a route for a redemption, and only then', () => {
    expectInvalid(() => parseBody('loyalty.points', body({ redeemed: 5 })), 'body.route', /required/);
    expectInvalid(() => parseBody('loyalty.points', body({ route: 'offline' })), 'body.route', /only when/);
  });

  it('needs the confirmed redemption for an online route, and only then', () => {
    const online = { redeemed: 500, route: 'online' };
    expectInvalid(() => parseBody('loyalty.points', body(online)), 'body.approval', /required when route is online/);
    assert.equal(parseBody('loyalty.points', body({ ...online, approval: SHIFT })).approval, SHIFT);
    expectInvalid(
      () => parseBody('loyalty.points', body({ redeemed: 5, route: 'offline', approval: SHIFT })),
      'body.approval',
      /only when route is online/,
    );
  });

  it('refuses a member id that is not a card number', () => {
    expectInvalid(() => parseBody('loyalty.points', body({ member: 'm-0000001' })), 'body.member', /upper-case/);
  });
});

describe('sale.refunded and sale.voided', () => {
  const refund = (overrides: Record<string, unknown> = {}) => ({
    shift: SHIFT,
    sale: SHIFT,
    currency: 'EUR',
    amount: 500,
    tender: 'cash',
    ...overrides,
  });
  const visa = { token: 'tok_4242abcd', brand: 'visa', last4: '4242' };

  it('a card refund names the card, a cash refund does not', () => {
    assert.equal(parseBody('sale.refunded', refund({ tender: 'card', card: visa })).card?.last4, '4242');
    expectInvalid(() => parseBody('sale.refunded', refund({ tender: 'card' })), 'body.card', /required/);
    expectInvalid(() => parseBody('sale.refunded', refund({ card: visa })), 'body.card', /only when/);
    expectInvalid(() => parseBody('sale.refunded', refund({ tender: 'wristband' })), 'body.tender');
  });

  it('refund lines: each sale line at most once, qty at least 1, amount positive', () => {
    const twice = refund({
      lines: [
        { line: 0, qty: 1 },
        { line: 0, qty: 2 },
      ],
    });
    expectInvalid(() => parseBody('sale.refunded', twice), 'body.lines[1].line', /at most once/);
    expectInvalid(() => parseBody('sale.refunded', refund({ lines: [{ line: 0, qty: 0 }] })), 'body.lines[0].qty');
    expectInvalid(() => parseBody('sale.refunded', refund({ lines: [] })), 'body.lines');
    expectInvalid(() => parseBody('sale.refunded', refund({ amount: 0 })), 'body.amount');
  });

  it('a void names the sale and its cash and card parts, no other fields', () => {
    const body = { shift: SHIFT, sale: SHIFT, currency: 'EUR', cash: 0, card: 0 };
    assert.deepEqual(parseBody('sale.voided', body), body);
    expectInvalid(() => parseBody('sale.voided', { ...body, cash: -1 }), 'body.cash');
    expectInvalid(() => parseBody('sale.voided', { ...body, total: 5 }), 'body.total');
    expectInvalid(() => parseBody('sale.voided', { ...body, sale: 'not-a-uuid' }), 'body.sale');
  });
});

describe('stock ops', () => {
  it('refuse a negative, zero or fractional quantity, naming the field', () => {
    const received = { location: 'stand-1', sku: 'BEER-05', qty: 1 };
    expectInvalid(() => parseBody('stock.received', { ...received, qty: 0 }), 'body.qty');
    expectInvalid(() => parseBody('stock.received', { ...received, qty: -3 }), 'body.qty');
    expectInvalid(() => parseBody('stock.received', { ...received, qty: 1.5 }), 'body.qty', /integer/);
    const counted = { location: 'stand-1', sku: 'BEER-05', counted: 0 };
    assert.equal(parseBody('stock.counted', counted).counted, 0);
    expectInvalid(() => parseBody('stock.counted', { ...counted, counted: -1 }), 'body.counted');
    expectInvalid(() => parseBody('stock.counted', { ...counted, counted: 2.5 }), 'body.counted', /integer/);
    const adjusted = { location: 'stand-1', sku: 'BEER-05', delta: 3, reason: 'found' };
    assert.equal(parseBody('stock.adjusted', { ...adjusted, delta: -3 }).delta, -3);
    expectInvalid(() => parseBody('stock.adjusted', { ...adjusted, delta: 0 }), 'body.delta', /non-zero/);
    expectInvalid(() => parseBody('stock.adjusted', { ...adjusted, delta: 0.5 }), 'body.delta', /integer/);
    expectInvalid(() => parseBody('stock.adjusted', { ...adjusted, reason: 'theft?' }), 'body.reason');
  });

  it('refuse a SKU that is not one', () => {
    expectInvalid(() => parseBody('stock.received', { location: 'stand-1', sku: 'a b', qty: 1 }), 'body.sku');
  });
});

describe('cash.corrected', () => {
  const corrected = (overrides: Record<string, unknown> = {}) => ({
    shift: SHIFT,
    currency: 'EUR',
    movement: SHIFT,
    direction: 'out',
    amount: 1_000,
    reason: 'float keyed twice',
    ...overrides,
  });

  it('names the movement, a direction, a positive amount and a reason', () => {
    assert.deepEqual(parseBody('cash.corrected', corrected()), corrected());
    expectInvalid(() => parseBody('cash.corrected', corrected({ movement: 'cm-1' })), 'body.movement');
    expectInvalid(() => parseBody('cash.corrected', corrected({ direction: 'back' })), 'body.direction');
    expectInvalid(() => parseBody('cash.corrected', corrected({ amount: 0 })), 'body.amount');
    expectInvalid(() => parseBody('cash.corrected', corrected({ amount: MAX_AMOUNT + 1 })), 'body.amount');
    expectInvalid(() => parseBody('cash.corrected', corrected({ reason: '' })), 'body.reason');
    expectInvalid(() => parseBody('cash.corrected', corrected({ reason: 'r'.repeat(201) })), 'body.reason');
    for (const field of ['shift', 'currency', 'movement', 'direction', 'amount', 'reason']) {
      const body: Record<string, unknown> = corrected();
      delete body[field];
      expectInvalid(() => parseBody('cash.corrected', body), `body.${field}`, 'required');
    }
  });
});
