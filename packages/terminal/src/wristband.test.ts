/**
 * Wristbands on the terminal: paying, topping up and refunding with the
 * chip, the risk policy's wristband limits (each at, just under and just
 * over its value), the blocked list fed by the device feed, and what a
 * power cut or a pulled wristband leaves behind.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MANUAL_CLOCK_START } from '@holdfast/domain/testing';
import {
  generateDeviceKeys,
  NO_DECISION,
  type RiskPolicy,
  type SaleBody,
  signPolicy,
  uuidv7,
  ValidationError,
  type WalletToppedUpBody,
} from '@holdfast/protocol';
import { NeedsOnlineError, SimulatedCrashError, WristbandRefusedError } from './errors.js';
import type { CrashPoint } from './journal.js';
import type { Terminal } from './terminal.js';
import { createHarness, type Harness, openTill } from './testing/harness.js';
import { SimulatedWristband } from './testing/simulated-wristband.js';
import { applyWristbandNotice } from './testing/terminal-hooks.js';

const SERVER_KEY = generateDeviceKeys();
const KEY_ID = 'k1';
const PLACEMENT = { merchant: 'acme', location: 'north', event: null };
const HOUR = 3_600_000;
const UID = '04A1B2C3D4E5F6';

interface Limits {
  floorLimit?: number;
  maxAmount?: number;
  maxCount?: number;
  velocity?: { count: number; windowMs: number } | null;
  refundAbove?: number | null;
  deviceMaxCount?: number;
}

function policy(l: Limits = {}): RiskPolicy {
  const issuedAt = MANUAL_CLOCK_START - 1000;
  return {
    v: 1,
    id: uuidv7(issuedAt, new Uint8Array(10).fill(3)),
    version: 1,
    issuedAt,
    validFrom: issuedAt - 60_000,
    expiresAt: issuedAt + 24 * HOUR,
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 4 * HOUR,
      device: { maxAmount: 100_000, maxCount: l.deviceMaxCount ?? 100 },
      tenders: {
        card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } },
        wristband: {
          floorLimit: l.floorLimit ?? 2_000,
          instrument: {
            maxAmount: l.maxAmount ?? 50_000,
            maxCount: l.maxCount ?? 50,
            velocity: l.velocity === undefined ? null : l.velocity,
          },
        },
      },
    },
    online: { kinds: [], refundAbove: l.refundAbove ?? null, loyaltyRedemptionAbove: null },
  };
}

/** An enrolled terminal holding a policy with `limits` (none: no policy), a shift open. */
async function till(limits: Limits | null = {}, enforceCards = false): Promise<Harness> {
  const h = await createHarness({
    enroll: false,
    autoSync: false,
    placement: PLACEMENT,
    ...(enforceCards ? { offlineCardPolicy: 'enforce' as const } : {}),
  });
  h.server.policyKeys = { [KEY_ID]: SERVER_KEY.publicKey };
  h.server.policy = limits ? signPolicy(policy(limits), SERVER_KEY.privateKey, KEY_ID) : null;
  await h.terminal.enroll(h.server.createToken());
  if (limits) await h.terminal.refreshPolicy();
  openTill(h.terminal);
  return h;
}

const beer = (price: number) => [{ sku: 'BEER', name: 'Beer', qty: 1, unitPrice: price }];
const pay = (t: Terminal, band: SimulatedWristband, price: number) =>
  t.payWithWristband({ lines: beer(price), reader: band });

function loaded(t: Terminal, amount = 10_000): SimulatedWristband {
  const band = new SimulatedWristband(UID, 'EUR');
  const r = t.topUpWristband({ reader: band, amount, paid: 'cash' });
  assert.equal(r.chipWritten, true);
  return band;
}

/** The stored body of op `id` (asserting it exists). */
function bodyOf<T>(t: Terminal, id: string): T {
  const entry = t.getOp(id);
  assert.ok(entry, `op ${id} is in the journal`);
  return entry.op.body as T;
}

