/**
 * Two forwarders, as two server processes, on one PostgreSQL (two pools),
 * racing round for round against one processor simulator that loses many
 * answers after commit: every payment reaches the processor exactly once,
 * in seq order per device, and is settled once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PostgresStorage } from '../storage/postgres/postgres-storage.js';
import { assertForwardedExactlyOnce, startSim } from '../testing/forwarding-fixture.js';
import { createHarness } from '../testing/harness.js';
import { offlineSales } from '../testing/payments.js';
import { startTestPostgres } from '../testing/postgres.js';
import { Forwarder, type RoundSummary } from './forwarder.js';

const server = await startTestPostgres();
after(() => server.stop());

const LEASE = 10_000;

describe('Forwarder (PostgreSQL, two processes)', () => {
  it('two forwarders racing: each payment once at the processor, in seq order, settled once', async () => {
    const url = await server.newDatabase();
    const first = new PostgresStorage({ connectionString: url });
    const second = new PostgresStorage({ connectionString: url });
    const h = await createHarness({ storage: first });
    await second.migrate();
    const f = await startSim({ timeoutAfterCommitRate: 0.5 });
    try {
      const devices = await Promise.all(['a', 'b', 'c', 'd'].map((label) => h.enrollDevice(label)));
      for (const d of devices) await offlineSales(h, d, [100, 200, 300, 400, 500, 600]);
      const make = (storage: PostgresStorage, owner: string) =>
        new Forwarder({
          storage,
          processor: f.client,
          clock: h.clock,
          owner,
          batchSize: 4,
          leaseMs: LEASE,
          timeoutMs: 2_000,
        });
      const forwarders = [make(first, 'proc-1'), make(second, 'proc-2')];
      const rounds: RoundSummary[][] = [];
      for (let round = 0; round < 60; round++) {
        rounds.push(await Promise.all(forwarders.map((fwd) => fwd.runOnce())));
        h.clock.advance(LEASE); // claims of payments left unsettled run out
        if ((await first.listOfflinePayments(null)).every((p) => p.settledAt !== null)) break;
      }
      await assertForwardedExactlyOnce(first, f);
      const flat = rounds.flat();
      assert.equal(
        flat.reduce((n, r) => n + r.approved + r.declined, 0),
        24,
        'each payment settled by exactly one forwarder',
      );
      assert.ok(
        rounds.some((pair) => pair.every((r) => r.claimed > 0)),
        'both forwarders worked in the same round',
      );
      const ledger = (await first.listLedger(0, 1_000)).items.filter((e) => e.type === 'payment.settled');
      assert.equal(ledger.length, 24);
    } finally {
      await h.close();
      await second.close();
      await f.close();
    }
  });
});
