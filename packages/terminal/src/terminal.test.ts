import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DomainError } from '@holdfast/domain';
import { deviceOpIdTime, GENESIS_HASH, hashOp, NO_DECISION, UUID_PATTERN, ValidationError } from '@holdfast/protocol';
import Database from 'better-sqlite3';
import {
  AlreadyEnrolledError,
  DeviceRevokedError,
  EnrollmentError,
  JournalLockedError,
  NotEnrolledError,
  TerminalClosedError,
  TransportError,
} from './errors.js';
import { Terminal } from './terminal.js';
import { cardSale, cashSale, createHarness, openTill } from './testing/harness.js';

describe('Terminal enrollment', () => {
  test('enrolls with a token and keeps the device id across restarts', async () => {
    const h = await createHarness({ enroll: false });
    try {
      assert.equal(h.terminal.enrolled, false);
      const { deviceId } = await h.terminal.enroll(h.server.createToken(), 'till-7');
      assert.equal(h.terminal.deviceId, deviceId);
      assert.equal(h.server.device(deviceId)?.label, 'till-7');
      const reopened = await h.reopen();
      assert.equal(reopened.deviceId, deviceId);
      assert.equal(reopened.enrolled, true);
    } finally {
      await h.cleanup();
    }
  });

  test('a retry after a lost answer reuses the stored key pair and gets the same device id', async () => {
    const h = await createHarness({ enroll: false });
    try {
      const token = h.server.createToken();
      h.net.next({ type: 'drop-response' }, 'enroll');
      await assert.rejects(h.terminal.enroll(token), TransportError);
      assert.equal(h.terminal.enrolled, false);
      // Even across a restart: the keys were committed before the request left.
      await h.reopen();
      const { deviceId } = await h.terminal.enroll(token);
      assert.equal(h.server.requests.enroll, 2);
      const device = h.server.device(deviceId);
      assert.ok(device, 'the device the first request created is the one we got');
      assert.equal(h.terminal.deviceId, deviceId);
    } finally {
      await h.cleanup();
    }
  });

  test('a rejected enrollment throws the server code; enrolling twice is refused', async () => {
    const h = await createHarness({ enroll: false });
    try {
      await assert.rejects(
        h.terminal.enroll('A'.repeat(43)),
        (error: unknown) => error instanceof EnrollmentError && error.serverCode === 'token_invalid',
      );
      await h.terminal.enroll(h.server.createToken());
      await assert.rejects(h.terminal.enroll(h.server.createToken()), AlreadyEnrolledError);
    } finally {
      await h.cleanup();
    }
  });

  test('recording before enrollment fails and records nothing', async () => {
    const h = await createHarness({ enroll: false });
    try {
      assert.throws(() => openTill(h.terminal), NotEnrolledError);
      assert.throws(() => h.terminal.recordSale(cashSale()), NotEnrolledError);
      assert.equal(h.terminal.status().latestSeq, 0);
    } finally {
      await h.cleanup();
    }
  });
});