function refused(fn: () => unknown, rule: string): void {
  assert.throws(fn, (e: unknown) => e instanceof NeedsOnlineError && e.rule === rule, `expected ${rule}`);
}

/** Runs `fn` on a fresh till and cleans up. */
async function withTill(limits: Limits | null, fn: (h: Harness) => void | Promise<void>): Promise<void> {
  const h = await till(limits);
  try {
    await fn(h);
  } finally {
    await h.cleanup();
  }
}

describe('wristband: paying, topping up, refunding', () => {
  test('a cash top-up loads the chip and the drawer; a payment debits the chip with the evidence in the op', () =>
    withTill({}, (h) => {
      const t = h.terminal;
      const band = new SimulatedWristband(UID, 'EUR');
      const top = t.topUpWristband({ reader: band, amount: 3_000, paid: 'cash' });
      assert.deepEqual(band.image(), { uid: UID, balance: 3_000, counter: 1, currency: 'EUR' });
      assert.equal(bodyOf<WalletToppedUpBody>(t, top.op.id).counter, 1);
      assert.deepEqual(t.getOp(top.op.id)?.op.decision, NO_DECISION, 'cash in the drawer needs no risk check');
      assert.equal(t.currentShift()?.cashIn, 3_000);

      const paid = pay(t, band, 1_200);
      assert.equal(paid.chipWritten, true);
      assert.deepEqual(band.image(), { uid: UID, balance: 1_800, counter: 2, currency: 'EUR' });
      const sale = t.getOp(paid.op.id)?.op;
      assert.deepEqual(bodyOf<SaleBody>(t, paid.op.id).tenders, [
        { type: 'wristband', amount: 1_200, wristband: UID, counter: 2, balanceBefore: 3_000 },
      ]);
      assert.equal(sale?.decision.mode, 'local');
      assert.equal(sale?.decision.outcome, 'approved');
      assert.equal(t.offlineExposure().amount, 1_200);
      assert.deepEqual(t.pendingWristbandWrites(), []);
    }));

  test('part cash, part wristband', () =>
    withTill({}, (h) => {
      const band = loaded(h.terminal);
      const r = h.terminal.payWithWristband({
        lines: beer(1_500),
        reader: band,
        cash: { amount: 500, tendered: 1_000 },
      });
      assert.equal(band.image().balance, 9_000);
      assert.equal(bodyOf<SaleBody>(h.terminal, r.op.id).tenders.length, 2);
    }));

  test('balance: exactly the balance pays, one unit more is refused and records nothing', () =>
    withTill({}, (h) => {
      const band = loaded(h.terminal, 1_500);
      const seq = h.terminal.status().latestSeq;
      assert.throws(
        () => pay(h.terminal, band, 1_501),
        (e: unknown) => e instanceof WristbandRefusedError && e.code === 'insufficient_balance',
      );
      assert.equal(h.terminal.status().latestSeq, seq);
      assert.equal(band.image().counter, 1, 'chip untouched');
      pay(h.terminal, band, 1_499);
      pay(h.terminal, band, 1);
      assert.equal(band.image().balance, 0);
    }));

  test('bad input names the field and records nothing', () =>
    withTill({}, (h) => {
      const band = loaded(h.terminal);
      const seq = h.terminal.status().latestSeq;
      const field = (fn: () => unknown, name: string) =>
        assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.field === name, name);
      field(() => h.terminal.payWithWristband({ lines: [], reader: band }), 'lines');
      field(
        () => h.terminal.payWithWristband({ lines: [{ sku: '', name: 'x', qty: 1, unitPrice: 1 }], reader: band }),
        'lines[0].sku',
      );
      field(() => h.terminal.payWithWristband({ lines: beer(0), reader: band }), 'lines');
      field(
        () => h.terminal.payWithWristband({ lines: beer(500), reader: band, cash: { amount: 500, tendered: 500 } }),
        'cash.amount',
      );
      field(() => h.terminal.topUpWristband({ reader: band, amount: 0, paid: 'cash' }), 'body.amount');
      field(() => h.terminal.topUpWristband({ reader: band, amount: 100, paid: 'card' }), 'body.card');
      assert.equal(h.terminal.status().latestSeq, seq);
      assert.equal(band.image().counter, 1);
    }));

  test('a wristband of another currency is refused', () =>
    withTill({}, (h) => {
      const band = new SimulatedWristband(UID, 'USD', 5_000, 3);
      assert.throws(
        () => pay(h.terminal, band, 100),
        (e: unknown) => e instanceof WristbandRefusedError && e.code === 'currency',
      );
    }));

  test('record() refuses wristband tenders and wallet kinds: the chip must be written too', () =>
    withTill({}, (h) => {
      const shift = h.terminal.currentShift()?.id as string;
      const body: SaleBody = {
        shift,
        currency: 'EUR',
        lines: beer(100),
        total: 100,
        tenders: [{ type: 'wristband', amount: 100, wristband: UID, counter: 2, balanceBefore: 500 }],
      };
      assert.throws(
        () => h.terminal.record('sale.recorded', body),
        (e: unknown) => e instanceof ValidationError && e.field === 'body.tenders[0].type',
      );
      const top: WalletToppedUpBody = {
        shift,
        currency: 'EUR',
        wristband: UID,
        amount: 1,
        counter: 1,
        balanceBefore: 0,
        paid: 'cash',
      };
      assert.throws(
        () => h.terminal.record('wallet.topped_up', top),
        (e: unknown) => e instanceof ValidationError && e.field === 'kind',
      );
      // A top-up reversal writes the chip too: never recorded without its chip write.
      const { paid: _paid, ...chip } = top;
      assert.throws(
        () => h.terminal.record('wallet.topup_reversed', { ...chip, balanceBefore: 1, topup: shift }),
        (e: unknown) => e instanceof ValidationError && e.field === 'kind',
      );
    }));

  test('refund: credited onto the wristband that paid, at most what it paid', () =>
    withTill({}, (h) => {
      const t = h.terminal;
      const band = loaded(t, 5_000);
      const sale = pay(t, band, 1_800);
      assert.throws(
        () => t.refundToWristband({ reader: band, sale: sale.op.id, amount: 1_801 }),
        (e: unknown) => e instanceof WristbandRefusedError && e.code === 'refund_not_allowed',
      );
      t.refundToWristband({ reader: band, sale: sale.op.id, amount: 1_000, reason: 'spilled' });
      assert.equal(band.image().balance, 4_200);
      t.refundToWristband({ reader: band, sale: sale.op.id, amount: 800 });
      assert.throws(
        () => t.refundToWristband({ reader: band, sale: sale.op.id, amount: 1 }),
        (e: unknown) => e instanceof WristbandRefusedError && e.code === 'refund_not_allowed',
      );
      const other = new SimulatedWristband('0A0B0C0D', 'EUR', 1_000, 1);
      assert.throws(
        () => t.refundToWristband({ reader: other, sale: sale.op.id, amount: 1 }),
        (e: unknown) => e instanceof WristbandRefusedError && e.code === 'refund_not_allowed',
      );
      assert.deepEqual(band.image(), { uid: UID, balance: 5_000, counter: 4, currency: 'EUR' });
    }));
});

