/**
 * The observability reads of the storage suite (every backend of
 * testing/storage-backends.ts): the forwarding backlog and open exceptions
 * GET /metrics exports, and the readiness probe of GET /v1/ready.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { T0 } from '../../testing/harness.js';
import { offlineSales } from '../../testing/payments.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const HOUR = 3_600_000;

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('operational gauges and readiness', () => {
      test('an empty store: nothing pending, no oldest base, no open exceptions', async (h) => {
        assert.deepEqual(await h.storage.operationalGauges({ dueBaseBefore: T0 }), {
          forwarding: { pending: 0, oldestBase: null, dueSoon: 0 },
          openExceptions: {},
        });
      });

      test('counts forwardable payments only (not settled, not refused), the oldest base, and those due', async (h) => {
        const d = await h.enrollDevice('a');
        const [settled, refused] = (await offlineSales(h, d, [100, 200, 300])) as [string, string, string];
        h.clock.advance(HOUR);
        const e = await h.enrollDevice('b');
        await offlineSales(h, e, [400]);
        assert.equal((await h.storage.operationalGauges({ dueBaseBefore: T0 })).forwarding.pending, 4);

        await h.storage.settleOfflinePayment({
          payment: { opId: settled, tenderIndex: 0 },
          owner: 'w1',
          settlement: { status: 'declined', processorId: 'auth_1', declineCode: 'card_blocked', at: T0 + 10 },
          exceptionId: '0190ffff-0000-7000-8000-000000000001',
        });
        const [claimed] = await h.storage.claimOfflinePayments('w1', 1, T0 + 2 * HOUR, 60_000);
        assert.equal(claimed?.opId, refused);
        assert.ok(
          await h.storage.refuseOfflinePayment({
            payment: { opId: refused, tenderIndex: 0 },
            owner: 'w1',
            code: 'invalid_request',
            status: 400,
            message: 'refused by test',
            field: null,
            at: T0 + 2 * HOUR,
            exceptionId: '0190ffff-0000-7000-8000-000000000002',
          }),
        );
        // Left: a's third payment (base T0) and b's payment (base T0 + 1 h).
        const before = await h.storage.operationalGauges({ dueBaseBefore: T0 });
        assert.deepEqual(before.forwarding, { pending: 2, oldestBase: T0, dueSoon: 1 });
        const after = await h.storage.operationalGauges({ dueBaseBefore: T0 + HOUR });
        assert.equal(after.forwarding.dueSoon, 2);
        assert.equal((await h.storage.operationalGauges({ dueBaseBefore: T0 - 1 })).forwarding.dueSoon, 0);
        // The decline and the refusal each raised an exception; each sale under the unknown policy p@1 a breach.
        assert.deepEqual(before.openExceptions, { payment_refused: 1, policy_breach: 4, post_auth_decline: 1 });
      });

      test('an exception stops counting as open once an action resolves it', async (h) => {
        const d = await h.enrollDevice('a');
        const open = d.openShift();
        assert.equal((await h.send(d.batch([open, d.closeShift(open.id, 9_950)]))).status, 200);
        const x = (await h.storage.listExceptions(0, 100)).items.find((i) => i.type === 'cash_variance');
        assert.ok(x);
        assert.deepEqual((await h.storage.operationalGauges({ dueBaseBefore: T0 })).openExceptions, {
          cash_variance: 1,
        });
        const contacted = await h.request('POST', `/v1/admin/exceptions/${x.id}/actions`, {
          admin: true,
          payload: { action: 'contacted', note: 'called the clerk', by: 'ops' },
        });
        assert.equal(contacted.status, 200, JSON.stringify(contacted.body));
        assert.deepEqual((await h.storage.operationalGauges({ dueBaseBefore: T0 })).openExceptions, {
          cash_variance: 1,
        });
        const done = await h.request('POST', `/v1/admin/exceptions/${x.id}/actions`, {
          admin: true,
          payload: { action: 'acknowledged', note: 'counted again', by: 'ops' },
        });
        assert.equal(done.status, 200, JSON.stringify(done.body));
        assert.deepEqual((await h.storage.operationalGauges({ dueBaseBefore: T0 })).openExceptions, {});
      });

      test('readiness: every known migration applied, after a write transaction', async (h) => {
        const r = await h.storage.readiness();
        assert.ok(r.migrationsKnown > 0);
        assert.equal(r.migrationsApplied, r.migrationsKnown);
        assert.equal(h.storage.pendingCalls(), 0);
      });
    });
  });
}
