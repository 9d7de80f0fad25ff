/**
 * The cash correction part of the storage suite (every backend of
 * testing/storage-backends.ts; docs/corrections.md, "Cash corrections"): a
 * `cash.moved` recorded wrongly is corrected by a `cash.corrected` that
 * moves cash the opposite way in the shift open at the time; an honest
 * close then shows no variance. At ingest a correction of an unknown
 * movement, of another device's movement, in the same direction, above
 * what the movement moved (across all its corrections) or without a proper
 * approver is an exception, and the fact stands.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Actor, CashCorrectedBody, Op } from '@holdfast/protocol';
import { NO_DECISION } from '@holdfast/protocol';
import type { Harness, TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const APPROVED: Actor = { staff: 'ana', approvedBy: 'sup-1' };
const UNKNOWN_MOVE = '01890000-0000-7000-8000-000000000001';

interface Till {
  d: TestDevice;
  shift: string;
}

async function till(h: Harness, label: string): Promise<Till> {
  const d = await h.enrollDevice(label);
  const open = d.openShift();
  await sendAll(h, d, [open]);
  return { d, shift: open.id };
}

async function sendAll(h: Harness, d: TestDevice, ops: Op[]): Promise<void> {
  const res = await h.send(d.batch(ops));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  for (const r of res.body.results) assert.equal(r.status, 'accepted', JSON.stringify(r));
}

function correction(
  t: Till,
  movement: string,
  direction: 'in' | 'out',
  amount: number,
  actor: Actor | undefined = APPROVED,
): Op {
  const body: CashCorrectedBody = {
    shift: t.shift,
    currency: 'EUR',
    movement,
    direction,
    amount,
    reason: 'keyed the wrong amount',
  };
  return t.d.chain.next('cash.corrected', body, NO_DECISION, undefined, actor);
}

async function exceptionsOf(h: Harness, ...types: string[]) {
  return (await h.storage.listExceptions(0, 1000)).items.filter((x) => types.includes(x.type));
}

async function expectedCash(h: Harness, shift: string): Promise<number> {
  const s = (await h.storage.listShifts(null)).find((x) => x.id === shift);
  assert.ok(s, `shift ${shift}`);
  return s.openingFloat + s.cashSales + s.cashIn - s.cashOut;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('cash corrections', () => {
      test('a float keyed ten times too high, corrected in two parts: an honest close shows no variance', async (h) => {
        const t = await till(h, 'till');
        // 50.00 added to the float, keyed as 500.00.
        const float = t.d.cashMove(t.shift, 'in', 50_000, { reason: 'float_in' });
        await sendAll(h, t.d, [float, correction(t, float.id, 'out', 40_000)]);
        await sendAll(h, t.d, [correction(t, float.id, 'out', 5_000)]);
        assert.equal(await expectedCash(h, t.shift), 10_000 + 50_000 - 45_000);
        await sendAll(h, t.d, [t.d.closeShift(t.shift, 15_000)]);
        assert.deepEqual(
          await exceptionsOf(h, 'cash_variance', 'cash_correction_invalid', 'cash_correction_over', 'shift_rule'),
          [],
        );
        const events = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type === 'cash.corrected');
        assert.deepEqual(
          events.map((e) => [e.amount, e.data.movement, e.data.direction, e.data.movementReason, e.data.approvedBy]),
          [
            [40_000, float.id, 'out', 'float_in', 'sup-1'],
            [5_000, float.id, 'out', 'float_in', 'sup-1'],
          ],
        );
      });

      test('a safe drop corrected in the next shift: the cash comes back into the correcting shift', async (h) => {
        const t = await till(h, 'till');
        const drop = t.d.cashMove(t.shift, 'out', 8_000);
        const close = t.d.closeShift(t.shift, 2_000);
        const next = t.d.openShift({ openingFloat: 2_000 });
        await sendAll(h, t.d, [drop, close, next]);
        // The drop was keyed as 8 000; the safe holds 3 000. The other 5 000, found in the safe bag after the
        // close, is brought back into the drawer of the shift open now.
        const later: Till = { d: t.d, shift: next.id };
        await sendAll(h, t.d, [correction(later, drop.id, 'in', 5_000)]);
        assert.equal(await expectedCash(h, next.id), 7_000);
        assert.equal(await expectedCash(h, t.shift), 2_000, 'the closed shift is left as it was');
        await sendAll(h, t.d, [t.d.closeShift(next.id, 7_000)]);
        assert.deepEqual(await exceptionsOf(h, 'cash_variance'), []);
        assert.deepEqual(await exceptionsOf(h, 'cash_correction_invalid', 'cash_correction_over'), []);
      });

      test('corrected for more than it moved, across batches: cash_correction_over; the fact stands', async (h) => {
        const t = await till(h, 'till');
        const paidIn = t.d.cashMove(t.shift, 'in', 3_000);
        await sendAll(h, t.d, [paidIn, correction(t, paidIn.id, 'out', 2_000)]);
        const again = correction(t, paidIn.id, 'out', 1_500);
        await sendAll(h, t.d, [again]);
        const over = await exceptionsOf(h, 'cash_correction_over');
        assert.deepEqual(
          over.map((x) => [x.opId, x.detail.correctedBefore, x.detail.movementAmount, x.severity]),
          [[again.id, 2_000, 3_000, 'alarm']],
        );
        assert.equal(await expectedCash(h, t.shift), 10_000 + 3_000 - 3_500, 'the cash left the drawer anyway');
      });

      test('an unknown movement, another till’s movement, the same direction: cash_correction_invalid each', async (h) => {
        const a = await till(h, 'till-a');
        const b = await till(h, 'till-b');
        const atA = a.d.cashMove(a.shift, 'out', 4_000);
        await sendAll(h, a.d, [atA]);
        const unknown = correction(b, UNKNOWN_MOVE, 'in', 500);
        const otherTill = correction(b, atA.id, 'in', 500);
        const own = b.d.cashMove(b.shift, 'in', 1_000);
        const sameWay = correction(b, own.id, 'in', 500);
        await sendAll(h, b.d, [unknown, otherTill, own, sameWay]);
        const invalid = await exceptionsOf(h, 'cash_correction_invalid');
        assert.deepEqual(
          invalid.map((x) => x.opId),
          [unknown.id, otherTill.id, sameWay.id],
        );
        assert.match(String(invalid[0]?.message), /is unknown/);
        assert.match(String(invalid[1]?.message), /only that till's drawer is corrected/);
        assert.match(String(invalid[2]?.message), /moves it out/);
        assert.equal(await expectedCash(h, b.shift), 10_000 + 500 + 500 + 1_000 + 500, 'every fact moved its cash');
        assert.equal(await expectedCash(h, a.shift), 6_000, "till A's drawer is untouched");
      });

      test('no approver, the clerk approving, or the recorder approving themself is raised', async (h) => {
        const t = await till(h, 'till');
        const paidIn = t.d.cashMove(t.shift, 'in', 9_000);
        const none = correction(t, paidIn.id, 'out', 1_000, { staff: 'ana' });
        const clerk = correction(t, paidIn.id, 'out', 1_000, { staff: 'ana', approvedBy: 'ana' });
        const self = correction(t, paidIn.id, 'out', 1_000, { staff: 'sup-2', approvedBy: 'sup-2' });
        await sendAll(h, t.d, [paidIn, none, clerk, self]);
        const invalid = await exceptionsOf(h, 'cash_correction_invalid');
        assert.deepEqual(
          invalid.map((x) => x.opId),
          [none.id, clerk.id, self.id],
        );
        assert.match(String(invalid[0]?.message), /names no approver/);
        assert.match(String(invalid[1]?.message), /the clerk who recorded it/);
        assert.match(String(invalid[2]?.message), /who recorded it; another supervisor/);
        assert.equal(await expectedCash(h, t.shift), 10_000 + 9_000 - 3_000);
      });
    });
  });
}
