/**
 * Operators in two server processes (two pools on one PostgreSQL) resolving
 * the same decline at the same moment, through HTTP: exactly one
 * resolution, one ledger event for its money, and the others told it was
 * already resolved. Also two forwarders sweeping deadlines at once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Forwarder } from '../forwarding/forwarder.js';
import { PostgresStorage } from '../storage/postgres/postgres-storage.js';
import { createHarness, T0 } from '../testing/harness.js';
import { offlineSales } from '../testing/payments.js';
import { startTestPostgres } from '../testing/postgres.js';

const server = await startTestPostgres();
after(() => server.stop());

describe('exception actions (PostgreSQL, two processes)', () => {
  it('two operators resolving one decline at once: exactly one resolution', async () => {
    const url = await server.newDatabase();
    const one = await createHarness({ storage: new PostgresStorage({ connectionString: url }) });
    const two = await createHarness({ storage: new PostgresStorage({ connectionString: url }) });
    try {
      const d = await one.enrollDevice('a');
      const declines: string[] = [];
      for (let i = 0; i < 5; i++) {
        const [opId] = (await offlineSales(one, d, [1_000 + i])) as [string];
        await one.storage.settleOfflinePayment({
          payment: { opId, tenderIndex: 0 },
          owner: 'w1',
          settlement: { status: 'declined', processorId: `auth_${i}`, declineCode: 'card_blocked', at: T0 },
          exceptionId: one.service.newId(),
        });
      }
      for (const x of (await one.storage.listExceptions(0, 100)).items) {
        if (x.type === 'post_auth_decline') declines.push(x.id);
      }
      assert.equal(declines.length, 5);
      for (const id of declines) {
        const answers = await Promise.all(
          [one, two, one, two].map((h, i) =>
            h.request('POST', `/v1/admin/exceptions/${id}/actions`, {
              admin: true,
              payload: { action: i % 2 ? 'recovered' : 'written_off', note: `operator ${i}`, by: `op-${i}` },
            }),
          ),
        );
        assert.deepEqual(
          answers.map((a) => a.status).sort(),
          [200, 409, 409, 409],
          JSON.stringify(answers.map((a) => a.body)),
        );
        assert.ok(answers.filter((a) => a.status === 409).every((a) => a.error.code === 'already_resolved'));
      }
      const money = (await two.storage.listLedger(0, 1_000)).items.filter(
        (e) => e.type === 'payment.written_off' || e.type === 'payment.recovered',
      );
      assert.equal(money.length, 5, 'one money event per decline');
      const views = await two.storage.listExceptionViews({ after: 0, limit: 100, type: 'post_auth_decline' });
      assert.ok(views.items.every((x) => x.status === 'resolved' && x.actions.length === 1));
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('two forwarders sweeping deadlines at once raise each stage once', async () => {
    const url = await server.newDatabase();
    const h = await createHarness({ storage: new PostgresStorage({ connectionString: url }) });
    const second = new PostgresStorage({ connectionString: url });
    try {
      const devices = await Promise.all(['a', 'b', 'c'].map((l) => h.enrollDevice(l)));
      for (const d of devices) await offlineSales(h, d, [100, 200]);
      // Nothing answers: every authorization is an unknown outcome, so payments stay unsettled.
      const processor = {
        authorize: async () => Promise.reject(new Error('down')),
        findByKey: async () => null,
      };
      const make = (storage: PostgresStorage, owner: string) =>
        new Forwarder({ storage, processor, clock: h.clock, owner, batchSize: 2, leaseMs: 1_000, timeoutMs: 100 });
      const pair = [make(h.storage as PostgresStorage, 'p1'), make(second, 'p2')];
      h.clock.advance(54 * 3_600_000);
      const warned = await Promise.all(pair.map((f) => f.runOnce()));
      assert.equal(
        warned.reduce((n, r) => n + r.deadlineExceptions, 0),
        6,
      );
      h.clock.advance(18 * 3_600_000);
      const missed = await Promise.all(pair.map((f) => f.runOnce()));
      assert.equal(
        missed.reduce((n, r) => n + r.deadlineExceptions, 0),
        6,
      );
      const xs = (await h.storage.listExceptions(0, 100)).items;
      assert.equal(xs.filter((x) => x.type === 'forwarding_deadline').length, 12);
      assert.equal(new Set(xs.map((x) => x.dedupeKey)).size, xs.length);
    } finally {
      await h.close();
      await second.close();
    }
  });
});