describe('Terminal recording', () => {
  test('records ops as a hash chain, synchronously, and emits recorded', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      const seen: number[] = [];
      h.terminal.on('recorded', (op) => seen.push(op.seq));
      const shift = openTill(h.terminal);
      const sale = h.terminal.recordSale(cashSale(2));
      const move = h.terminal.recordCashMovement({ direction: 'out', reason: 'safe_drop', amount: 5000 });
      const close = h.terminal.closeShift({ countedCash: 10_000, note: 'ok' });
      assert.deepEqual(seen, [1, 2, 3, 4]);
      assert.deepEqual(sale, { ...sale, seq: 2, kind: 'sale.recorded', state: 'pending' });
      let prev = GENESIS_HASH;
      for (const id of [shift, sale.id, move.id, close.id]) {
        const entry = h.terminal.getOp(id);
        assert.ok(entry);
        assert.equal(entry.op.prev, prev);
        assert.equal(hashOp(entry.op), entry.hash);
        assert.equal(entry.op.device, h.terminal.deviceId);
        prev = entry.hash;
      }
      const body = h.terminal.getOp(sale.id)?.op.body;
      assert.deepEqual(body, { shift, currency: 'EUR', ...cashSale(2), total: 500 });
      assert.equal(h.terminal.opState(sale.id), 'pending');
      assert.equal(h.terminal.lastShift()?.cashOut, 5000);
      assert.equal(h.terminal.lastShift()?.status, 'closed');
      assert.equal(h.terminal.currentShift(), null);
    } finally {
      await h.cleanup();
    }
  });

  test('op ids are device first (UUIDv8): the tail of the device id, then the recording time (protocol.md §1.0)', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      const ids = [openTill(h.terminal)];
      // The harness clock is manual: step it, so the ids span several milliseconds and the order below is checked.
      for (let i = 0; i < 20; i++) {
        h.clock.advance(i % 3);
        ids.push(h.terminal.recordSale(cashSale()).id);
      }
      const device = h.terminal.deviceId ?? '';
      let last = 0;
      for (const id of ids) {
        const op = h.terminal.getOp(id)?.op;
        assert.ok(op);
        assert.match(id, UUID_PATTERN);
        assert.equal(id.charAt(14), '8', `${id} is version 8`);
        assert.equal(id.slice(0, 8), device.slice(-8));
        assert.equal(deviceOpIdTime(id), op.at);
        assert.ok(op.at >= last);
        last = op.at;
      }
      // Ids of later milliseconds sort after earlier ones: one till's ops sit in order in any index on the id.
      let ordered = 0;
      for (let i = 1; i < ids.length; i++) {
        const [a, b] = [ids[i - 1] as string, ids[i] as string];
        if (deviceOpIdTime(a) < deviceOpIdTime(b)) {
          assert.ok(a < b, `${a} < ${b}`);
          ordered++;
        }
      }
      assert.ok(ordered >= 10, `${ordered} pairs of ids a millisecond or more apart were compared`);
    } finally {
      await h.cleanup();
    }
  });

  test('a sale carries the customer contact the clerk captured; a bad one is refused naming the field', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      const customer = { name: 'Ada', phone: '+44 20 7946 0958' };
      const sale = h.terminal.recordSale({ ...cashSale(), customer });
      assert.deepEqual(h.terminal.getOp(sale.id)?.op.body.customer, customer);
      assert.equal('customer' in (h.terminal.getOp(h.terminal.recordSale(cashSale()).id)?.op.body ?? {}), false);
      assert.throws(
        () => h.terminal.recordSale({ ...cashSale(), customer: { email: 'not an email' } }),
        (error: unknown) => error instanceof ValidationError && error.field === 'body.customer.email',
      );
      assert.equal(h.terminal.status().latestSeq, 3, 'the refused sale took no seq');
    } finally {
      await h.cleanup();
    }
  });

  test('an invalid body is refused with the field named, and consumes no seq', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      const bad = cashSale();
      (bad.lines[0] as { qty: number }).qty = 0;
      assert.throws(
        () => h.terminal.recordSale(bad),
        (error: unknown) => error instanceof ValidationError && error.field === 'body.lines[0].qty',
      );
      assert.throws(
        () => h.terminal.record('shift.opened', { clerk: '', currency: 'EUR', openingFloat: 0 }),
        (error: unknown) => error instanceof ValidationError && error.field === 'body.clerk',
      );
      assert.throws(() => h.terminal.record('sale.recorded', { nonsense: true } as never), ValidationError);
      assert.throws(() => h.terminal.record('no.such_kind' as never, {} as never), ValidationError);
      assert.throws(
        () =>
          h.terminal.record('shift.opened', { clerk: 'b', currency: 'EUR', openingFloat: 0 }, {
            ...NO_DECISION,
            mode: 'sometimes',
          } as never),
        (error: unknown) => error instanceof ValidationError && error.field === 'decision.mode',
      );
      assert.equal(h.terminal.status().latestSeq, 1);
      assert.equal(h.terminal.recordSale(cashSale()).seq, 2);
      // A clock stuck in 1970 (a flat RTC battery) would make ops no server accepts.
      h.clock.advance(-h.clock.now());
      assert.throws(
        () => h.terminal.recordSale(cashSale()),
        (error: unknown) => error instanceof ValidationError && error.field === 'at',
      );
      assert.equal(h.terminal.status().latestSeq, 2);
    } finally {
      await h.cleanup();
    }
  });

  test('shift rules are applied before recording', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      const isDomain = (code: string) => (error: unknown) => error instanceof DomainError && error.code === code;
      assert.throws(() => h.terminal.recordSale(cashSale()), isDomain('no_open_shift'));
      assert.throws(() => h.terminal.closeShift({ countedCash: 0 }), isDomain('no_open_shift'));
      const shift = openTill(h.terminal);
      assert.throws(() => openTill(h.terminal, 'bob'), isDomain('shift_already_open'));
      assert.throws(
        () => h.terminal.recordCashMovement({ direction: 'out', reason: 'paid_out', amount: 10_001 }),
        isDomain('insufficient_cash'),
      );
      const other = '01940000-0000-7000-8000-0000000000ff';
      assert.throws(
        () => h.terminal.record('sale.recorded', { shift: other, currency: 'EUR', ...cashSale(), total: 250 }),
        isDomain('shift_mismatch'),
      );
      assert.equal(h.terminal.status().latestSeq, 1);
      assert.equal(h.terminal.currentShift()?.id, shift);
    } finally {
      await h.cleanup();
    }
  });

  test('the open shift survives a restart', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      const shift = openTill(h.terminal);
      h.terminal.recordSale(cashSale(3));
      h.terminal.recordSale(cardSale());
      const before = h.terminal.currentShift();
      const t = await h.reopen({ autoSync: false });
      assert.deepEqual(t.currentShift(), before);
      assert.equal(t.currentShift()?.id, shift);
      assert.equal(t.currentShift()?.cashSales, 750);
      assert.equal(t.recordSale(cashSale()).seq, 4);
    } finally {
      await h.cleanup();
    }
  });

  test('a sale writes one row: the shift it leads to is stored in the op, not in a meta entry rewritten per op', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      const sale = h.terminal.recordSale(cashSale(3));
      await h.terminal.close();
      const db = new Database(path.join(h.dir, 'journal.db'));
      try {
        assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'shift'").get(), undefined);
        const row = db.prepare('SELECT shift FROM ops WHERE id = ?').get(sale.id) as { shift: string };
        assert.equal((JSON.parse(row.shift) as { cashSales: number }).cashSales, 750);
      } finally {
        db.close();
      }
    } finally {
      await h.cleanup();
    }
  });

  test('a journal from before schema 7 (shift in meta) keeps its open shift until an op changes it', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      const shift = openTill(h.terminal);
      h.terminal.recordSale(cashSale(3));
      const before = h.terminal.currentShift();
      await h.terminal.close();
      // Rewrite the journal as the SDK before schema 7 left it: the shift in meta, none in the op rows.
      const db = new Database(path.join(h.dir, 'journal.db'));
      db.prepare("INSERT INTO meta (key, value) VALUES ('shift', ?)").run(JSON.stringify(before));
      db.exec('UPDATE ops SET shift = NULL');
      db.close();
      const t = await h.reopen({ autoSync: false });
      assert.deepEqual(t.currentShift(), before);
      t.recordSale(cashSale(1));
      assert.equal(t.currentShift()?.cashSales, 1000);
      const again = await h.reopen({ autoSync: false });
      assert.equal(again.currentShift()?.id, shift);
      assert.equal(again.currentShift()?.cashSales, 1000, 'the op row, newer than the meta entry, wins');
    } finally {
      await h.cleanup();
    }
  });

  test('one terminal per journal: a second open fails clearly; a closed terminal refuses work', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      assert.throws(() => Terminal.open({ dataDir: h.dir, transport: h.net }), JournalLockedError);
      await h.terminal.close();
      assert.throws(() => h.terminal.status(), TerminalClosedError);
      assert.throws(() => openTill(h.terminal), TerminalClosedError);
      await assert.rejects(h.terminal.syncNow(), TerminalClosedError);
      await h.reopen({ autoSync: false });
    } finally {
      await h.cleanup();
    }
  });

  test('options are checked', async () => {
    const h = await createHarness({ enroll: false });
    try {
      await h.terminal.close();
      const bad = [{ batchSize: 0 }, { batchSize: 501 }, { backoffSeconds: [3, 1] }, { requestTimeoutMs: 0 }];
      for (const options of bad) {
        assert.throws(() => Terminal.open({ dataDir: h.dir, transport: h.net, ...options }), RangeError);
      }
      assert.ok(fs.existsSync(h.dir));
      await h.reopen();
    } finally {
      await h.cleanup();
    }
  });

  test('a revoked terminal refuses to record', async () => {
    const h = await createHarness();
    try {
      openTill(h.terminal);
      await h.clock.tick();
      h.server.revoke(h.terminal.deviceId as string, 'stolen');
      h.terminal.recordSale(cashSale());
      await h.clock.tick();
      assert.equal(h.terminal.revoked, true);
      assert.throws(
        () => h.terminal.recordSale(cashSale()),
        (error: unknown) => error instanceof DeviceRevokedError && error.reason === 'stolen',
      );
    } finally {
      await h.cleanup();
    }
  });
});

