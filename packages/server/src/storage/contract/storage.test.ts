/**
 * The storage suite: one set of tests every Storage backend must pass,
 * unchanged, run here on every backend of testing/storage-backends.ts; its
 * other parts are the other test files of this folder, one per concern.
 *
 * It speaks only the Storage interface and the service/HTTP layer, never a
 * query language, so the SQLite and PostgreSQL backends are held to exactly
 * the same contract.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  type Batch,
  GENESIS_HASH,
  type IngestResponse,
  type Op,
  type OpResult,
  ProtocolError,
  sealOp,
  uuidv7,
} from '@holdfast/protocol';
import { tokenHash } from '../../enrollment.js';
import type { VerifiedBatch } from '../../model/batch.js';
import type { EnrollmentTokenRecord } from '../../model/enrollment.js';
import { type Harness, saleBody, T0, type TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const statuses = (results: readonly OpResult[]) => results.map((r) => r.status);

const verified = (b: Batch): VerifiedBatch => ({
  device: b.device,
  ops: b.ops,
  sentAt: b.sentAt,
  latestSeq: b.latestSeq,
  trust: 'fresh',
});

/** A copy of `op` with some fields changed and its hash recomputed. */
function reseal(op: Op, changes: Partial<Omit<Op, 'hash'>>): Op {
  const { hash: _old, ...rest } = op;
  return sealOp({ ...rest, ...changes });
}

/** Every item of a paged listing, following `next` with pages of `limit`. */
async function collectPages<T extends { pos: number }>(
  list: (after: number, limit: number) => Promise<{ items: T[]; next: number | null }>,
  limit: number,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let after = 0;
  let pages = 0;
  for (;;) {
    const page = await list(after, limit);
    pages++;
    assert.ok(page.items.length <= limit, 'a page holds at most `limit` items');
    items.push(...page.items);
    if (page.next === null) return { items, pages };
    assert.equal(page.next, page.items[page.items.length - 1]?.pos, 'next is the last position of the page');
    after = page.next;
    assert.ok(pages < 1000, 'paging terminates');
  }
}

