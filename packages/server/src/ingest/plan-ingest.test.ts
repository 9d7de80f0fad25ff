/**
 * Unit tests of the pure ingest planner: facts are built in memory and the
 * plan is applied by a tiny in-memory store, so the exactly-once rules are
 * checked without any database.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_INJECTED_BUGS } from '@holdfast/domain';
import {
  ChainBuilder,
  type Decision,
  GENESIS_HASH,
  generateDeviceKeys,
  type Op,
  type OpResult,
  type SaleBody,
  sealOp,
  uuidv7,
} from '@holdfast/protocol';
import type { VerifiedBatch } from '../model/batch.js';
import type { DeviceRecord } from '../model/device.js';
import type { ExceptionRecord } from '../model/exception.js';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { OfflinePaymentRecord } from '../model/offline-payment.js';
import type { ShiftRecord } from '../model/shift.js';
import { cashMovedBody, saleBody, T0 } from '../testing/harness.js';
import { type IngestFacts, type KnownOp, shiftRefs } from './ingest-facts.js';
import type { IngestPlan } from './ingest-plan.js';
import { planIngest } from './plan-ingest.js';
import { checkBodies } from './verify-batch.js';

const NOW = T0 + 60_000;

let idCounter = 0;
const newId = () => uuidv7(T0, new Uint8Array(10).fill(++idCounter % 256));

function newDeviceRecord(id: string): DeviceRecord {
  return {
    id,
    label: `device-${id.slice(-4)}`,
    publicKey: 'k'.repeat(43),
    enrolledAt: T0,
    revokedAt: null,
    revokeReason: null,
    highWater: 0,
    headHash: GENESIS_HASH,
    latestSeq: 0,
    gapFrom: null,
    gapTo: null,
    lastSeenAt: null,
    clockOffsetMs: null,
    merchant: null,
    location: null,
    event: null,
  };
}

/** A device chain in memory: a ChainBuilder plus op fixtures. */
function makeDevice() {
  const id = uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));
  let at = T0;
  const chain = new ChainBuilder(id, generateDeviceKeys().privateKey, { now: () => at++ });
  return {
    id,
    chain,
    open: (openingFloat = 10_000, currency = 'EUR') =>
      chain.next('shift.opened', { clerk: 'ana', currency, openingFloat }),
    sale: (shift: string, total: number, extra = {}) => chain.next('sale.recorded', saleBody(shift, total, extra)),
    /** A sale of `total` with the tenders given and the terminal's decision. */
    paid: (shift: string, total: number, tenders: SaleBody['tenders'], decision: Decision) =>
      chain.next('sale.recorded', saleBody(shift, total, { tenders }), decision),
    move: (shift: string, direction: 'in' | 'out', amount: number) =>
      chain.next('cash.moved', cashMovedBody(shift, direction, amount)),
    close: (shift: string, countedCash: number) => chain.next('shift.closed', { shift, currency: 'EUR', countedCash }),
  };
}

/** A copy of `op` with some fields changed and its hash recomputed. */
function reseal(op: Op, changes: Partial<Omit<Op, 'hash'>>): Op {
  const { hash: _old, ...rest } = op;
  return sealOp({ ...rest, ...changes });
}

/**
 * The smallest store that loads facts the way a backend must (ops under the
 * batch's ids, ops at the batch's seqs, referenced and open shifts) and
 * writes plans, checking that a plan never overwrites anything.
 */
class MemoryStore {
  readonly devices = new Map<string, DeviceRecord>();
  readonly ops = new Map<string, KnownOp & { op: Op }>();
  readonly shifts = new Map<string, ShiftRecord>();
  readonly ledger: LedgerEvent[] = [];
  readonly offlinePayments: OfflinePaymentRecord[] = [];
  readonly exceptions: ExceptionRecord[] = [];
  now = NOW;

  addDevice(id: string): void {
    this.devices.set(id, newDeviceRecord(id));
  }

  device(id: string): DeviceRecord {
    const d = this.devices.get(id);
    if (!d) throw new Error(`no device ${id}`);
    return d;
  }

  facts(batch: VerifiedBatch): IngestFacts {
    const ids = new Set(batch.ops.map((o) => o.id));
    const seqs = new Set(batch.ops.map((o) => o.seq));
    const refs = new Set(shiftRefs(batch.ops));
    const byId = new Map<string, KnownOp>();
    const bySeq = new Map<number, { id: string; hash: string }>();
    for (const stored of this.ops.values()) {
      if (ids.has(stored.op.id)) {
        byId.set(stored.op.id, { device: stored.device, seq: stored.seq, hash: stored.hash, result: stored.result });
      }
      if (stored.device === batch.device && seqs.has(stored.seq)) {
        bySeq.set(stored.seq, { id: stored.op.id, hash: stored.hash });
      }
    }
    const shifts = new Map<string, ShiftRecord>();
    for (const s of this.shifts.values()) {
      if (refs.has(s.id) || (s.device === batch.device && s.status === 'open')) shifts.set(s.id, s);
    }
    return { device: this.device(batch.device), byId, bySeq, shifts };
  }

