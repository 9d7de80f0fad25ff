/**
 * The device-feed part of the storage suite, run on every backend
 * (testing/storage-backends.ts): Storage.listDeviceFeed as a view of the
 * ledger — a device's own payment settlements with their card, paged by
 * ledger position, the cursor moving past events that do not concern it.
 *
 * `wristband.*` events are written by no Storage method of this branch
 * yet; their delivery is tested on the backends that have a raw ledger
 * writer (`StorageBackend.insertLedgerEvent`).
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { DeviceFeedPage } from '../../model/device-feed.js';
import { type Harness, T0 } from '../../testing/harness.js';
import { offlineSales } from '../../testing/payments.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';
import type { Storage } from '../storage.js';

/** Settles `opId`'s first tender: approved, or declined with `declineCode`. */
async function settle(h: Harness, opId: string, declineCode?: string, at = T0 + 1000): Promise<void> {
  await h.storage.settleOfflinePayment({
    payment: { opId, tenderIndex: 0 },
    owner: 'w1',
    settlement:
      declineCode === undefined
        ? { status: 'approved', processorId: `auth_${opId.slice(-4)}`, at }
        : { status: 'declined', processorId: `auth_${opId.slice(-4)}`, declineCode, at },
    exceptionId: `x-${opId}`,
  });
}

