/**
 * What a batch may change about its device (issue 15 #4), on every backend:
 * the batch signature covers every field; a batch of nothing but duplicates
 * changes nothing; `sentAt` far from the server clock, or a v1 signature,
 * still delivers the ops but moves no telemetry it does not vouch for.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  BATCH_FRESHNESS_MS,
  type Batch,
  batchHeadMessage,
  type DeviceStatus,
  type Op,
  signMessage,
} from '@holdfast/protocol';
import type { Harness, TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

async function status(h: Harness, d: TestDevice): Promise<DeviceStatus> {
  const res = await h.request<DeviceStatus>('GET', `/v1/admin/devices/${d.id}`, { admin: true });
  assert.equal(res.status, 200);
  return res.body;
}

async function sendStatuses(h: Harness, batch: Batch): Promise<string[]> {
  const res = await h.send(batch);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.results.map((r) => r.status);
}

/** A batch signed the version-1 way: only the head of the chain. */
function v1Batch(d: TestDevice, ops: Op[], sentAt: number, latestSeq: number): Batch {
  const last = ops.at(-1) as Op;
  return {
    device: d.id,
    ops,
    sentAt,
    latestSeq,
    sig: signMessage(batchHeadMessage(d.id, last.seq, last.hash), d.privateKey),
  };
}

for (const backend of STORAGE_BACKENDS) {
  describe(`batch trust: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('a captured batch replayed with a forged sentAt or latestSeq is refused; nothing moves', async (h) => {
      const d = await h.enrollDevice();
      const captured = d.batch([d.openShift()]);
      assert.deepEqual(await sendStatuses(h, captured), ['accepted']);
      const before = await status(h, d);
      h.clock.advance(60_000);
      for (const forged of [
        { ...captured, latestSeq: Number.MAX_SAFE_INTEGER },
        { ...captured, sentAt: captured.sentAt + 27 * 365 * 86_400_000 },
      ]) {
        const res = await h.send(forged);
        assert.deepEqual([res.status, res.error.code], [401, 'unknown_device']);
      }
      assert.deepEqual(await status(h, d), before);
    });

    test('a batch of nothing but duplicates changes nothing, not even lastSeenAt', async (h) => {
      const d = await h.enrollDevice();
      const open = d.openShift();
      const batch = d.batch([open, d.sale(open.id, 100)]);
      assert.deepEqual(await sendStatuses(h, batch), ['accepted', 'accepted']);
      const before = await status(h, d);
      h.clock.advance(5 * 60_000);
      assert.deepEqual(await sendStatuses(h, batch), ['duplicate', 'duplicate']);
      // Re-signed now, with a later sentAt and a higher latestSeq: still only duplicates.
      assert.deepEqual(await sendStatuses(h, d.batch([open], 40, h.clock.now())), ['duplicate']);
      assert.deepEqual(await status(h, d), before);
    });

    test('a fresh signed batch records latestSeq, lastSeenAt and the clock offset', async (h) => {
      const d = await h.enrollDevice();
      const now = h.clock.now();
      assert.deepEqual(await sendStatuses(h, d.batch([d.openShift()], 9, now - 1_500)), ['accepted']);
      const s = await status(h, d);
      assert.deepEqual([s.latestSeq, s.behind, s.lastSeenAt, s.clockOffsetMs], [9, 8, now, 1_500]);
    });

    test('sentAt outside the window: the ops are taken, latestSeq too, nothing derived from sentAt', async (h) => {
      const d = await h.enrollDevice();
      const open = d.openShift();
      assert.deepEqual(await sendStatuses(h, d.batch([open], 1)), ['accepted']);
      const before = await status(h, d);
      h.clock.advance(60_000);
      const skewed = h.clock.now() - BATCH_FRESHNESS_MS - 1;
      assert.deepEqual(await sendStatuses(h, d.batch([d.sale(open.id, 100)], 7, skewed)), ['accepted']);
      const after = await status(h, d);
      assert.deepEqual(
        [after.highWater, after.latestSeq, after.lastSeenAt, after.clockOffsetMs],
        [2, 7, before.lastSeenAt, before.clockOffsetMs],
      );
      // Just inside the window counts.
      const edge = h.clock.now() + BATCH_FRESHNESS_MS;
      assert.deepEqual(await sendStatuses(h, d.batch([d.sale(open.id, 100)], 8, edge)), ['accepted']);
      const fresh = await status(h, d);
      assert.deepEqual(
        [fresh.latestSeq, fresh.lastSeenAt, fresh.clockOffsetMs],
        [8, h.clock.now(), -BATCH_FRESHNESS_MS],
      );
    });

    test('a v1 signature (older terminals) delivers the ops; its unsigned sentAt and latestSeq change nothing', async (h) => {
      const d = await h.enrollDevice();
      const open = d.openShift();
      assert.deepEqual(await sendStatuses(h, d.batch([open], 1)), ['accepted']);
      const before = await status(h, d);
      h.clock.advance(60_000);
      const sale = d.sale(open.id, 100);
      assert.deepEqual(await sendStatuses(h, v1Batch(d, [sale], h.clock.now(), 2 ** 40)), ['accepted']);
      const after = await status(h, d);
      assert.deepEqual(
        [after.highWater, after.latestSeq, after.lastSeenAt, after.clockOffsetMs],
        [2, 2, before.lastSeenAt, before.clockOffsetMs],
      );
    });
  });
}
