/**
 * Device reports (protocol device-report.ts; issue 14): what a terminal says
 * about itself on a batch or a feed poll — when its oldest undelivered op
 * was recorded, the policy it holds, its software — kept per device and
 * shown in DeviceStatus.report, on every backend. Only what the device
 * signed and sent at a believable time is kept; an older report never
 * replaces a newer one; a bad report is refused naming its field.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  BATCH_FRESHNESS_MS,
  type Batch,
  batchHeadMessage,
  batchMessage,
  type DeviceReport,
  type DeviceStatus,
  type FeedResponse,
  feedRequestMessage,
  type Op,
  signMessage,
} from '@holdfast/protocol';
import type { Harness, TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const POLICY = '01890f2e-7a3b-7c00-8000-000000000001@3';

async function status(h: Harness, d: TestDevice): Promise<DeviceStatus> {
  const res = await h.request<DeviceStatus>('GET', `/v1/admin/devices/${d.id}`, { admin: true });
  assert.equal(res.status, 200);
  return res.body;
}

/** A batch carrying `report`, signed over it (v2). */
function reportingBatch(d: TestDevice, ops: Op[], sentAt: number, report: DeviceReport): Batch {
  const last = ops.at(-1) as Op;
  const unsigned = { device: d.id, ops, sentAt, latestSeq: last.seq, report };
  return { ...unsigned, sig: signMessage(batchMessage(unsigned), d.privateKey) };
}

/** A feed request carrying `report`, signed over `signed` (by default the same report; null: signed without it). */
function feedRequest(
  d: TestDevice,
  at: number,
  report?: DeviceReport,
  signed: DeviceReport | null | undefined = report,
) {
  return {
    device: d.id,
    after: 0,
    at,
    sig: signMessage(feedRequestMessage(d.id, 0, at, signed ?? undefined), d.privateKey),
    ...(report ? { report } : {}),
  };
}

for (const backend of STORAGE_BACKENDS) {
  describe(`device reports: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('a signed batch keeps its report, pendingSince moved onto the server clock; older ones do not replace it', async (h) => {
      const d = await h.enrollDevice();
      assert.equal((await status(h, d)).report, null, 'a device that never reported has none');
      const now = h.clock.now();
      // The device clock runs 2 s behind the server's: its oldest waiting op was recorded 60 s ago.
      const deviceNow = now - 2_000;
      const report = { pendingSince: deviceNow - 60_000, policy: POLICY, app: 'till/1.4 <b>' };
      const open = d.openShift();
      assert.equal((await h.send(reportingBatch(d, [open], deviceNow, report))).status, 200);
      assert.deepEqual((await status(h, d)).report, {
        reportedAt: now,
        pendingSince: now - 60_000,
        policy: POLICY,
        app: 'till/1.4 <b>',
      });

      // Sent earlier by the device (a retry that arrives late): kept out.
      h.clock.advance(5_000);
      const sale = d.sale(open.id, 100);
      const late = reportingBatch(d, [sale], deviceNow - 1, { pendingSince: null, policy: null, app: 'old' });
      assert.equal((await h.send(late)).status, 200);
      assert.equal((await status(h, d)).report?.app, 'till/1.4 <b>');
      // Replayed as it was: nothing moves, not even reportedAt.
      assert.equal((await h.send(reportingBatch(d, [open], deviceNow, report))).status, 200);
      assert.equal((await status(h, d)).report?.reportedAt, now);

      // Later, nothing waits: pendingSince null.
      const later = reportingBatch(d, [sale], h.clock.now(), { pendingSince: null, policy: POLICY, app: 'till/1.5' });
      assert.equal((await h.send(later)).status, 200);
      assert.deepEqual((await status(h, d)).report, {
        reportedAt: h.clock.now(),
        pendingSince: null,
        policy: POLICY,
        app: 'till/1.5',
      });
    });

    test('a report the device did not sign, or sent at an unbelievable time, is not kept', async (h) => {
      const d = await h.enrollDevice();
      const open = d.openShift();
      const report = { pendingSince: null, policy: null, app: 'till/1' };
      // A v1 signature covers the ops only: the ops are delivered, the report is not believed.
      const last = open;
      const v1 = {
        device: d.id,
        ops: [open],
        sentAt: h.clock.now(),
        latestSeq: 1,
        report,
        sig: signMessage(batchHeadMessage(d.id, last.seq, last.hash), d.privateKey),
      };
      assert.equal((await h.send(v1)).status, 200);
      assert.equal((await status(h, d)).report, null);
      // Changed on the way: the signature no longer verifies; refused, nothing kept.
      const tampered = {
        ...reportingBatch(d, [d.sale(open.id, 100)], h.clock.now(), report),
        report: { ...report, app: 'x' },
      };
      assert.equal((await h.send(tampered)).status, 401);
      assert.equal((await status(h, d)).report, null);
      // Signed, but sent more than a day from the server clock: the ops count, the report does not.
      const stale = reportingBatch(d, [d.sale(open.id, 100)], h.clock.now() - BATCH_FRESHNESS_MS - 1, report);
      assert.equal((await h.send(stale)).status, 200);
      assert.equal((await status(h, d)).report, null);
    });

    test('a feed poll carries a report, signed; the answer says the server takes them', async (h) => {
      const d = await h.enrollDevice();
      const at = h.clock.now();
      const report = { pendingSince: at - 10_000, policy: null, app: 'till/2' };
      const forged = await h.request('POST', '/v1/feed', { payload: feedRequest(d, at, report, null) });
      assert.equal(forged.status, 401, 'a report the signature does not cover');
      assert.equal((await status(h, d)).report, null);
      const res = await h.request<FeedResponse>('POST', '/v1/feed', { payload: feedRequest(d, at, report) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.reports, true);
      assert.deepEqual((await status(h, d)).report, {
        reportedAt: at,
        pendingSince: at - 10_000,
        policy: null,
        app: 'till/2',
      });
      // A poll without a report (a terminal before reports) keeps what is held.
      h.clock.advance(1_000);
      assert.equal((await h.request('POST', '/v1/feed', { payload: feedRequest(d, h.clock.now()) })).status, 200);
      assert.equal((await status(h, d)).report?.app, 'till/2');
    });

    test('a malformed report is refused naming its field; nothing is applied', async (h) => {
      const d = await h.enrollDevice();
      const at = h.clock.now();
      const good = { pendingSince: null, policy: null, app: null };
      const cases: [Record<string, unknown>, string][] = [
        [{ ...good, policy: 'not-a-ref' }, 'report.policy'],
        [{ ...good, app: 'till\u0000' }, 'report.app'],
        [{ ...good, app: 'x'.repeat(65) }, 'report.app'],
        [{ ...good, pendingSince: -5 }, 'report.pendingSince'],
        [{ pendingSince: null, policy: null }, 'report.app'],
        [{ ...good, extra: 1 }, 'report.extra'],
      ];
      for (const [report, field] of cases) {
        const open = d.openShift();
        const batch = { ...d.batch([open]), report };
        const res = await h.send(batch as Batch);
        assert.deepEqual([res.status, res.error.code, res.error.field], [400, 'invalid_request', field]);
        const feed = await h.request('POST', '/v1/feed', { payload: { ...feedRequest(d, at), report } });
        assert.deepEqual([feed.status, feed.error.code, feed.error.field], [400, 'invalid_request', field]);
      }
      const s = await status(h, d);
      assert.deepEqual([s.report, s.highWater], [null, 0]);
    });
  });
}
