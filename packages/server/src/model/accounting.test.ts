/**
 * The accounting export over random days (fast-check): every entry
 * balanced, one entry per money event, the entries' total equal to the
 * money the ledger applied, the sales report agreeing with it; and the
 * checker (`checkJournal`) catching each way an export can be tampered with.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SaleBody } from '@holdfast/protocol';
import fc from 'fast-check';
import { type AccountingExport, accountingExport, checkJournal, JOURNAL_TYPES } from './accounting.js';
import { allocate, inclusiveTax, lineFacts, type ReportEvent, type ReportInput, salesReport } from './reports.js';

const T0 = Date.UTC(2026, 10, 21, 8, 0, 0);
const SKUS = ['BEER', 'PRETZEL', 'WATER', 'FREE-TEXT'];

const lineArb = fc
  .record({
    sku: fc.constantFrom(...SKUS),
    qty: fc.integer({ min: 1, max: 5 }),
    unitPrice: fc.integer({ min: 0, max: 5_000 }),
    discountShare: fc.integer({ min: 0, max: 100 }),
  })
  .map(({ sku, qty, unitPrice, discountShare }) => {
    const discount = Math.floor((qty * unitPrice * discountShare) / 400);
    return { sku, name: sku.toLowerCase(), qty, unitPrice, ...(discount > 0 ? { discount } : {}) };
  });

/** What one op of the day is, before ids and amounts that depend on earlier ops are given. */
const stepArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('sale' as const),
      lines: fc.array(lineArb, { minLength: 1, maxLength: 4 }),
      split: fc.tuple(fc.nat(100), fc.nat(100), fc.nat(100)),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom('void' as const, 'refund' as const, 'wallet-refund' as const),
      pick: fc.nat(),
      share: fc.integer({ min: 1, max: 100 }),
      card: fc.boolean(),
      byLine: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('top-up' as const, 'stake' as const, 'payout' as const, 'ticket-void' as const),
      amount: fc.integer({ min: 1, max: 20_000 }),
      card: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('cash' as const),
      reason: fc.constantFrom('float_in', 'paid_in', 'safe_drop', 'paid_out'),
      amount: fc.integer({ min: 1, max: 20_000 }),
      // 1..100: that share of the movement corrected afterwards (cash.corrected); 0: not corrected.
      corrected: fc.integer({ min: 0, max: 100 }),
    }),
  },
);

const dayArb = fc.record({
  steps: fc.array(stepArb, { minLength: 1, maxLength: 40 }),
  devices: fc.integer({ min: 1, max: 3 }),
  rates: fc.record({ standard: fc.integer({ min: 0, max: 10_000 }), reduced: fc.integer({ min: 0, max: 2_500 }) }),
  withRates: fc.boolean(),
});

type Day = typeof dayArb extends fc.Arbitrary<infer T> ? T : never;

/** A day of applied ops, as the ledger and ops tables would hold them. */
function inputOf(day: Day): ReportInput {
  const events: ReportEvent[] = [];
  const sales: Record<string, SaleBody> = {};
  const saleIds: string[] = [];
  let n = 0;
  const push = (type: string, amount: number, data: Record<string, unknown>, body: Record<string, unknown>) => {
    n++;
    const device = `dev-${n % day.devices}`;
    events.push({
      opId: `op-${n}`,
      device,
      lane: `lane ${n % day.devices}`,
      location: n % day.devices === 0 ? 'stand-1' : 'stand-2',
      seq: n,
      type,
      shiftId: `shift-${n % day.devices}`,
      currency: 'EUR',
      amount,
      data,
      body,
      deviceAt: T0 + n * 60_000 * 30,
      receivedAt: T0 + n * 60_000 * 30,
    });
    return `op-${n}`;
  };
  for (const step of day.steps) {
    switch (step.kind) {
      case 'sale': {
        const total = step.lines.reduce((s, l) => s + l.qty * l.unitPrice - (l.discount ?? 0), 0);
        const [x, y, z] = step.split;
        const parts = allocate(total, x + y + z === 0 ? [1, 0, 0] : [x, y, z]);
        const [cash, card, wristband] = parts as [number, number, number];
        const body = { shift: 's', currency: 'EUR', lines: step.lines, total, tenders: [] } as unknown as SaleBody;
        const id = push('sale.recorded', total, { cash, card, lines: step.lines.length, wristband }, body as never);
        sales[id] = body;
        saleIds.push(id);
        break;
      }
      case 'void':
      case 'refund':
      case 'wallet-refund': {
        if (saleIds.length === 0) break;
        const sale = saleIds[step.pick % saleIds.length] as string;
        const body = sales[sale] as SaleBody;
        const amount = Math.floor((body.total * step.share) / 100);
        if (amount === 0) break;
        if (step.kind === 'void') {
          const cash = step.card ? 0 : amount;
          push('sale.voided', amount, { sale, cash, card: amount - cash }, { sale, cash, card: amount - cash });
        } else if (step.kind === 'refund') {
          const lines = step.byLine ? [{ line: 0, qty: 1 }] : undefined;
          const tender = step.card ? 'card' : 'cash';
          push('sale.refunded', amount, { sale, tender }, { sale, amount, tender, ...(lines ? { lines } : {}) });
        } else {
          // A correction of a sale the server never received, once in a while.
          const named = step.byLine && step.card ? 'op-unknown' : sale;
          push('wallet.refunded', amount, { sale: named }, { sale: named, amount });
        }
        break;
      }
      case 'top-up':
        push('wallet.topped_up', step.amount, { paid: step.card ? 'card' : 'cash' }, {});
        break;
      case 'stake':
        push('ticket.issued', step.amount, {}, {});
        break;
      case 'payout':
        push('ticket.paid', step.amount, {}, {});
        break;
      case 'ticket-void':
        push('ticket.voided', step.amount, {}, {});
        break;
      case 'cash': {
        const direction = step.reason === 'float_in' || step.reason === 'paid_in' ? 'in' : 'out';
        const movement = push(
          'cash.moved',
          step.amount,
          { direction, reason: step.reason },
          { reason: step.reason, direction },
        );
        const back = Math.max(1, Math.floor((step.amount * step.corrected) / 100));
        if (step.corrected > 0) {
          const opposite = direction === 'in' ? 'out' : 'in';
          push(
            'cash.corrected',
            back,
            { movement, direction: opposite, movementReason: step.reason },
            { movement, direction: opposite, amount: back },
          );
        }
        break;
      }
    }
    if (n % 7 === 0) push('shift.opened', 10_000, { clerk: 'ana' }, {});
  }
  return {
    from: T0,
    to: T0 + 30 * 86_400_000,
    events,
    sales,
    categories: { BEER: 'standard', PRETZEL: 'reduced', WATER: 'zero' },
    rates: day.withRates ? { ...day.rates, zero: 0 } : {},
  };
}

