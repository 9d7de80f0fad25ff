/**
 * startServer with `processor`: the server process forwards offline
 * payments on its own, and without it nothing is forwarded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type RunningServer, startServer } from '../start-server.js';
import { assertForwardedExactlyOnce, startSim } from '../testing/forwarding-fixture.js';
import { createHarness } from '../testing/harness.js';
import { offlineSales } from '../testing/payments.js';

async function withServer(
  processor: boolean,
  fn: (server: RunningServer, sim: Awaited<ReturnType<typeof startSim>>) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'holdfast-server-fwd-'));
  const sim = await startSim();
  const server = await startServer({
    dataDir,
    logger: false,
    ...(processor ? { processor: { url: sim.sim.url, apiKey: sim.sim.apiKey, intervalMs: 10 } } : {}),
  });
  try {
    await fn(server, sim);
  } finally {
    await server.close();
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Payments made through a harness on the server's own storage (the server's HTTP app is not needed for this). */
async function sell(server: RunningServer, amounts: number[]): Promise<void> {
  const h = await createHarness({ storage: server.storage, closeStorage: async () => undefined });
  try {
    await offlineSales(h, await h.enrollDevice('lane-1'), amounts);
  } finally {
    await h.close();
  }
}

describe('startServer with a processor', () => {
  it('forwards offline payments in the background and settles them', async () => {
    await withServer(true, async (server, sim) => {
      assert.ok(server.forwarder);
      await sell(server, [100, 200, 300]);
      const deadline = Date.now() + 10_000;
      while ((await server.storage.listOfflinePayments(null)).some((p) => p.settledAt === null)) {
        assert.ok(Date.now() < deadline, 'settled within 10 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      await assertForwardedExactlyOnce(server.storage, sim);
    });
  });

  it('without `processor` nothing is forwarded', async () => {
    await withServer(false, async (server, sim) => {
      assert.equal(server.forwarder, null);
      await sell(server, [100]);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual((await sim.client.listAll()).length, 0);
      assert.equal((await server.storage.listOfflinePayments(null))[0]?.settledAt, null);
    });
  });
});