describe('wristband: the risk policy offline (tenders.wristband)', () => {
  test('no policy held: wristband payments need online, cash top-ups still work', () =>
    withTill(null, (h) => {
      const band = loaded(h.terminal, 1_000);
      refused(() => pay(h.terminal, band, 100), 'no_policy');
      assert.equal(band.image().balance, 1_000);
    }));

  test('floor limit: at and just under approve, just over needs online', () =>
    withTill({ floorLimit: 2_000 }, (h) => {
      const band = loaded(h.terminal);
      pay(h.terminal, band, 1_999);
      pay(h.terminal, band, 2_000);
      const seq = h.terminal.status().latestSeq;
      refused(() => pay(h.terminal, band, 2_001), 'floor_limit');
      assert.equal(h.terminal.status().latestSeq, seq, 'nothing recorded');
      assert.equal(band.image().balance, 10_000 - 3_999, 'chip untouched');
    }));

  test('per-wristband maxAmount: reaching it approves, one unit past needs online', () =>
    withTill({ maxAmount: 3_000 }, (h) => {
      const band = loaded(h.terminal);
      pay(h.terminal, band, 2_000);
      pay(h.terminal, band, 999);
      pay(h.terminal, band, 1);
      refused(() => pay(h.terminal, band, 1), 'instrument_amount');
    }));

  test('per-wristband maxCount: the count-th approves, one more needs online; another wristband is separate', () =>
    withTill({ maxCount: 3 }, (h) => {
      const band = loaded(h.terminal);
      for (let i = 0; i < 3; i++) pay(h.terminal, band, 100);
      refused(() => pay(h.terminal, band, 100), 'instrument_count');
      const other = new SimulatedWristband('0A0B0C0D', 'EUR');
      h.terminal.topUpWristband({ reader: other, amount: 500, paid: 'cash' });
      pay(h.terminal, other, 100);
    }));

  test('velocity: count uses inside the window approve, one more needs online, a use exactly windowMs old has left', () =>
    withTill({ velocity: { count: 2, windowMs: 60_000 } }, (h) => {
      const band = loaded(h.terminal);
      pay(h.terminal, band, 100);
      h.clock.advance(59_999);
      pay(h.terminal, band, 100);
      refused(() => pay(h.terminal, band, 100), 'instrument_velocity');
      h.clock.advance(1);
      pay(h.terminal, band, 100);
    }));

  test('refund above online.refundAbove needs online; at it is credited', () =>
    withTill({ refundAbove: 500 }, (h) => {
      const band = loaded(h.terminal);
      const sale = pay(h.terminal, band, 1_500);
      refused(() => h.terminal.refundToWristband({ reader: band, sale: sale.op.id, amount: 501 }), 'refund_above');
      h.terminal.refundToWristband({ reader: band, sale: sale.op.id, amount: 500 });
    }));

  test('approvals the server confirmed are released: the per-wristband count frees up after a sync', () =>
    withTill({ maxCount: 2 }, async (h) => {
      const band = loaded(h.terminal);
      pay(h.terminal, band, 100);
      pay(h.terminal, band, 100);
      refused(() => pay(h.terminal, band, 100), 'instrument_count');
      await h.terminal.syncNow();
      pay(h.terminal, band, 100);
      assert.equal(h.terminal.offlineExposure().count, 1);
    }));
});