describe('Terminal.ops', () => {
  test('lists every op in seq order, whatever its state, in pages', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      h.terminal.recordSale(cashSale());
      h.terminal.recordSale(cardSale());
      await h.terminal.syncNow();
      h.terminal.recordSale(cashSale(2));
      h.net.next({ type: 'status', status: 400, code: 'invalid_request' });
      await h.terminal.syncNow();
      const late = h.terminal.recordSale(cashSale(3));
      h.terminal.recordSale(cashSale(4));

      const all = h.terminal.ops({ limit: 1000 });
      assert.deepEqual(
        all.map((e) => [e.seq, e.kind, e.state]),
        [
          [1, 'shift.opened', 'confirmed'],
          [2, 'sale.recorded', 'confirmed'],
          [3, 'sale.recorded', 'confirmed'],
          [4, 'sale.recorded', 'dead'],
          [5, 'sale.recorded', 'pending'],
          [6, 'sale.recorded', 'pending'],
        ],
      );
      for (const entry of all) {
        assert.equal(entry.op.seq, entry.seq);
        assert.equal(hashOp(entry.op), entry.hash);
        assert.deepEqual(h.terminal.getOp(entry.id), entry);
      }
      assert.equal((all[1]?.result as { status?: string } | undefined)?.status, 'accepted');
      assert.equal(all[4]?.id, late.id);

      const pages: number[][] = [];
      for (let afterSeq = 0; ; ) {
        const page = h.terminal.ops({ afterSeq, limit: 4 });
        const last = page.at(-1);
        if (!last) break;
        pages.push(page.map((e) => e.seq));
        afterSeq = last.seq;
      }
      assert.deepEqual(pages, [
        [1, 2, 3, 4],
        [5, 6],
      ]);
      assert.equal(h.terminal.ops().length, 6, 'default limit 100');
      assert.deepEqual(h.terminal.ops({ afterSeq: 6 }), []);
    } finally {
      await h.cleanup();
    }
  });

  test('checks its arguments and survives a restart', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      for (const bad of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { afterSeq: -1 }, { afterSeq: Number.NaN }]) {
        assert.throws(() => h.terminal.ops(bad), RangeError, JSON.stringify(bad));
      }
      const before = h.terminal.ops();
      const t = await h.reopen({ autoSync: false });
      assert.deepEqual(t.ops(), before);
      await t.close();
      assert.throws(() => t.ops(), TerminalClosedError);
    } finally {
      await h.cleanup();
    }
  });
});