  ingest(
    device: string,
    ops: Op[],
    options: { sentAt?: number; latestSeq?: number; trust?: VerifiedBatch['trust']; checkBodies?: boolean } = {},
  ): IngestPlan {
    const last = ops[ops.length - 1];
    const batch: VerifiedBatch = {
      device,
      ops,
      sentAt: options.sentAt ?? this.now,
      latestSeq: options.latestSeq ?? last?.seq ?? 1,
      trust: options.trust ?? 'fresh',
    };
    // As the verifier does on the main thread: bodies parsed in place, refusals handed on.
    if (options.checkBodies) batch.bodies = checkBodies(ops);
    const plan = planIngest(batch, this.facts(batch), { now: this.now, newId, bugs: NO_INJECTED_BUGS });
    this.apply(device, plan);
    return plan;
  }

  apply(device: string, plan: IngestPlan): void {
    for (const { op, result } of plan.inserts) {
      assert.ok(!this.ops.has(op.id), `plan re-inserts op ${op.id}`);
      for (const s of this.ops.values()) {
        assert.ok(!(s.device === op.device && s.seq === op.seq), `plan re-inserts seq ${op.seq}`);
      }
      this.ops.set(op.id, { op, device: op.device, seq: op.seq, hash: op.hash, result });
    }
    this.ledger.push(...plan.ledger);
    for (const p of plan.offlinePayments) {
      const key = (x: OfflinePaymentRecord) => `${x.opId}/${x.tenderIndex}`;
      assert.ok(!this.offlinePayments.some((x) => key(x) === key(p)), `plan re-inserts offline payment ${key(p)}`);
      this.offlinePayments.push(p);
    }
    for (const s of plan.shifts) this.shifts.set(s.id, s);
    for (const x of plan.exceptions) {
      if (!this.exceptions.some((e) => e.dedupeKey === x.dedupeKey)) this.exceptions.push(x);
    }
    this.devices.set(device, { ...this.device(device), ...plan.device });
  }
}

function setup(devices = 1) {
  const store = new MemoryStore();
  const list = Array.from({ length: devices }, () => {
    const d = makeDevice();
    store.addDevice(d.id);
    return d;
  });
  const [first] = list;
  if (!first) throw new Error('no device');
  return { store, d: first, devices: list };
}

const statuses = (results: readonly OpResult[]) => results.map((r) => r.status);

/** The plan's sales as the `sales` view reads them: its sale.recorded ledger events. */
function salesOf(plan: IngestPlan) {
  return plan.ledger
    .filter((e) => e.type === 'sale.recorded')
    .map((e) => ({ opId: e.opId, shiftId: e.shiftId, total: e.amount, cash: e.data.cash, card: e.data.card }));
}

function assertWritesNothing(plan: IngestPlan): void {
  assert.deepEqual(plan.inserts, []);
  assert.deepEqual(plan.ledger, []);
  assert.deepEqual(salesOf(plan), []);
  assert.deepEqual(plan.offlinePayments, []);
  assert.deepEqual(plan.cashMovements, []);
  assert.deepEqual(plan.shifts, []);
}

describe('planIngest: accepting a chain', () => {
  it('accepts a new chain from seq 1 and advances the head to the last op', () => {
    const { store, d } = setup();
    const open = d.open();
    const ops = [open, d.sale(open.id, 450), d.sale(open.id, 300)];
    const plan = store.ingest(d.id, ops);

    assert.deepEqual(
      plan.results,
      ops.map((op) => ({ id: op.id, seq: op.seq, status: 'accepted', at: NOW })),
    );
    assert.deepEqual(
      plan.inserts.map((i) => [i.op.seq, i.result]),
      ops.map((op) => [op.seq, { status: 'accepted', at: NOW }]),
    );
    assert.deepEqual(
      plan.ledger.map((e) => [e.opId, e.type, e.amount]),
      [
        [ops[0]?.id, 'shift.opened', 10_000],
        [ops[1]?.id, 'sale.recorded', 450],
        [ops[2]?.id, 'sale.recorded', 300],
      ],
    );
    assert.deepEqual(
      salesOf(plan).map((s) => [s.shiftId, s.total, s.cash, s.card]),
      [
        [open.id, 450, 450, 0],
        [open.id, 300, 300, 0],
      ],
    );
    assert.equal(plan.device.highWater, 3);
    assert.equal(plan.device.headHash, ops[2]?.hash);
    assert.deepEqual(plan.exceptions, []);
  });

  it('lets each op of a batch see the effects of the ops before it (shift opened and used in one batch)', () => {
    const { store, d } = setup();
    const open = d.open(5_000);
    const plan = store.ingest(d.id, [open, d.sale(open.id, 700), d.close(open.id, 5_700)]);
    assert.deepEqual(statuses(plan.results), ['accepted', 'accepted', 'accepted']);
    assert.equal(plan.shifts.length, 1);
    assert.equal(plan.shifts[0]?.status, 'closed');
    assert.equal(plan.shifts[0]?.salesTotal, 700);
    assert.deepEqual(plan.exceptions, []);
  });

  it('does not mutate the facts it was given', () => {
    const { store, d } = setup();
    const open = d.open();
    store.ingest(d.id, [open]);
    const ops = [d.sale(open.id, 100), d.close(open.id, 10_100)];
    const batch: VerifiedBatch = { device: d.id, ops, sentAt: NOW, latestSeq: 3, trust: 'fresh' };
    const facts = store.facts(batch);
    const before = structuredClone({ device: facts.device, shifts: [...facts.shifts.entries()] });
    planIngest(batch, facts, { now: NOW, newId, bugs: NO_INJECTED_BUGS });
    assert.deepEqual({ device: facts.device, shifts: [...facts.shifts.entries()] }, before);
  });
});