test('device caps count wristband and card approvals together; confirmed wristband ones free them for cards too', async () => {
  const h = await till({ deviceMaxCount: 2 }, true);
  try {
    const band = loaded(h.terminal);
    pay(h.terminal, band, 100);
    pay(h.terminal, band, 100);
    const card = {
      lines: beer(1_000),
      tenders: [{ type: 'card' as const, amount: 1_000, token: 'tok_test_a', brand: 'visa' as const, last4: '4242' }],
    };
    refused(() => h.terminal.recordSale(card), 'device_count');
    await h.terminal.syncNow();
    h.terminal.recordSale(card);
    assert.equal(h.terminal.offlineExposure().count, 1, 'only the card approval is held');
  } finally {
    await h.cleanup();
  }
});

describe('wristband: blocked list', () => {
  test('a blocked notice refuses the wristband until it is unblocked; notices are idempotent; junk is ignored', () =>
    withTill({}, (h) => {
      const t = h.terminal;
      const band = loaded(t);
      const notice = { wristband: UID, reason: 'wristband_overspend', exceptionId: 'x-1' };
      assert.equal(applyWristbandNotice(t, 'wristband.blocked', notice), true);
      assert.equal(applyWristbandNotice(t, 'wristband.blocked', notice), false, 'a repeated notice');
      assert.deepEqual(
        t.blockedWristbands().map((b) => [b.wristband, b.reason, b.exceptionId]),
        [[UID, 'wristband_overspend', 'x-1']],
      );
      const seq = t.status().latestSeq;
      assert.throws(
        () => pay(t, band, 100),
        (e: unknown) => e instanceof WristbandRefusedError && e.code === 'wristband_blocked',
      );
      assert.throws(
        () => t.topUpWristband({ reader: band, amount: 100, paid: 'cash' }),
        (e: unknown) => e instanceof WristbandRefusedError && e.code === 'wristband_blocked',
      );
      assert.equal(t.status().latestSeq, seq);
      assert.equal(applyWristbandNotice(t, 'wristband.blocked', { wristband: 'nope' }), false);
      assert.equal(applyWristbandNotice(t, 'payment.settled', { wristband: UID }), false);
      assert.equal(applyWristbandNotice(t, 'wristband.unblocked', { wristband: UID, reason: 'ok' }), true);
      pay(t, band, 100);
    }));

  test('the blocked list survives a restart', async () => {
    const h = await till({});
    try {
      applyWristbandNotice(h.terminal, 'wristband.blocked', {
        wristband: UID,
        reason: 'wristband_clone',
        exceptionId: 'x',
      });
      const again = await h.reopen();
      assert.equal(again.blockedWristbands().length, 1);
    } finally {
      await h.cleanup();
    }
  });
});

