/**
 * The PostgreSQL ingest figure at a tiny size: the report's shape, and that
 * the server processes (three here, as `--pg-processes` may ask) stored
 * exactly the ops sent (read back from the database: same ids, devices,
 * seqs, hashes, each once, all accepted). No timing is asserted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PostgresStorage } from '@holdfast/server';
import { benchPgIngest } from './postgres-ingest-bench.js';

describe('benchPgIngest', () => {
  it('three processes on one PostgreSQL store every op sent, once', async () => {
    let checked = false;
    const r = await benchPgIngest({
      devices: 3,
      batchesPerDevice: 2,
      batchSize: 7,
      processes: 3,
      async inspect(databaseUrl, sent) {
        const db = new PostgresStorage({ connectionString: databaseUrl, pool: { max: 1 } });
        try {
          const rows = await db.query<{ id: string; device: string; seq: string; hash: string; status: string }>(
            'SELECT id, device, seq::text AS seq, hash, status FROM ops ORDER BY device, seq',
          );
          const key = (o: { id: string; device: string; seq: number | string; hash: string }) =>
            `${o.device}/${o.seq}/${o.id}/${o.hash}`;
          assert.deepEqual(rows.map(key).sort(), sent.map(key).sort());
          assert.ok(rows.every((row) => row.status === 'accepted'));
          checked = true;
        } finally {
          await db.close();
        }
      },
    });
    assert.ok(checked, 'inspect ran');
    assert.equal(r.processes, 3);
    assert.equal(r.devices, 3);
    assert.equal(r.batches, 6);
    assert.equal(r.ops, 3 * 2 * 7);
    assert.ok(r.opsPerSec > 0 && r.rawInsertOpsPerSec > 0);
    assert.ok(Math.abs(r.ratio - r.opsPerSec / r.rawInsertOpsPerSec) < 1e-9);
  });
});