describe('planIngest: retries and collisions', () => {
  it('answers a stored id with the same hash as duplicate carrying the stored result unchanged, writing nothing', () => {
    const { store, d } = setup();
    const ops = [d.open(), d.open()];
    store.ingest(d.id, ops);
    const stored = store.ops.get(ops[0]?.id ?? '')?.result;
    store.now = NOW + 5_000;
    const plan = store.ingest(d.id, ops);
    assert.deepEqual(
      plan.results.map((r) => r.status === 'duplicate' && r.original),
      [
        { id: ops[0]?.id, seq: 1, status: 'accepted', at: NOW },
        { id: ops[1]?.id, seq: 2, status: 'accepted', at: NOW },
      ],
    );
    const first = plan.results[0];
    assert.ok(first?.status === 'duplicate');
    assert.deepEqual(first.original, { id: ops[0]?.id, seq: 1, ...stored }, 'the stored result, with id and seq');
    assertWritesNothing(plan);
    assert.deepEqual(plan.exceptions, []);
    assert.equal(plan.device.highWater, 2);
  });

  it('answers a stored id with another hash as conflict, with one alarm and no other write', () => {
    const { store, d } = setup();
    const open = d.open();
    const sale = d.sale(open.id, 450);
    store.ingest(d.id, [open, sale]);
    const tampered = reseal(sale, { body: saleBody(open.id, 999) });
    const plan = store.ingest(d.id, [tampered]);

    assert.equal(plan.results.length, 1);
    assert.equal(plan.results[0]?.status, 'conflict');
    assert.match(plan.results[0]?.status === 'conflict' ? plan.results[0].message : '', /different hash/);
    assertWritesNothing(plan);
    assert.equal(plan.exceptions.length, 1);
    assert.deepEqual(
      { type: plan.exceptions[0]?.type, severity: plan.exceptions[0]?.severity, opId: plan.exceptions[0]?.opId },
      { type: 'conflict', severity: 'alarm', opId: sale.id },
    );
    assert.deepEqual(plan.exceptions[0]?.detail, {
      storedDevice: d.id,
      storedSeq: 2,
      storedHash: sale.hash,
      sentHash: tampered.hash,
    });
    assert.equal(plan.device.highWater, 2);
    assert.equal(plan.device.headHash, sale.hash);

    // The same conflict sent again carries the same dedupe key: the store keeps one exception.
    const again = store.ingest(d.id, [tampered]);
    assert.equal(again.exceptions[0]?.dedupeKey, plan.exceptions[0]?.dedupeKey);
    assert.equal(store.exceptions.filter((e) => e.type === 'conflict').length, 1);
  });

  it('answers another id at a taken seq as fork, raising an alarm and writing nothing', () => {
    const { store, d } = setup();
    const open = d.open();
    const sale = d.sale(open.id, 450);
    store.ingest(d.id, [open, sale]);
    const clone = reseal(sale, { id: newId() });
    const plan = store.ingest(d.id, [clone]);
    assert.deepEqual(statuses(plan.results), ['fork']);
    assertWritesNothing(plan);
    assert.equal(plan.exceptions.length, 1);
    assert.equal(plan.exceptions[0]?.type, 'fork');
    assert.equal(plan.exceptions[0]?.severity, 'alarm');
    assert.equal(plan.exceptions[0]?.detail.storedId, sale.id);
    assert.equal(plan.device.highWater, 2);
  });

  it('answers a next op whose prev does not match the stored head as fork', () => {
    const { store, d } = setup();
    const open = d.open();
    store.ingest(d.id, [open, d.sale(open.id, 100)]);
    const next = d.sale(open.id, 200);
    const diverged = reseal(next, { prev: 'f'.repeat(64) });
    const plan = store.ingest(d.id, [diverged]);
    assert.deepEqual(statuses(plan.results), ['fork']);
    assert.match(plan.results[0]?.status === 'fork' ? plan.results[0].message : '', /prev of seq 3/);
    assertWritesNothing(plan);
    assert.equal(plan.exceptions[0]?.type, 'fork');
    assert.equal(plan.exceptions[0]?.detail.sentPrev, 'f'.repeat(64));
    assert.equal(plan.device.highWater, 2);

    // The genuine next op is still accepted afterwards.
    assert.deepEqual(statuses(store.ingest(d.id, [next]).results), ['accepted']);
  });

  it('handles a batch that partly overlaps what is stored: old ops duplicate, new ops accepted', () => {
    const { store, d } = setup();
    const open = d.open();
    const ops = [open, d.sale(open.id, 1), d.sale(open.id, 2), d.sale(open.id, 3), d.sale(open.id, 4)];
    store.ingest(d.id, ops.slice(0, 3));
    const plan = store.ingest(d.id, ops.slice(1));
    assert.deepEqual(statuses(plan.results), ['duplicate', 'duplicate', 'accepted', 'accepted']);
    assert.deepEqual(
      plan.inserts.map((i) => i.op.seq),
      [4, 5],
    );
    assert.deepEqual(
      salesOf(plan).map((s) => s.total),
      [3, 4],
    );
    assert.equal(plan.device.highWater, 5);
    assert.equal(store.ops.size, 5);
  });

  it('rejects every op of the batch after a fork with the gap it leaves, and stores none of them', () => {
    const { store, d } = setup();
    const open = d.open();
    store.ingest(d.id, [open]);
    const a = d.sale(open.id, 1);
    const b = d.sale(open.id, 2);
    const forked = reseal(a, { prev: 'e'.repeat(64) });
    const plan = store.ingest(d.id, [forked, reseal(b, { prev: forked.hash })]);
    assert.deepEqual(statuses(plan.results), ['fork', 'rejected']);
    const second = plan.results[1];
    assert.ok(second?.status === 'rejected' && second.reason === 'seq_gap');
    assert.equal(second.expectedSeq, 2);
    assert.equal(plan.inserts.length, 0);
  });
});