describe('wristband: chip writes and power cuts', () => {
  test('a wristband pulled away mid-write: the op stands, the write is finished at the next read', () =>
    withTill({}, (h) => {
      const t = h.terminal;
      const band = loaded(t, 1_000);
      band.failNextWrite();
      const r = pay(t, band, 300);
      assert.equal(r.chipWritten, false);
      assert.ok(r.writeError);
      assert.equal(t.opState(r.op.id), 'pending', 'recorded');
      assert.equal(band.image().balance, 1_000, 'not yet on the chip');
      assert.deepEqual(
        t.pendingWristbandWrites().map((w) => [w.opId, w.counter, w.balanceAfter]),
        [[r.op.id, 2, 700]],
      );
      const next = pay(t, band, 200);
      assert.equal(next.chipWritten, true);
      assert.deepEqual(band.image(), { uid: UID, balance: 500, counter: 3, currency: 'EUR' });
      assert.deepEqual(t.pendingWristbandWrites(), []);
      const tender = bodyOf<SaleBody>(t, next.op.id).tenders[0];
      assert.equal(tender?.type === 'wristband' ? tender.counter : null, 3, 'the next sale read the finished write');
    }));

  for (const point of ['record:before-commit', 'record:after-commit'] as CrashPoint[]) {
    test(`power cut at ${point}: the chip is never debited without the op`, async () => {
      const h = await till({});
      try {
        const band = loaded(h.terminal, 1_000);
        let cut = false;
        const crashing = await h.reopen({
          crashHook: (p) => {
            if (cut || p !== point) return false;
            cut = true;
            return true;
          },
        });
        assert.throws(() => pay(crashing, band, 300), SimulatedCrashError);
        assert.equal(band.image().balance, 1_000, 'the chip is written only after the op committed');
        const recovered = await h.reopen({ crashHook: undefined as never });
        const pending = recovered.pendingWristbandWrites();
        if (point === 'record:after-commit') {
          assert.equal(pending.length, 1, 'the op is there and knows the counter it was going to write');
          assert.equal(pending[0]?.counter, 2);
          // The next read finishes that write before anything else.
          pay(recovered, band, 100);
          assert.deepEqual(band.image(), { uid: UID, balance: 600, counter: 3, currency: 'EUR' });
        } else {
          assert.deepEqual(pending, []);
          pay(recovered, band, 100);
          assert.deepEqual(band.image(), { uid: UID, balance: 900, counter: 2, currency: 'EUR' });
        }
        assert.deepEqual(recovered.pendingWristbandWrites(), []);
      } finally {
        await h.cleanup();
      }
    });
  }
});