async function expectProtocolError(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

async function sendOk(h: Harness, batch: Batch): Promise<IngestResponse> {
  const res = await h.send(batch);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** A shift with `n` sales of 100, 200, … (cash), as ops of `d`'s chain. */
function shiftWithSales(d: TestDevice, n: number): Op[] {
  const open = d.openShift();
  return [open, ...Array.from({ length: n }, (_, i) => d.sale(open.id, (i + 1) * 100))];
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    /** A test with a fresh harness on a fresh storage, always torn down. */
    const test = storageTest(backend);

    describe('schema', () => {
      test('migrate() again, twice, is harmless: data stays and ingest keeps working', async (h) => {
        const d = await h.enrollDevice('lane-1');
        const ops = shiftWithSales(d, 2);
        await sendOk(h, d.batch(ops));
        const before = await h.storage.summary();
        await h.storage.migrate();
        await h.storage.migrate();
        assert.deepEqual(await h.storage.summary(), before);
        const more = await sendOk(h, d.batch([d.sale(ops[0]?.id ?? '', 50)]));
        assert.deepEqual(statuses(more.results), ['accepted']);
        await h.storage.ping();
      });
    });

    describe('enrollment tokens', () => {
      const token = (over: Partial<EnrollmentTokenRecord> = {}): EnrollmentTokenRecord => ({
        id: uuidv7(T0, crypto.getRandomValues(new Uint8Array(10))),
        tokenHash: tokenHash(`token-${Math.random()}`),
        label: 'till-7',
        createdAt: T0,
        expiresAt: T0 + 3_600_000,
        usedAt: null,
        deviceId: null,
        publicKey: null,
        merchant: null,
        location: null,
        event: null,
        ...over,
      });
      const newDeviceId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));
      const KEY_A = 'A'.repeat(43);
      const KEY_B = 'B'.repeat(43);

      test('enrolls a key with a token; a retry with the same key returns the same device, even after expiry', async (h) => {
        const t = token();
        await h.storage.insertEnrollmentToken(t);
        const id = newDeviceId();
        const first = await h.storage.redeemEnrollmentToken({
          tokenHash: t.tokenHash,
          publicKey: KEY_A,
          label: undefined,
          newDeviceId: id,
          now: T0 + 1,
        });
        assert.equal(first.outcome, 'enrolled');
        assert.ok(first.outcome === 'enrolled');
        assert.deepEqual(first.device, {
          id,
          label: 'till-7',
          publicKey: KEY_A,
          enrolledAt: T0 + 1,
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
        });
        const retry = await h.storage.redeemEnrollmentToken({
          tokenHash: t.tokenHash,
          publicKey: KEY_A,
          label: 'other label',
          newDeviceId: newDeviceId(),
          now: t.expiresAt + 1,
        });
        assert.equal(retry.outcome, 'already_enrolled');
        assert.ok(retry.outcome === 'already_enrolled');
        assert.equal(retry.device.id, id);
        assert.equal((await h.storage.listDevices()).length, 1);
        assert.deepEqual(await h.storage.getDevice(id), first.device);
      });

      test('refuses a token used by another key, an expired token and an unknown token', async (h) => {
        const used = token();
        const expired = token({ expiresAt: T0 + 10 });
        await h.storage.insertEnrollmentToken(used);
        await h.storage.insertEnrollmentToken(expired);
        const redeem = (tokenHashValue: string, publicKey: string, now = T0 + 1) =>
          h.storage.redeemEnrollmentToken({
            tokenHash: tokenHashValue,
            publicKey,
            label: 'x',
            newDeviceId: newDeviceId(),
            now,
          });
        assert.equal((await redeem(used.tokenHash, KEY_A)).outcome, 'enrolled');
        assert.deepEqual(await redeem(used.tokenHash, KEY_B), { outcome: 'token_used' });
        assert.deepEqual(await redeem(expired.tokenHash, KEY_B, T0 + 10), { outcome: 'token_expired' });
        assert.deepEqual(await redeem(tokenHash('never issued'), KEY_B), { outcome: 'token_invalid' });
        assert.equal((await h.storage.listDevices()).length, 1, 'no refused redemption creates a device');
      });

      test('refuses a second token for a key already enrolled, and leaves that token usable', async (h) => {
        const first = token();
        const second = token({ label: null });
        await h.storage.insertEnrollmentToken(first);
        await h.storage.insertEnrollmentToken(second);
        const redeem = (t: EnrollmentTokenRecord, publicKey: string, label?: string) =>
          h.storage.redeemEnrollmentToken({
            tokenHash: t.tokenHash,
            publicKey,
            label,
            newDeviceId: newDeviceId(),
            now: T0 + 1,
          });
        assert.equal((await redeem(first, KEY_A)).outcome, 'enrolled');
        assert.deepEqual(await redeem(second, KEY_A), { outcome: 'key_already_enrolled' });
        const other = await redeem(second, KEY_B, 'lane-9');
        assert.ok(other.outcome === 'enrolled');
        assert.equal(other.device.label, 'lane-9');
        assert.equal((await h.storage.listDevices()).length, 2);
      });

      test('concurrent redemptions: one token for two keys, or two tokens for one key, enroll exactly once', async (h) => {
        const shared = token();
        const t1 = token();
        const t2 = token();
        for (const t of [shared, t1, t2]) await h.storage.insertEnrollmentToken(t);
        const redeem = (t: EnrollmentTokenRecord, publicKey: string) =>
          h.storage.redeemEnrollmentToken({
            tokenHash: t.tokenHash,
            publicKey,
            label: undefined,
            newDeviceId: newDeviceId(),
            now: T0 + 1,
          });
        const KEY_C = 'C'.repeat(43);
        const byToken = await Promise.all([redeem(shared, KEY_A), redeem(shared, KEY_B)]);
        assert.deepEqual(byToken.map((r) => r.outcome).sort(), ['enrolled', 'token_used']);
        const byKey = await Promise.all([redeem(t1, KEY_C), redeem(t2, KEY_C)]);
        assert.deepEqual(byKey.map((r) => r.outcome).sort(), ['enrolled', 'key_already_enrolled']);
        assert.equal((await h.storage.listDevices()).length, 2);
      });
    });

    describe('ingest outcomes', () => {
      test('accepts new ops, and answers a replay with duplicates carrying the identical stored results', async (h) => {
        const d = await h.enrollDevice();
        const ops = shiftWithSales(d, 3);
        const batch = d.batch(ops);
        const first = await sendOk(h, batch);
        assert.deepEqual(statuses(first.results), ['accepted', 'accepted', 'accepted', 'accepted']);
        assert.equal(first.highWater, 4);
        h.clock.advance(60_000);
        const again = await sendOk(h, batch);
        assert.deepEqual(
          again.results,
          // The stored answer is the first answer, id and seq included (docs/protocol.md 4.2).
          first.results.map((r) => ({ id: r.id, seq: r.seq, status: 'duplicate', original: r })),
        );
        for (const op of ops) {
          const stored = await h.storage.getOp(op.id);
          assert.deepEqual(stored?.op, op, 'the envelope is stored as sent');
          assert.deepEqual(stored?.result, { status: 'accepted', at: first.serverTime });
        }
        const summary = await h.storage.summary();
        assert.equal(summary.opsAccepted, 4);
        assert.equal(summary.ledgerEvents, 4);
      });

      test('finds a stored op by device and seq (receipt numbers); another device or seq finds none', async (h) => {
        const d = await h.enrollDevice();
        const other = await h.enrollDevice();
        const ops = shiftWithSales(d, 2);
        await sendOk(h, d.batch(ops));
        const second = ops[1] as Op;
        assert.deepEqual((await h.storage.getOpAt(d.id, second.seq))?.op, second);
        assert.equal(await h.storage.getOpAt(d.id, 99), null);
        assert.equal(await h.storage.getOpAt(other.id, second.seq), null);
      });

      test('answers a stored id with another payload as conflict and changes nothing but an exception', async (h) => {
        const d = await h.enrollDevice();
        const ops = shiftWithSales(d, 2);
        await sendOk(h, d.batch(ops));
        const before = await h.storage.summary();
        const sale = ops[1] as Op;
        const tampered = reseal(sale, { body: saleBody(ops[0]?.id ?? '', 999) });
        const res = await sendOk(h, d.batch([tampered]));
        assert.deepEqual(statuses(res.results), ['conflict']);
        const after = await h.storage.summary();
        assert.deepEqual({ ...after, exceptions: {} }, { ...before, exceptions: {} });
        assert.deepEqual(after.exceptions, { conflict: 1 });
        assert.deepEqual((await h.storage.getOp(sale.id))?.op, sale, 'the stored op is untouched');
      });

      test('answers another op at a taken seq, or a prev that does not match, as fork', async (h) => {
        const d = await h.enrollDevice();
        const ops = shiftWithSales(d, 2);
        await sendOk(h, d.batch(ops));
        const clone = reseal(ops[2] as Op, { id: uuidv7(T0, crypto.getRandomValues(new Uint8Array(10))) });
        const next = d.sale(ops[0]?.id ?? '', 5);
        const diverged = reseal(next, { prev: 'c'.repeat(64) });
        assert.deepEqual(statuses((await sendOk(h, d.batch([clone]))).results), ['fork']);
        assert.deepEqual(statuses((await sendOk(h, d.batch([diverged]))).results), ['fork']);
        const summary = await h.storage.summary();
        assert.equal(summary.opsAccepted, 3);
        assert.deepEqual(summary.exceptions, { fork: 2 });
        assert.equal(await h.storage.getOp(clone.id), null);
        assert.deepEqual(statuses((await sendOk(h, d.batch([next]))).results), ['accepted']);
      });

      test('answers ops past a hole with seq_gap and does not store them', async (h) => {
        const d = await h.enrollDevice();
        const ops = shiftWithSales(d, 4);
        await sendOk(h, d.batch(ops.slice(0, 2)));
        const res = await sendOk(h, d.batch(ops.slice(3)));
        assert.deepEqual(
          res.results.map((r) => (r.status === 'rejected' && r.reason === 'seq_gap' ? r.expectedSeq : r.status)),
          [3, 3],
        );
        assert.equal(res.highWater, 2);
        assert.equal(await h.storage.getOp(ops[3]?.id ?? ''), null);
        assert.equal((await h.storage.summary()).opsAccepted, 2);
      });

      test('stores a rejected op with its reason; a retry returns the same rejection', async (h) => {
        const d = await h.enrollDevice();
        const open = d.openShift();
        const bad = d.chain.next('sale.recorded', { ...saleBody(open.id, 100), total: 101 });
        const unknown = d.chain.next('ticket.cashed_out', { stake: 5 });
        const after = d.sale(open.id, 100);
        const res = await sendOk(h, d.batch([open, bad, unknown, after]));
        assert.deepEqual(statuses(res.results), ['accepted', 'rejected', 'rejected', 'accepted']);
        const stored = await h.storage.getOp(bad.id);
        assert.equal(stored?.result.status, 'rejected');
        assert.ok(stored?.result.status === 'rejected');
        assert.equal(stored.result.reason, 'invalid_body');
        assert.equal(stored.result.field, 'body.total');
        assert.equal((await h.storage.getOp(unknown.id))?.result.status, 'rejected');
        const summary = await h.storage.summary();
        assert.deepEqual([summary.opsAccepted, summary.opsRejected], [2, 2]);
        const retry = await sendOk(h, d.batch([bad]));
        assert.deepEqual(retry.results, [
          { id: bad.id, seq: 2, status: 'duplicate', original: { id: bad.id, seq: 2, ...stored.result } },
        ]);
      });

      test('a revoked or unknown device: ingest throws and applies nothing', async (h) => {
        const d = await h.enrollDevice();
        const batch = d.batch(shiftWithSales(d, 1));
        const revoked = await h.storage.revokeDevice(d.id, 'stolen', T0 + 5);
        assert.equal(revoked?.revokedAt, T0 + 5);
        assert.equal(revoked?.revokeReason, 'stolen');
        await expectProtocolError(
          h.storage.ingest(verified(batch), T0 + 6, () => h.service.newId()),
          'device_revoked',
        );
        const ghost = uuidv7(T0, new Uint8Array(10).fill(7));
        await expectProtocolError(
          h.storage.ingest({ ...verified(batch), device: ghost }, T0 + 6, () => h.service.newId()),
          'unknown_device',
        );
        const summary = await h.storage.summary();
        assert.deepEqual([summary.opsAccepted, summary.ledgerEvents, summary.revokedDevices], [0, 0, 1]);
        assert.equal((await h.storage.deviceStatus(d.id))?.highWater, 0);
        assert.equal((await h.storage.listLedger(0, 10)).items.length, 0);
        assert.equal(await h.storage.revokeDevice(ghost, 'x', T0), null);
      });
    });

    describe('projections and reads', () => {
      test('projects shifts per device and sales totals by currency', async (h) => {
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        const openA = a.openShift({ openingFloat: 1_000 });
        const card = {
          type: 'card' as const,
          amount: 300,
          token: 'tok_0000001',
          brand: 'amex' as const,
          last4: '0005',
        };
        await sendOk(
          h,
          a.batch([
            openA,
            a.sale(openA.id, 500),
            a.sale(openA.id, 300, { tenders: [card] }),
            a.chain.next('shift.closed', { shift: openA.id, currency: 'EUR', countedCash: 1_500 }),
          ]),
        );
        const openB = b.openShift({ currency: 'GBP', openingFloat: 0 });
        await sendOk(h, b.batch([openB, b.sale(openB.id, 250, { currency: 'GBP' })]));

        const shiftsA = await h.storage.listShifts(a.id);
        assert.deepEqual(
          shiftsA.map((s) => [s.id, s.status, s.salesTotal, s.cashSales, s.cardSales, s.expectedCash, s.variance]),
          [[openA.id, 'closed', 800, 500, 300, 1_500, 0]],
        );
        const all = await h.storage.listShifts(null);
        assert.deepEqual(new Set(all.map((s) => s.id)), new Set([openA.id, openB.id]));
        assert.deepEqual(
          all.find((s) => s.id === openB.id),
          {
            id: openB.id,
            clerk: 'ana',
            currency: 'GBP',
            status: 'open',
            openingFloat: 0,
            sales: 1,
            salesTotal: 250,
            cashSales: 250,
            cardSales: 0,
            cashIn: 0,
            cashOut: 0,
            countedCash: null,
            device: b.id,
            openedAt: openB.at,
            closedAt: null,
            expectedCash: null,
            variance: null,
          },
        );
        const summary = await h.storage.summary();
        assert.deepEqual(summary.sales, [
          { currency: 'EUR', sales: 2, total: 800, cash: 500, card: 300 },
          { currency: 'GBP', sales: 1, total: 250, cash: 250, card: 0 },
        ]);
        assert.deepEqual([summary.devices, summary.openShifts, summary.closedShifts], [2, 1, 1]);
      });

      test('records an exception once: the same conflict or fork sent twice raises one each', async (h) => {
        const d = await h.enrollDevice();
        const ops = shiftWithSales(d, 2);
        await sendOk(h, d.batch(ops));
        const tampered = reseal(ops[1] as Op, { body: saleBody(ops[0]?.id ?? '', 1) });
        const forked = reseal(d.sale(ops[0]?.id ?? '', 1), { prev: 'd'.repeat(64) });
        for (let i = 0; i < 2; i++) {
          assert.deepEqual(statuses((await sendOk(h, d.batch([tampered]))).results), ['conflict']);
          assert.deepEqual(statuses((await sendOk(h, d.batch([forked]))).results), ['fork']);
        }
        const { items } = await h.storage.listExceptions(0, 100);
        assert.deepEqual(items.map((x) => x.type).sort(), ['conflict', 'fork']);
        const status = await h.storage.deviceStatus(d.id);
        assert.deepEqual([status?.conflicts, status?.forks], [1, 1]);
        assert.deepEqual((await h.storage.summary()).exceptions, { conflict: 1, fork: 1 });
      });

      test("getDeviceOps returns only the asking device's own ops", async (h) => {
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        const opsA = shiftWithSales(a, 1);
        const opsB = shiftWithSales(b, 1);
        await sendOk(h, a.batch(opsA));
        await sendOk(h, b.batch(opsB));
        const ids = [...opsA, ...opsB].map((o) => o.id);
        const seenByA = await h.storage.getDeviceOps(a.id, ids);
        assert.deepEqual(new Set(seenByA.map((s) => s.op.id)), new Set(opsA.map((o) => o.id)));
        assert.ok(seenByA.every((s) => s.op.device === a.id && s.result.status === 'accepted'));
        assert.deepEqual(await h.storage.getDeviceOps(b.id, [opsA[0]?.id ?? '']), []);
        assert.equal(await h.storage.getOp(uuidv7(T0, new Uint8Array(10))), null);
      });

      test('pages the ledger and the exceptions with after/limit/next, in order, without loss or repeat', async (h) => {
        const d = await h.enrollDevice();
        const open = d.openShift();
        const ops = [open];
        for (let i = 0; i < 6; i++) {
          ops.push(d.sale(open.id, i + 1));
          // A sale on a shift this device never opened: each raises its own shift_rule exception
          // (op_rejected would not do: those aggregate per device and cause, exception-groups.test.ts).
          ops.push(d.sale(uuidv7(T0, new Uint8Array(10).fill(i + 1)), 1));
        }
        await sendOk(h, d.batch(ops));

        const all = await h.storage.listLedger(0, 1000);
        assert.equal(all.next, null);
        assert.deepEqual(
          all.items.map((e) => e.opId),
          ops.map((o) => o.id),
          'one ledger event per op, in seq order',
        );
        const positions = all.items.map((e) => e.pos);
        assert.deepEqual(
          positions,
          [...positions].sort((x, y) => x - y),
        );
        assert.equal(new Set(positions).size, positions.length);
        for (const limit of [1, 4, 13, 50]) {
          const paged = await collectPages((after, l) => h.storage.listLedger(after, l), limit);
          assert.deepEqual(paged.items, all.items, `pages of ${limit}`);
        }
        const middle = positions[5] as number;
        assert.deepEqual(
          (await h.storage.listLedger(middle, 3)).items.map((e) => e.pos),
          positions.slice(6, 9),
        );

        const exceptions = await h.storage.listExceptions(0, 1000);
        assert.equal(exceptions.items.length, 6);
        assert.ok(exceptions.items.every((x) => x.type === 'shift_rule' && x.device === d.id));
        for (const limit of [1, 5, 6]) {
          const paged = await collectPages((after, l) => h.storage.listExceptions(after, l), limit);
          assert.deepEqual(paged.items, exceptions.items, `exception pages of ${limit}`);
        }
        const last = exceptions.items[exceptions.items.length - 1]?.pos ?? 0;
        assert.deepEqual(await h.storage.listExceptions(last, 10), { items: [], next: null });
      });

      test('reports device status: highWater, latestSeq, behind, gap, lastSeenAt, clock offset, conflicts, forks', async (h) => {
        const d = await h.enrollDevice('lane-3');
        const fresh = await h.storage.deviceStatus(d.id);
        assert.deepEqual(
          fresh && { hw: fresh.highWater, head: fresh.headHash, latest: fresh.latestSeq, seen: fresh.lastSeenAt },
          { hw: 0, head: GENESIS_HASH, latest: 0, seen: null },
        );
        const ops = shiftWithSales(d, 7); // seqs 1..8
        h.clock.advance(1_000);
        await sendOk(h, d.batch(ops.slice(0, 3), 10, h.clock.now() - 250));
        h.clock.advance(1_000);
        await sendOk(h, d.batch(ops.slice(5, 6), 10, h.clock.now() + 400)); // seq 6: missing 4..5
        await sendOk(h, d.batch([reseal(ops[1] as Op, { body: saleBody(ops[0]?.id ?? '', 7) })], 10));

        const status = await h.storage.deviceStatus(d.id);
        assert.deepEqual(status, {
          id: d.id,
          label: 'lane-3',
          publicKey: d.keys.publicKey,
          enrolledAt: T0,
          revokedAt: null,
          revokeReason: null,
          highWater: 3,
          headHash: ops[2]?.hash,
          latestSeq: 10,
          behind: 7,
          gap: { from: 4, to: 5 },
          lastSeenAt: T0 + 2_000,
          clockOffsetMs: 0,
          conflicts: 1,
          forks: 0,
          placement: null,
          report: null,
        });
        h.clock.advance(1_000);
        await sendOk(h, d.batch(ops.slice(3), 8, h.clock.now() - 3_000));
        const after = await h.storage.deviceStatus(d.id);
        assert.deepEqual(
          after && [after.highWater, after.latestSeq, after.behind, after.gap, after.lastSeenAt, after.clockOffsetMs],
          [8, 10, 2, null, T0 + 3_000, 3_000],
        );
        assert.deepEqual(await h.storage.listDeviceStatuses(), [after]);
        assert.equal(await h.storage.deviceStatus(uuidv7(T0, new Uint8Array(10))), null);
      });
    });

    describe('concurrency', () => {
      test('the same batch ingested 3 times at once: each op stored once, accepted by one call, duplicate to the others', async (h) => {
        const d = await h.enrollDevice();
        const ops = shiftWithSales(d, 9);
        const batch = d.batch(ops);
        const answers = await Promise.all([h.send(batch), h.send(batch), h.send(batch)]);
        for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
        const winners = answers.filter((a) => a.body.results.every((r) => r.status === 'accepted'));
        assert.equal(winners.length, 1, 'one call applies the whole batch');
        const accepted = winners[0]?.body.results ?? [];
        for (let i = 0; i < ops.length; i++) {
          const forOp = answers.map((a) => a.body.results[i]);
          assert.equal(forOp.filter((r) => r?.status === 'accepted').length, 1, `op ${i} accepted once`);
          const original = accepted[i] as OpResult;
          for (const r of forOp) {
            if (r?.status !== 'accepted')
              assert.deepEqual(r, { id: ops[i]?.id, seq: i + 1, status: 'duplicate', original });
          }
        }
        const summary = await h.storage.summary();
        assert.deepEqual([summary.opsAccepted, summary.ledgerEvents], [10, 10]);
        assert.equal(summary.sales[0]?.total, 4_500);
        const ledger = await h.storage.listLedger(0, 1000);
        assert.equal(new Set(ledger.items.map((e) => e.opId)).size, 10);
      });

      test('two devices delivering interleaved, with overlapping retries, each op applied exactly once', async (h) => {
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        const chains = [
          { d: a, ops: shiftWithSales(a, 11) },
          { d: b, ops: shiftWithSales(b, 11) },
        ];
        // Each device delivers its ops in pairs, each pair twice at once (a retry racing the original).
        const deliver = async ({ d, ops }: { d: TestDevice; ops: Op[] }) => {
          for (let i = 0; i < ops.length; i += 2) {
            const batch = d.batch(ops.slice(i, i + 2));
            const answers = await Promise.all([h.send(batch), h.send(batch)]);
            for (const answer of answers) {
              assert.equal(answer.status, 200);
              assert.ok(answer.body.results.every((r) => r.status === 'accepted' || r.status === 'duplicate'));
            }
          }
        };
        await Promise.all(chains.map(deliver));
        for (const { d, ops } of chains) {
          const status = await h.storage.deviceStatus(d.id);
          assert.equal(status?.highWater, ops.length);
          assert.equal(status?.headHash, ops[ops.length - 1]?.hash);
          const stored = await h.storage.getDeviceOps(
            d.id,
            ops.map((o) => o.id),
          );
          assert.equal(stored.length, ops.length);
        }
        const summary = await h.storage.summary();
        assert.deepEqual([summary.opsAccepted, summary.ledgerEvents], [24, 24]);
        assert.deepEqual(summary.sales, [{ currency: 'EUR', sales: 22, total: 2 * 6_600, cash: 2 * 6_600, card: 0 }]);
        assert.deepEqual(summary.exceptions, {});
      });
    });
  });
}