describe('planIngest: gaps', () => {
  it('rejects ops past highWater + 1 with seq_gap, stores nothing, and records the gap on the device', () => {
    const { store, d } = setup();
    const open = d.open();
    const ops = [open, d.sale(open.id, 1), d.sale(open.id, 2), d.sale(open.id, 3), d.sale(open.id, 4)];
    store.ingest(d.id, ops.slice(0, 1));
    const plan = store.ingest(d.id, ops.slice(3), { latestSeq: 5 });
    assert.deepEqual(
      plan.results.map((r) => (r.status === 'rejected' && r.reason === 'seq_gap' ? r.expectedSeq : r.status)),
      [2, 2],
    );
    assert.match(plan.results[0]?.status === 'rejected' ? plan.results[0].message : '', /before seq 2/);
    assertWritesNothing(plan);
    assert.deepEqual(plan.exceptions, []);
    assert.deepEqual(
      { hw: plan.device.highWater, from: plan.device.gapFrom, to: plan.device.gapTo, latest: plan.device.latestSeq },
      { hw: 1, from: 2, to: 3, latest: 5 },
    );
    assert.equal(store.ops.size, 1, 'gap ops are not stored');
  });

  it('clears the gap once the missing ops arrive, and the rejected ops are then accepted', () => {
    const { store, d } = setup();
    const open = d.open();
    const ops = [open, d.sale(open.id, 1), d.sale(open.id, 2), d.sale(open.id, 3)];
    store.ingest(d.id, ops.slice(0, 1));
    store.ingest(d.id, ops.slice(2));
    assert.deepEqual([store.device(d.id).gapFrom, store.device(d.id).gapTo], [2, 2]);
    const fill = store.ingest(d.id, ops.slice(1));
    assert.deepEqual(statuses(fill.results), ['accepted', 'accepted', 'accepted']);
    assert.deepEqual([fill.device.gapFrom, fill.device.gapTo, fill.device.highWater], [null, null, 4]);
  });

  it('shrinks the gap to what is still missing after a partial fill', () => {
    const { store, d } = setup();
    const open = d.open();
    const ops = [open, ...Array.from({ length: 6 }, (_, i) => d.sale(open.id, i + 1))];
    store.ingest(d.id, ops.slice(0, 1));
    store.ingest(d.id, ops.slice(6)); // seq 7: missing 2..6
    assert.deepEqual([store.device(d.id).gapFrom, store.device(d.id).gapTo], [2, 6]);
    store.ingest(d.id, ops.slice(1, 3)); // seqs 2..3 arrive
    assert.equal(store.device(d.id).highWater, 3);
    assert.deepEqual([store.device(d.id).gapFrom, store.device(d.id).gapTo], [4, 6]);
  });

  it('reports the same gap whatever order the ops past the hole arrived in', () => {
    const { store, d } = setup();
    const open = d.open();
    const ops = [open, ...Array.from({ length: 9 }, (_, i) => d.sale(open.id, i + 1))];
    store.ingest(d.id, ops.slice(0, 2));
    store.ingest(d.id, ops.slice(9)); // seq 10: missing 3..9
    store.ingest(d.id, ops.slice(4, 5)); // seq 5 later, still not stored
    assert.deepEqual([store.device(d.id).gapFrom, store.device(d.id).gapTo], [3, 9]);
  });
});