/** Every page of `device`'s feed from `after`, with pages of `limit`. */
async function readAll(storage: Storage, device: string, limit: number, after = 0): Promise<DeviceFeedPage[]> {
  const pages: DeviceFeedPage[] = [];
  for (;;) {
    const page = await storage.listDeviceFeed(device, after, limit);
    pages.push(page);
    assert.ok(page.items.length <= limit, 'a page holds at most `limit` items');
    assert.ok(page.next >= after, 'the cursor never moves back');
    after = page.next;
    if (!page.more) return pages;
    assert.ok(pages.length < 100, 'paging terminates');
  }
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('device feed', () => {
      test("a device's feed: its own payment settlements with their card, nobody else's", async (h) => {
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        const [a1, a2, a3] = await offlineSales(h, a, [100, 200, 300]);
        const [b1] = await offlineSales(h, b, [400]);
        await settle(h, a1 as string);
        await settle(h, b1 as string, 'card_blocked');
        await settle(h, a2 as string, 'stolen_card');

        const page = await h.storage.listDeviceFeed(a.id, 0, 200);
        assert.deepEqual(
          page.items.map((e) => [e.type, e.opId, e.amount, e.currency, e.data.tenderIndex, e.data.declineCode ?? null]),
          [
            ['payment.settled', a1, 100, 'EUR', 0, null],
            ['payment.declined', a2, 200, 'EUR', 0, 'stolen_card'],
          ],
        );
        assert.ok(page.items.every((e) => e.device === a.id && e.card?.brand === 'visa' && e.card.last4 === '4242'));
        assert.ok(page.items[0] && page.items[1] && page.items[0].pos < page.items[1].pos, 'in ledger order');
        assert.equal(page.more, false);
        const end = (await h.storage.listLedger(0, 1000)).items.at(-1)?.pos;
        assert.equal(page.end, end);
        assert.equal(page.next, end, 'a short page moves the cursor to the ledger end');

        const bPage = await h.storage.listDeviceFeed(b.id, 0, 200);
        assert.deepEqual(
          bPage.items.map((e) => [e.type, e.opId]),
          [['payment.declined', b1]],
        );
        // Unsettled a3 is not in anyone's feed; settling it later shows up after the cursor.
        assert.deepEqual((await h.storage.listDeviceFeed(a.id, page.next, 200)).items, []);
        await settle(h, a3 as string);
        const later = await h.storage.listDeviceFeed(a.id, page.next, 200);
        assert.deepEqual(
          later.items.map((e) => [e.type, e.opId]),
          [['payment.settled', a3]],
        );
      });

      test('paging: full pages say more, the cursor is the last item; the pages add up to the feed, once', async (h) => {
        const d = await h.enrollDevice('a');
        const other = await h.enrollDevice('b');
        const ops = await offlineSales(h, d, [100, 200, 300, 400, 500]);
        const others = await offlineSales(h, other, [600, 700]);
        // Interleave other devices' settlements so the device's events are not contiguous in the ledger.
        for (const [i, op] of ops.entries()) {
          await settle(h, op, i % 2 === 0 ? undefined : 'insufficient_funds');
          const o = others[i];
          if (o) await settle(h, o);
        }
        const whole = await h.storage.listDeviceFeed(d.id, 0, 200);
        assert.deepEqual(
          whole.items.map((e) => e.opId),
          ops,
        );
        for (const limit of [1, 2, 5]) {
          const pages = await readAll(h.storage, d.id, limit);
          assert.deepEqual(
            pages.flatMap((p) => p.items.map((e) => e.pos)),
            whole.items.map((e) => e.pos),
            `limit ${limit}`,
          );
          for (const p of pages.slice(0, -1)) {
            assert.equal(p.more, true);
            assert.equal(p.next, p.items.at(-1)?.pos);
          }
          const last = pages.at(-1) as DeviceFeedPage;
          assert.equal(last.more, false);
          assert.equal(last.next, whole.end);
        }
      });

      test('the cursor moves past events that do not concern the device', async (h) => {
        const d = await h.enrollDevice('a');
        assert.deepEqual(await h.storage.listDeviceFeed(d.id, 0, 10), { items: [], next: 0, more: false, end: 0 });
        const open = d.openShift();
        await h.send(d.batch([open, d.sale(open.id, 100), d.sale(open.id, 200)]));
        const page = await h.storage.listDeviceFeed(d.id, 0, 10);
        assert.deepEqual(page.items, []);
        assert.equal(page.more, false);
        assert.ok(page.next >= 3 && page.next === page.end, 'the cursor is at the ledger end');
      });
    });

    // Delivery of `wristband.*` events to every device, scoped by merchant:
    // on backends whose tests can write a raw ledger row.
    const insert = backend.insertLedgerEvent;
    if (insert)
      describe('device feed: wristband notices', () => {
        test('every device gets them, except devices placed under another merchant than the writer', async (h) => {
          const [writer, same, other, unplaced] = await Promise.all(['w', 's', 'o', 'u'].map((l) => h.enrollDevice(l)));
          if (!writer || !same || !other || !unplaced) throw new Error('enrollment');
          const place = (id: string, merchant: string) =>
            h.storage.setDevicePlacement(id, { merchant, location: null, event: null }, T0);
          await place(writer.id, 'acme');
          await place(same.id, 'acme');
          await place(other.id, 'globex');
          const [op] = await offlineSales(h, writer, [100]);
          const blocked = { wristband: 'wb-0042', reason: 'overspend', exceptionId: 'x1' };
          await insert(h.storage, {
            opId: op as string,
            device: writer.id,
            seq: 2,
            type: 'wristband.blocked',
            shiftId: null,
            currency: null,
            amount: null,
            data: blocked,
            deviceAt: T0,
            appliedAt: T0 + 5,
          });
          // Not a notice: another type with the same prefix letters but no dot is not broadcast.
          await insert(h.storage, {
            opId: op as string,
            device: writer.id,
            seq: 2,
            type: 'wristbandish',
            shiftId: null,
            currency: null,
            amount: null,
            data: {},
            deviceAt: T0,
            appliedAt: T0 + 6,
          });
          for (const d of [writer, same, unplaced]) {
            const page = await h.storage.listDeviceFeed(d.id, 0, 10);
            assert.deepEqual(
              page.items.map((e) => [e.type, e.device, e.data, e.card]),
              [['wristband.blocked', writer.id, blocked, null]],
              d.chain.device,
            );
          }
          assert.deepEqual((await h.storage.listDeviceFeed(other.id, 0, 10)).items, [], 'another merchant');
        });
      });
  });
}
