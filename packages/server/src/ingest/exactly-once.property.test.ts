/**
 * Exactly-once, as a property: whatever the delivery schedule — slices of
 * each device's chain sent late, twice, out of order, past the high-water
 * mark — once every chain has been delivered in full, every op is stored
 * exactly once, money is conserved, and each op's answers read
 * `seq_gap* accepted duplicate*` with every duplicate carrying the original
 * result unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Op, OpResult, SaleBody } from '@holdfast/protocol';
import fc from 'fast-check';
import { createHarness, type Harness, type TestDevice } from '../testing/harness.js';

const CURRENCIES = ['EUR', 'GBP', 'JPY'] as const;

/** One step of a device's day; each becomes exactly one op. */
type Step =
  | { t: 'sale'; lines: { qty: number; unitPrice: number }[]; cashPercent: number; change: number }
  | { t: 'move'; direction: 'in' | 'out'; amount: number }
  /** Closes the open shift (counting `countDelta` off the expected cash), or opens a new one if none is open. */
  | { t: 'cycle'; countDelta: number; openingFloat: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('sale' as const),
      lines: fc.array(
        fc.record({ qty: fc.integer({ min: 1, max: 5 }), unitPrice: fc.integer({ min: 0, max: 5_000 }) }),
        { minLength: 1, maxLength: 3 },
      ),
      cashPercent: fc.integer({ min: 0, max: 100 }),
      change: fc.integer({ min: 0, max: 500 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('move' as const),
      direction: fc.constantFrom('in' as const, 'out' as const),
      amount: fc.integer({ min: 1, max: 20_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('cycle' as const),
      countDelta: fc.integer({ min: -100, max: 100 }),
      openingFloat: fc.integer({ min: 0, max: 50_000 }),
    }),
  },
);

const deviceArb = fc.record({
  currency: fc.constantFrom(...CURRENCIES),
  openingFloat: fc.integer({ min: 0, max: 50_000 }),
  steps: fc.array(stepArb, { minLength: 0, maxLength: 39 }),
});

/** A delivery: a contiguous slice of one device's chain, sent `copies` times in a row. */
const deliveryArb = fc.record({
  device: fc.nat(),
  start: fc.nat(),
  length: fc.nat(),
  copies: fc.integer({ min: 1, max: 2 }),
});

const scenarioArb = fc.record({
  devices: fc.array(deviceArb, { minLength: 2, maxLength: 3 }),
  deliveries: fc.array(deliveryArb, { maxLength: 12 }),
});

interface Generated {
  d: TestDevice;
  ops: Op[];
  /** Totals of the sale ops generated, by currency. */
  sales: Map<string, { sales: number; total: number; cash: number; card: number }>;
}

/** Builds one device's chain from its steps: a shift opening first, then one op per step. */
function buildChain(
  d: TestDevice,
  spec: { currency: string; openingFloat: number; steps: Step[] },
  sales: Generated['sales'],
): Op[] {
  const { currency } = spec;
  let shift = d.openShift({ currency, openingFloat: spec.openingFloat, clerk: 'prop' });
  let open = true;
  let expected = spec.openingFloat;
  const ops: Op[] = [shift];
  for (const step of spec.steps) {
    switch (step.t) {
      case 'sale': {
        const lines = step.lines.map((l, i) => ({ sku: `SKU-${i}`, name: 'item', qty: l.qty, unitPrice: l.unitPrice }));
        const total = lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0);
        const cash = Math.floor((total * step.cashPercent) / 100);
        const card = total - cash;
        const tenders: SaleBody['tenders'] = [];
        if (cash > 0) tenders.push({ type: 'cash', amount: cash, tendered: cash + step.change });
        if (card > 0)
          tenders.push({ type: 'card', amount: card, token: 'tok_prop_0001', brand: 'visa', last4: '4242' });
        const body: SaleBody = { shift: shift.id, currency, lines, total, tenders };
        ops.push(d.chain.next('sale.recorded', body));
        const sum = sales.get(currency) ?? { sales: 0, total: 0, cash: 0, card: 0 };
        sales.set(currency, {
          sales: sum.sales + 1,
          total: sum.total + total,
          cash: sum.cash + cash,
          card: sum.card + card,
        });
        if (open) expected += cash;
        break;
      }
      case 'move': {
        const reason = step.direction === 'in' ? 'float_in' : 'paid_out';
        ops.push(d.cashMove(shift.id, step.direction, step.amount, { currency, reason }));
        if (open) expected += step.direction === 'in' ? step.amount : -step.amount;
        break;
      }
      case 'cycle': {
        if (open) {
          const countedCash = Math.max(0, expected + step.countDelta);
          ops.push(d.chain.next('shift.closed', { shift: shift.id, currency, countedCash }));
          open = false;
        } else {
          shift = d.openShift({ currency, openingFloat: step.openingFloat, clerk: 'prop' });
          ops.push(shift);
          open = true;
          expected = step.openingFloat;
        }
        break;
      }
    }
  }
  return ops;
}