describe('planIngest: bodies checked by the verifier', () => {
  it('plans exactly as when it parses every body itself: valid, invalid and unknown-kind ops alike', () => {
    const a = setup();
    const open = a.d.open();
    const ops = [
      open,
      a.d.sale(open.id, 450),
      a.d.chain.next('sale.recorded', { ...saleBody(open.id, 450), total: 451 }),
      a.d.chain.next('sale.recorded', { ...saleBody(open.id, 450), extra: true }),
      a.d.chain.next('tea.poured', { cups: 2 }),
      a.d.move(open.id, 'in', 500),
      a.d.sale(open.id, 100),
    ];
    const b = new MemoryStore();
    b.addDevice(a.d.id);
    const parsedHere = a.store.ingest(a.d.id, structuredClone(ops));
    const checkedBefore = b.ingest(a.d.id, structuredClone(ops), { checkBodies: true });
    assert.deepEqual(statuses(checkedBefore.results), [
      'accepted',
      'accepted',
      'rejected',
      'rejected',
      'rejected',
      'accepted',
      'accepted',
    ]);
    assert.deepEqual(checkedBefore.results, parsedHere.results);
    assert.deepEqual(checkedBefore.inserts, parsedHere.inserts);
    assert.deepEqual(checkedBefore.ledger, parsedHere.ledger);
    assert.deepEqual(checkedBefore.cashMovements, parsedHere.cashMovements);
    assert.deepEqual(checkedBefore.shifts, parsedHere.shifts);
    assert.deepEqual(
      checkedBefore.exceptions.map((x) => [x.type, x.groupKey, x.message]),
      parsedHere.exceptions.map((x) => [x.type, x.groupKey, x.message]),
    );
  });
});

describe('planIngest: stored rejections', () => {
  it('stores an invalid body as rejected with field and rule; the chain advances and later ops are accepted', () => {
    const { store, d } = setup();
    const open = d.open();
    const bad = d.chain.next('sale.recorded', { ...saleBody(open.id, 450), total: 451 });
    const after = d.sale(open.id, 100);
    const plan = store.ingest(d.id, [open, bad, after]);

    assert.deepEqual(statuses(plan.results), ['accepted', 'rejected', 'accepted']);
    const rejected = plan.results[1];
    assert.ok(rejected?.status === 'rejected' && rejected.reason === 'invalid_body');
    assert.equal(rejected.field, 'body.total');
    assert.match(rejected.rule ?? '', /sum of the lines \(450\)/);
    assert.match(rejected.message, /invalid sale\.recorded body/);
    const stored = plan.inserts.find((i) => i.op.id === bad.id)?.result;
    assert.deepEqual(stored, {
      status: 'rejected',
      reason: 'invalid_body',
      message: rejected.message,
      field: 'body.total',
      rule: rejected.rule,
      at: NOW,
    });
    assert.deepEqual(
      plan.ledger.map((e) => e.type),
      ['shift.opened', 'op.rejected', 'sale.recorded'],
    );
    assert.deepEqual(
      salesOf(plan).map((s) => s.opId),
      [after.id],
      'a rejected sale counts for nothing',
    );
    assert.deepEqual(
      plan.exceptions.map((e) => [e.type, e.opId, e.detail.field]),
      [['op_rejected', bad.id, 'body.total']],
    );
    assert.equal(plan.device.highWater, 3);

    // A retry of the rejected op returns the same stored rejection.
    const retry = store.ingest(d.id, [bad]);
    assert.deepEqual(retry.results, [
      { id: bad.id, seq: 2, status: 'duplicate', original: { id: bad.id, seq: 2, ...stored } },
    ]);
  });

  it('stores an unknown kind as rejected unknown_kind with no effect but an exception', () => {
    const { store, d } = setup();
    const op = d.chain.next('ticket.cashed_out', { stake: 100 });
    const plan = store.ingest(d.id, [op]);
    const r = plan.results[0];
    assert.ok(r?.status === 'rejected' && r.reason === 'unknown_kind');
    assert.match(r.message, /ticket\.cashed_out/);
    assert.equal(plan.inserts.length, 1);
    assert.equal(plan.inserts[0]?.result.status, 'rejected');
    assert.deepEqual(
      plan.ledger.map((e) => [e.type, e.amount]),
      [['op.rejected', null]],
    );
    assert.deepEqual(salesOf(plan), []);
    assert.deepEqual(
      plan.exceptions.map((e) => [e.type, e.detail.reason]),
      [['op_rejected', 'unknown_kind']],
    );
    assert.equal(plan.device.highWater, 1);
  });
});

