/**
 * A server crash in the middle of a batch, before or after its commit: the
 * restarted server holds exactly what was committed, and the client's retry
 * of the same batch is applied once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ChainBuilder, enrollmentMessage, generateDeviceKeys, importPrivateKey, signMessage } from '@holdfast/protocol';
import { HoldfastService } from '../../holdfast-service.js';
import { saleBody } from '../../testing/harness.js';
import { type ServerCrashPoint, SimulatedServerCrash, SqliteStorage } from './sqlite-storage.js';

async function open(path: string, crashAt?: ServerCrashPoint) {
  const storage = new SqliteStorage({
    path,
    ...(crashAt ? { crashHook: (p: ServerCrashPoint) => p === crashAt } : {}),
  });
  await storage.migrate();
  return { storage, service: new HoldfastService({ storage }) };
}

describe('server crash mid-batch', () => {
  for (const point of ['ingest:before-commit', 'ingest:after-commit'] as const) {
    it(`at ${point}: the restarted server holds what was committed and a retry applies it once`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'holdfast-crash-'));
      const path = join(dir, 'holdfast.db');
      try {
        // Enroll on a healthy server, then restart it with the crash armed.
        const healthy = await open(path);
        const keys = generateDeviceKeys();
        const { token } = await healthy.service.createEnrollmentToken({});
        const sig = signMessage(enrollmentMessage(token, keys.publicKey), importPrivateKey(keys.privateKey));
        const { deviceId } = await healthy.service.enroll({ token, publicKey: keys.publicKey, sig });
        await healthy.storage.close();

        const chain = new ChainBuilder(deviceId, keys.privateKey);
        const shift = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 });
        const batch = chain.batch([shift, chain.next('sale.recorded', saleBody(shift.id, 450))]);

        const crashing = await open(path, point);
        await assert.rejects(crashing.service.ingest(JSON.parse(JSON.stringify(batch))), SimulatedServerCrash);

        const restarted = await open(path);
        const before = await restarted.storage.summary();
        assert.equal(before.opsAccepted, point === 'ingest:after-commit' ? 2 : 0);
        const retry = await restarted.service.ingest(JSON.parse(JSON.stringify(batch)));
        const expected = point === 'ingest:after-commit' ? 'duplicate' : 'accepted';
        assert.deepEqual(
          retry.results.map((r) => r.status),
          [expected, expected],
        );
        const after = await restarted.storage.summary();
        assert.equal(after.opsAccepted, 2);
        assert.equal(after.ledgerEvents, 2, 'one ledger event per op');
        await restarted.storage.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