/** Every answer each op got, in delivery order. */
type Answers = Map<string, OpResult[]>;

async function deliver(h: Harness, g: Generated, from: number, to: number, answers: Answers): Promise<void> {
  h.clock.advance(1); // so a re-stamped result could not pass for the original
  const res = await h.send(g.d.batch(g.ops.slice(from, to)));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.results.length, to - from);
  res.body.results.forEach((r, i) => {
    const op = g.ops[from + i];
    assert.equal(r.id, op?.id);
    assert.equal(r.seq, op?.seq);
    const list = answers.get(r.id) ?? [];
    list.push(r);
    answers.set(r.id, list);
  });
}

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

async function checkScenario(scenario: Scenario): Promise<void> {
  const h = await createHarness();
  try {
    const sales: Generated['sales'] = new Map();
    const chains: Generated[] = [];
    for (const [i, spec] of scenario.devices.entries()) {
      const d = await h.enrollDevice(`prop-${i}`);
      chains.push({ d, ops: buildChain(d, spec, sales), sales });
    }
    const answers: Answers = new Map();

    for (const delivery of scenario.deliveries) {
      const g = chains[delivery.device % chains.length] as Generated;
      const start = delivery.start % g.ops.length;
      const end = start + 1 + (delivery.length % (g.ops.length - start));
      for (let c = 0; c < delivery.copies; c++) await deliver(h, g, start, end, answers);
    }
    for (const g of chains) await deliver(h, g, 0, g.ops.length, answers);

    // Each op: seq_gap* accepted duplicate*, every duplicate carrying the accepted result unchanged.
    const allOps = chains.flatMap((g) => g.ops);
    for (const op of allOps) {
      const list = answers.get(op.id) ?? [];
      const shape = list.map((r) => (r.status === 'rejected' && r.reason === 'seq_gap' ? 'gap' : r.status)).join(' ');
      assert.match(shape, /^(gap )*accepted( duplicate)*$/, `op seq ${op.seq}: ${shape}`);
      const accepted = list.find((r) => r.status === 'accepted');
      assert.ok(accepted);
      for (const r of list) {
        if (r.status === 'duplicate') assert.deepEqual(r.original, accepted, 'original is exactly the first answer');
      }
    }

    // Stored exactly once: the op count, and exactly one ledger event per op id.
    const summary = await h.storage.summary();
    assert.equal(summary.opsAccepted, allOps.length);
    assert.equal(summary.opsRejected, 0);
    assert.equal(summary.ledgerEvents, allOps.length);
    const perOp = new Map<string, number>();
    for (let after = 0; ; ) {
      const page = await h.storage.listLedger(after, 64);
      for (const e of page.items) perOp.set(e.opId, (perOp.get(e.opId) ?? 0) + 1);
      if (page.next === null) break;
      after = page.next;
    }
    assert.equal(perOp.size, allOps.length);
    for (const op of allOps) assert.equal(perOp.get(op.id), 1, `ledger events of op seq ${op.seq}`);

    // Conservation of money: the summary holds exactly the sales generated.
    const expected = [...sales.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([currency, s]) => ({ currency, ...s }));
    assert.deepEqual(summary.sales, expected);

    // No delivery schedule can make an honest device look forked or conflicted.
    assert.equal(summary.exceptions.conflict, undefined);
    assert.equal(summary.exceptions.fork, undefined);
    for (const g of chains) {
      const status = await h.storage.deviceStatus(g.d.id);
      assert.deepEqual(status && [status.highWater, status.headHash, status.behind, status.gap], [
        g.ops.length,
        g.ops[g.ops.length - 1]?.hash,
        0,
        null,
      ]);
    }
  } finally {
    await h.close();
  }
}

describe('exactly-once ingest (property)', () => {
  it('stores every op once and conserves money under any delivery schedule', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, checkScenario), { numRuns: 100 });
  });
});