describe('planIngest: aggregated op_rejected', () => {
  it('one exception per device and cause in a batch, counting its ops, with the first and last op and a sample', () => {
    const { store, d } = setup();
    const open = d.open();
    const ops: Op[] = [open];
    for (let i = 0; i < 3; i++) {
      ops.push(d.chain.next('ticket.cashed_out', { stake: i }));
      ops.push(d.chain.next('sale.recorded', { ...saleBody(open.id, 450), total: 451 }));
    }
    ops.push(d.chain.next('ticket.cashed_out', { stake: 9 }));
    const plan = store.ingest(d.id, ops);
    assert.deepEqual(statuses(plan.results), ['accepted', ...Array(7).fill('rejected')]);
    const unknown = ops.filter((op) => op.kind === 'ticket.cashed_out').map((op) => op.id);
    const invalid = ops.filter((op) => op.kind === 'sale.recorded').map((op) => op.id);
    assert.deepEqual(
      plan.exceptions.map((x) => [x.groupKey, x.count, x.opId, x.detail.lastOpId, x.detail.sample]),
      [
        [`op_rejected:${d.id}:unknown_kind`, 4, unknown[0], unknown[3], unknown],
        [`op_rejected:${d.id}:invalid_body:body.total`, 3, invalid[0], invalid[2], invalid],
      ],
    );
    assert.equal(plan.ledger.filter((e) => e.type === 'op.rejected').length, 7, 'each op keeps its ledger event');
  });
});

describe('planIngest: shift projection', () => {
  it('projects open → sales → cash in/out → close with expected cash and variance, flagging a short drawer', () => {
    const { store, d } = setup();
    const open = d.open(10_000);
    const card = {
      type: 'card' as const,
      amount: 500,
      token: 'tok_visa_0001',
      brand: 'visa' as const,
      last4: '4242',
    };
    const ops = [
      open,
      d.sale(open.id, 1_200),
      d.sale(open.id, 800, { tenders: [{ type: 'cash', amount: 300, tendered: 500 }, card] }),
      d.move(open.id, 'in', 2_000),
      d.move(open.id, 'out', 5_000),
    ];
    // expected cash = 10000 + (1200 + 300) + 2000 − 5000 = 8500; the clerk counts 8450.
    const close = d.close(open.id, 8_450);
    const plan = store.ingest(d.id, [...ops, close]);
    assert.ok(plan.results.every((r) => r.status === 'accepted'));

    const shift = store.shifts.get(open.id);
    assert.deepEqual(shift, {
      id: open.id,
      clerk: 'ana',
      currency: 'EUR',
      status: 'closed',
      openingFloat: 10_000,
      sales: 2,
      salesTotal: 2_000,
      cashSales: 1_500,
      cardSales: 500,
      cashIn: 2_000,
      cashOut: 5_000,
      countedCash: 8_450,
      device: d.id,
      openedAt: open.at,
      closedAt: close.at,
      expectedCash: 8_500,
      variance: -50,
    });
    assert.deepEqual(
      store.exceptions.map((e) => [e.type, e.opId, e.detail.expected, e.detail.counted, e.detail.variance]),
      [['cash_variance', close.id, 8_500, 8_450, -50]],
    );
    assert.match(store.exceptions[0]?.message ?? '', /short by €0.50 at close/);
    const closeEvent = plan.ledger.find((e) => e.type === 'shift.closed');
    assert.deepEqual(closeEvent?.data, { expected: 8_500, variance: -50 });
  });

  it('raises no variance when the count matches, across batches', () => {
    const { store, d } = setup();
    const open = d.open(1_000);
    store.ingest(d.id, [open, d.sale(open.id, 250)]);
    const plan = store.ingest(d.id, [d.close(open.id, 1_250)]);
    assert.equal(plan.results[0]?.status, 'accepted');
    assert.deepEqual(plan.exceptions, []);
    assert.equal(store.shifts.get(open.id)?.variance, 0);
  });

  it('checks a cash-out against the drawer as it stood before the movement, within one batch', () => {
    const { store, d } = setup();
    const open = d.open(10_000);
    // Float 100.00 + cash sale 50.00 = 150.00 in the drawer: moving 150.00 out is fine.
    const fine = store.ingest(d.id, [open, d.sale(open.id, 5_000), d.move(open.id, 'out', 15_000)]);
    assert.deepEqual(fine.exceptions, []);
    assert.equal(store.shifts.get(open.id)?.cashOut, 15_000);
    // The drawer is empty now: one cent more is a shortfall, still accepted and flagged.
    const short = store.ingest(d.id, [d.move(open.id, 'out', 1)]);
    assert.deepEqual(statuses(short.results), ['accepted']);
    assert.deepEqual(
      short.exceptions.map((e) => [e.type, e.detail.code, e.message]),
      [['shift_rule', 'insufficient_cash', 'drawer held €0.00, €0.01 moved out']],
    );
  });

  it('accepts a sale on an unknown shift but raises shift_rule', () => {
    const { store, d } = setup();
    const ghost = newId();
    const plan = store.ingest(d.id, [d.sale(ghost, 300)]);
    assert.deepEqual(statuses(plan.results), ['accepted']);
    assert.deepEqual(
      salesOf(plan).map((s) => [s.shiftId, s.total]),
      [[ghost, 300]],
    );
    assert.deepEqual(
      plan.exceptions.map((e) => [e.type, e.detail.code]),
      [['shift_rule', 'no_open_shift']],
    );
    assert.deepEqual(plan.shifts, []);
  });

  it('accepts a sale on a closed shift but raises shift_rule and leaves the closed shift as it was', () => {
    const { store, d } = setup();
    const open = d.open(0);
    store.ingest(d.id, [open, d.close(open.id, 0)]);
    const closed = store.shifts.get(open.id);
    const plan = store.ingest(d.id, [d.sale(open.id, 300)]);
    assert.deepEqual(statuses(plan.results), ['accepted']);
    assert.equal(salesOf(plan).length, 1);
    assert.deepEqual(
      plan.exceptions.map((e) => [e.type, e.detail.code]),
      [['shift_rule', 'shift_not_open']],
    );
    assert.deepEqual(store.shifts.get(open.id), closed);
  });

  it("does not let a device's sale touch another device's shift", () => {
    const { store, devices } = setup(2);
    const [a, b] = devices;
    assert.ok(a && b);
    const open = a.open();
    store.ingest(a.id, [open]);
    const before = store.shifts.get(open.id);
    const plan = store.ingest(b.id, [b.sale(open.id, 300)]);
    assert.deepEqual(statuses(plan.results), ['accepted']);
    assert.deepEqual(
      plan.exceptions.map((e) => [e.type, e.device, e.detail.code]),
      [['shift_rule', b.id, 'no_open_shift']],
    );
    assert.deepEqual(store.shifts.get(open.id), before);
  });

  it('raises shift_rule when a shift opens while another is open, and when cash out exceeds the drawer', () => {
    const { store, d } = setup();
    const first = d.open(100);
    const second = d.open(100);
    const plan = store.ingest(d.id, [first, second, d.move(second.id, 'out', 150)]);
    assert.deepEqual(statuses(plan.results), ['accepted', 'accepted', 'accepted']);
    assert.deepEqual(
      plan.exceptions.map((e) => e.detail.code),
      ['shift_already_open', 'insufficient_cash'],
    );
    assert.equal(store.shifts.get(second.id)?.cashOut, 150);
  });
});