const moneyOf = (input: ReportInput) =>
  input.events
    .filter((e) => (JOURNAL_TYPES as readonly string[]).includes(e.type))
    .reduce((s, e) => s + (e.amount ?? 0), 0);

describe('accounting export', () => {
  it('over random days: every entry balanced, one per money event, the total equal to the money applied', () => {
    fc.assert(
      fc.property(dayArb, fc.constantFrom('day' as const, 'shift' as const), (day, by) => {
        const input = inputOf(day);
        const exported = accountingExport(input, by, null);
        assert.deepEqual(checkJournal(exported, input.events), []);
        assert.equal(
          exported.entries.reduce((s, e) => s + e.amount, 0),
          moneyOf(input),
        );
        assert.equal(
          exported.groups.reduce((s, g) => s + g.amount, 0),
          moneyOf(input),
        );
        for (const e of exported.entries) {
          const debit = e.lines.reduce((s, l) => s + l.debit, 0);
          const credit = e.lines.reduce((s, l) => s + l.credit, 0);
          assert.equal(debit, credit, e.opId);
          assert.equal(debit, e.amount, e.opId);
        }
        // The tax the journal owes is the sales report's net tax.
        const report = salesReport('day', input, lineFacts(input), null);
        const owed = exported.groups
          .flatMap((g) => g.accounts)
          .filter((t) => t.account === '2200')
          .reduce((s, t) => s + t.credit - t.debit, 0);
        assert.equal(
          owed,
          report.totals.reduce((s, t) => s + t.netTax, 0),
        );
        const sold = input.events.filter((e) => e.type === 'sale.recorded').reduce((s, e) => s + (e.amount ?? 0), 0);
        assert.equal(
          report.totals.reduce((s, t) => s + t.gross, 0),
          sold,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('a cash correction posts against the drawer and the account its movement used', () => {
    const event = (opId: string, type: string, amount: number, data: Record<string, unknown>): ReportEvent => ({
      opId,
      device: 'd1',
      lane: 'd1',
      location: null,
      seq: 1,
      type,
      shiftId: 's1',
      currency: 'EUR',
      amount,
      data,
      body: {},
      deviceAt: T0,
      receivedAt: T0,
    });
    const input: ReportInput = {
      from: T0,
      to: T0 + 86_400_000,
      events: [
        event('c1', 'cash.corrected', 700, { movement: 'm1', direction: 'in', movementReason: 'paid_out' }),
        event('c2', 'cash.corrected', 300, { movement: 'm2', direction: 'out', movementReason: 'paid_in' }),
        event('c3', 'cash.corrected', 100, { movement: 'm3', direction: 'out', movementReason: 'float_in' }),
        event('c4', 'cash.corrected', 50, { movement: 'gone', direction: 'in', movementReason: null }),
      ],
      sales: {},
      categories: {},
      rates: {},
    };
    const exported = accountingExport(input, 'day', null);
    assert.deepEqual(checkJournal(exported, input.events), []);
    assert.deepEqual(
      exported.entries.map((e) => e.lines.map((l) => [l.account, l.debit, l.credit])),
      [
        [
          ['1000', 700, 0],
          ['6000', 0, 700],
        ],
        [
          ['2300', 300, 0],
          ['1000', 0, 300],
        ],
        [
          ['1050', 100, 0],
          ['1000', 0, 100],
        ],
        [
          ['1000', 50, 0],
          ['1050', 0, 50],
        ],
      ],
    );
  });

  it('a location filter keeps only its entries, still balanced and summing to its ledger events', () => {
    fc.assert(
      fc.property(dayArb, (day) => {
        const input = inputOf(day);
        const exported = accountingExport(input, 'day', 'stand-2');
        assert.deepEqual(checkJournal(exported, input.events), []);
        assert.ok(exported.entries.every((e) => e.location === 'stand-2'));
      }),
      { numRuns: 100 },
    );
  });

  describe('the checker catches a tampered export', () => {
    const input = inputOf({
      steps: [
        { kind: 'sale', lines: [{ sku: 'BEER', name: 'beer', qty: 2, unitPrice: 650 }], split: [1, 1, 0] },
        { kind: 'refund', pick: 0, share: 50, card: false, byLine: false },
        { kind: 'cash', reason: 'paid_out', amount: 500, corrected: 0 },
      ],
      devices: 1,
      rates: { standard: 2100, reduced: 1000 },
      withRates: true,
    });
    const fresh = (): AccountingExport => structuredClone(accountingExport(input, 'day', null));
    const problems = (x: AccountingExport) => checkJournal(x, input.events).map((v) => v.problem);

    it('an honest export passes', () => {
      assert.deepEqual(problems(fresh()), []);
    });
    it('one side of one line changed: not balanced', () => {
      const x = fresh();
      (x.entries[0]?.lines[0] as { debit: number }).debit += 1;
      assert.ok(problems(x).some((p) => p.startsWith('not balanced')));
    });
    it('both sides raised alike (still balanced): no longer the money the ledger applied', () => {
      const x = fresh();
      const e = x.entries[2];
      assert.ok(e);
      (e.lines[0] as { debit: number }).debit += 100;
      (e.lines[1] as { credit: number }).credit += 100;
      assert.ok(problems(x).some((p) => /the ledger applied/.test(p)));
    });
    it('an entry dropped: a ledger money event with no entry', () => {
      const x = fresh();
      x.entries.splice(1, 1);
      assert.ok(problems(x).includes('a ledger money event with no entry'));
    });
    it('an entry twice: more than one entry for the op', () => {
      const x = fresh();
      x.entries.push(structuredClone(x.entries[0] as AccountingExport['entries'][number]));
      assert.ok(problems(x).includes('more than one entry for the op'));
    });
    it('an invented entry: for no money event of the ledger', () => {
      const x = fresh();
      x.entries.push({ ...(x.entries[0] as AccountingExport['entries'][number]), opId: 'op-forged' });
      assert.ok(problems(x).includes('an entry for no money event of the ledger'));
    });
    it('a negative side, or an account not in the chart', () => {
      const x = fresh();
      const lines = x.entries[0]?.lines as { account: string; debit: number; credit: number }[];
      lines.push({ account: '1000', debit: -5, credit: 0 }, { account: '1000', debit: 0, credit: -5 });
      (lines[1] as { account: string }).account = '9999';
      const found = problems(x);
      assert.ok(found.some((p) => /non-negative/.test(p)));
      assert.ok(found.includes('unknown account 9999'));
    });
    it("a group's sums changed", () => {
      const x = fresh();
      const t = x.groups[0]?.accounts[0] as { debit: number };
      t.debit += 1;
      assert.ok(problems(x).some((p) => /sums disagree/.test(p)));
    });
  });
});

describe('report arithmetic', () => {
  it('allocate splits exactly, in proportion', () => {
    assert.deepEqual(allocate(100, [1, 1, 1]), [34, 33, 33]);
    assert.deepEqual(allocate(650, [650]), [650]);
    assert.deepEqual(allocate(5, [0, 0]), [5, 0]);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 20 }),
        (total, weights) => {
          const parts = allocate(total, weights);
          assert.equal(
            parts.reduce((a, b) => a + b, 0),
            total,
          );
          assert.ok(parts.every((p) => p >= 0 && Number.isSafeInteger(p)));
        },
      ),
    );
  });

  it('inclusive tax rounds half up and stays exact for large amounts', () => {
    assert.equal(inclusiveTax(1300, 2100), 226); // 225.62
    assert.equal(inclusiveTax(650, 2100), 113); // 112.81
    assert.equal(inclusiveTax(300, 1000), 27); // 27.27
    assert.equal(inclusiveTax(110, 1000), 10);
    assert.equal(inclusiveTax(0, 2100), 0);
    assert.equal(inclusiveTax(1000, 0), 0);
    assert.equal(inclusiveTax(1000, 10_000), 500);
    assert.equal(inclusiveTax(9_007_199_254_740_991, 2100), 1_563_232_928_508_767); // BigInt, no float rounding
  });
});