describe('planIngest: offline payments', () => {
  const LOCAL: Decision = { mode: 'local', outcome: 'approved', policy: 'p@3', rule: 'within_limits' };
  const card = (amount: number, token: string, last4 = '4242') =>
    ({ type: 'card', amount, token, brand: 'visa', last4 }) as const;

  it('lists each card tender of a locally approved sale, with the op, the card and the policy; not cash', () => {
    const { store, d } = setup();
    const open = d.open();
    const split = d.paid(
      open.id,
      1_000,
      [card(600, 'tok_aaaaaaaa', '1111'), { type: 'cash', amount: 100, tendered: 100 }, card(300, 'tok_bbbbbbbb')],
      LOCAL,
    );
    const plan = store.ingest(d.id, [open, split]);
    assert.deepEqual(statuses(plan.results), ['accepted', 'accepted']);
    const base = { opId: split.id, device: d.id, seq: 2, tender: 'card', currency: 'EUR', brand: 'visa' } as const;
    assert.deepEqual(plan.offlinePayments, [
      {
        ...base,
        tenderIndex: 0,
        amount: 600,
        last4: '1111',
        token: 'tok_aaaaaaaa',
        policy: 'p@3',
        approvedAt: split.at,
        receivedAt: NOW,
      },
      {
        ...base,
        tenderIndex: 2,
        amount: 300,
        last4: '4242',
        token: 'tok_bbbbbbbb',
        policy: 'p@3',
        approvedAt: split.at,
        receivedAt: NOW,
      },
    ]);
  });

  it('lists nothing for card sales approved online or without a decision, a local decline, or a cash sale', () => {
    const { store, d } = setup();
    const open = d.open();
    const tenders = [card(500, 'tok_cccccccc')];
    const ops = [
      open,
      d.paid(open.id, 500, tenders, { mode: 'online', outcome: 'approved', policy: null }),
      d.paid(open.id, 500, tenders, { mode: 'none', outcome: 'approved', policy: null }),
      d.paid(open.id, 500, tenders, { mode: 'local', outcome: 'declined', policy: 'p@3', rule: 'floor_limit' }),
      d.paid(open.id, 500, [{ type: 'cash', amount: 500, tendered: 500 }], LOCAL),
    ];
    const plan = store.ingest(d.id, ops);
    assert.deepEqual(statuses(plan.results), ['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
    assert.deepEqual(plan.offlinePayments, []);
  });

  it('lists a payment once: a replay, a conflict, a fork or a gap lists nothing', () => {
    const { store, d } = setup();
    const open = d.open();
    const sale = d.paid(open.id, 500, [card(500, 'tok_dddddddd')], LOCAL);
    assert.equal(store.ingest(d.id, [open, sale]).offlinePayments.length, 1);
    assertWritesNothing(store.ingest(d.id, [open, sale]));
    const changed = reseal(sale, { body: saleBody(open.id, 400, { tenders: [card(400, 'tok_dddddddd')] }) });
    assertWritesNothing(store.ingest(d.id, [changed]));
    const later = d.paid(open.id, 700, [card(700, 'tok_eeeeeeee')], LOCAL);
    const past = d.paid(open.id, 800, [card(800, 'tok_ffffffff')], LOCAL);
    assertWritesNothing(store.ingest(d.id, [past]));
    assert.deepEqual(
      store.ingest(d.id, [later, past]).offlinePayments.map((p) => p.amount),
      [700, 800],
    );
    assert.equal(store.offlinePayments.length, 3);
  });

  it('lists a locally approved sale that breaks a shift rule (the payment happened), not one with an invalid body', () => {
    const { store, d } = setup();
    const orphan = d.paid(uuidv7(T0, new Uint8Array(10)), 500, [card(500, 'tok_gggggggg')], LOCAL);
    const plan = store.ingest(d.id, [orphan]);
    assert.deepEqual(
      plan.exceptions.map((x) => x.type),
      ['shift_rule', 'policy_breach'], // LOCAL names no stored policy: the re-evaluation flags it too
    );
    assert.equal(plan.offlinePayments.length, 1);
    const bad = d.chain.next('sale.recorded', { ...saleBody(orphan.body.shift as string, 500), total: 1 }, LOCAL);
    const rejected = store.ingest(d.id, [bad]);
    assert.equal(rejected.results[0]?.status, 'rejected');
    assert.deepEqual(rejected.offlinePayments, []);
  });
});

describe('planIngest: online claims on kinds with no online path', () => {
  it('a cash movement claiming an online approval is accepted and raises online_unverified; one without does not', () => {
    const { store, d } = setup();
    const open = d.open();
    const claimed = d.chain.next('cash.moved', cashMovedBody(open.id, 'in', 500), {
      mode: 'online',
      outcome: 'approved',
      policy: null,
    });
    const plain = d.move(open.id, 'in', 500);
    const plan = store.ingest(d.id, [open, claimed, plain]);
    assert.deepEqual(statuses(plan.results), ['accepted', 'accepted', 'accepted']);
    assert.deepEqual(
      plan.exceptions.map((x) => [x.type, x.opId, x.severity]),
      [['online_unverified', claimed.id, 'alarm']],
    );
    assert.match(plan.exceptions[0]?.message ?? '', /cash\.moved is never authorized online/);
  });
});

describe('planIngest: device statistics', () => {
  it('records latestSeq (never lowered), lastSeenAt and the clock offset of the newest batch', () => {
    const { store, d } = setup();
    const open = d.open();
    const plan = store.ingest(d.id, [open], { sentAt: NOW - 1_500, latestSeq: 7 });
    assert.deepEqual(
      { latest: plan.device.latestSeq, seen: plan.device.lastSeenAt, offset: plan.device.clockOffsetMs },
      { latest: 7, seen: NOW, offset: 1_500 },
    );
    store.now = NOW + 10_000;
    const next = store.ingest(d.id, [d.sale(open.id, 1)], { sentAt: NOW + 12_000, latestSeq: 2 });
    assert.deepEqual(
      { latest: next.device.latestSeq, seen: next.device.lastSeenAt, offset: next.device.clockOffsetMs },
      { latest: 7, seen: NOW + 10_000, offset: -2_000 },
    );
  });

  it('keeps latestSeq at least highWater even when the batch under-reports it', () => {
    const { store, d } = setup();
    const open = d.open();
    const plan = store.ingest(d.id, [open, d.sale(open.id, 1), d.sale(open.id, 2)], { latestSeq: 1 });
    assert.equal(plan.device.latestSeq, 3);
  });
});

describe('shiftRefs', () => {
  it('lists each referenced shift once, ignoring bodies without a shift', () => {
    const d = makeDevice();
    const open = d.open();
    const ops = [open, d.sale(open.id, 1), d.sale(open.id, 2), d.chain.next('x.y', { shift: 7 })];
    assert.deepEqual(shiftRefs(ops), [open.id]);
  });
});
