/**
 * The SQLite backend on its own thread carries errors and failures back
 * faithfully. That it holds to the same storage contract as in process is
 * tested with every backend (storage/contract/).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalOpText, generateDeviceKeys, type Op, ProtocolError } from '@holdfast/protocol';
import type { VerifiedBatch } from '../../model/batch.js';
import { createHarness, T0, type TestDevice } from '../../testing/harness.js';
import type { Storage } from '../storage.js';
import { SqliteStorage } from './sqlite-storage.js';
import { openThreadedSqlite, packBatch, unpackBatch } from './sqlite-thread.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-sqlite-thread-'));
  dirs.push(dir);
  return join(dir, 'holdfast.db');
};

/** Holds the storage thread busy for a while, so the calls sent meanwhile wait there together. */
const busy = (storage: Storage) =>
  (storage as unknown as { query(sql: string): Promise<unknown> }).query(
    'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT COUNT(*) FROM n',
  );

describe('sqlite on a thread: the boundary', () => {
  it('returns a ProtocolError as a ProtocolError, with its code', async () => {
    const storage = openThreadedSqlite({ path: ':memory:' });
    try {
      await storage.migrate();
      const batch = { device: 'no-such-device', ops: [], sentAt: 0, latestSeq: 0, trust: 'fresh' as const };
      await assert.rejects(
        storage.ingest(batch, Date.now(), () => 'unused'),
        (e: unknown) => e instanceof ProtocolError && e.code === 'unknown_device',
      );
    } finally {
      await storage.close();
    }
  });

  it('reports other errors by name and message, and refuses a function argument', async () => {
    const storage = openThreadedSqlite({ path: ':memory:' });
    try {
      await assert.rejects(storage.listDevices(), /call migrate\(\) before use/);
      await assert.rejects(
        (storage as unknown as { getDevice(x: unknown): Promise<unknown> }).getDevice(() => 1),
        /argument 0 of getDevice is a function/,
      );
    } finally {
      await storage.close();
    }
  });

  it('writes what an in-process connection reads back, and refuses calls after close', async () => {
    const path = tempPath();
    const storage = openThreadedSqlite({ path });
    await storage.migrate();
    await storage.close();
    await storage.close();
    await assert.rejects(storage.ping(), /storage thread exited/);
    const direct = new SqliteStorage({ path });
    try {
      const applied = direct.query<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations')[0]?.n ?? 0;
      assert.ok(applied >= 1, 'the thread migrated the file on disk');
    } finally {
      await direct.close();
    }
  });
});

describe('sqlite on a thread: group commit', () => {
  /** Ingest counts of the storage thread's SqliteStorage (not part of the Storage interface). */
  const commitsOf = (storage: Storage) =>
    (storage as unknown as { ingestCommits(): Promise<{ commits: number; batches: number }> }).ingestCommits();
  // With each op's canonical text, as the verifier hands batches on: they cross the thread as texts (packBatch).
  const verified = (device: TestDevice, ops: Op[]): VerifiedBatch => ({
    device: device.id,
    ops,
    canonical: ops.map((op) => canonicalOpText(op)),
    sentAt: T0,
    latestSeq: (ops[ops.length - 1] as Op).seq,
    trust: 'fresh',
  });

  it('ingests waiting together share one commit, each answered as if alone; a refused one fails alone', async () => {
    const h = await createHarness({ storage: openThreadedSqlite({ path: tempPath() }) });
    try {
      const devices = [await h.enrollDevice('a'), await h.enrollDevice('b'), await h.enrollDevice('c')];
      const batches: VerifiedBatch[][] = devices.map((d) => {
        const shift = d.openShift();
        const first = [shift, ...Array.from({ length: 9 }, () => d.sale(shift.id, 450))];
        const second = Array.from({ length: 10 }, () => d.sale(shift.id, 650));
        return [verified(d, first), verified(d, second)];
      });
      const before = await commitsOf(h.storage);
      const hold = busy(h.storage);
      // Sent while the thread is busy: device order kept (first before second), devices interleaved,
      // and a batch of a device nobody enrolled in the middle.
      const stranger: VerifiedBatch = { ...(batches[0]?.[1] as VerifiedBatch), device: 'no-such-device' };
      const calls = [
        ...batches.map((b) => b[0] as VerifiedBatch),
        stranger,
        ...batches.map((b) => b[1] as VerifiedBatch),
      ].map((batch) =>
        h.storage
          .ingest(batch, T0, () => 'unused')
          .then(
            (outcome) => ({ ok: true as const, outcome }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
      );
      await hold;
      const answers = await Promise.all(calls);
      const after = await commitsOf(h.storage);

      const refused = answers[3];
      assert.ok(
        refused && !refused.ok && refused.error instanceof ProtocolError && refused.error.code === 'unknown_device',
      );
      for (const [i, answer] of answers.entries()) {
        if (i === 3) continue;
        assert.ok(answer.ok, `call ${i} answered`);
        assert.deepEqual(
          answer.outcome.results.filter((r) => r.status !== 'accepted'),
          [],
          `call ${i}: every op accepted`,
        );
        assert.equal(answer.outcome.results.length, 10);
      }
      assert.equal(after.batches - before.batches, 7, 'seven batches reached the storage');
      assert.equal(after.commits - before.commits, 1, 'one commit carried all seven');
      for (const d of devices) {
        const stored = await h.storage.getDevice(d.id);
        assert.equal(stored?.highWater, 20, `${d.id}: both batches applied, in order`);
      }
      const ledger = await h.storage.listLedger(0, 1000);
      assert.equal(
        ledger.items.filter((e) => e.type === 'sale.recorded').length,
        3 * 19,
        'each sale once in the ledger',
      );
    } finally {
      await h.close();
    }
  });

  it('small batches waiting behind a large group commit first, but never ahead of their own device', async () => {
    const h = await createHarness({ storage: openThreadedSqlite({ path: tempPath() }) });
    try {
      const [a, b, c] = [await h.enrollDevice('a'), await h.enrollDevice('b'), await h.enrollDevice('c')];
      const shifts = [a, b, c].map((d) => d.openShift());
      for (const [i, d] of [a, b, c].entries()) await h.storage.ingest(verified(d, [shifts[i] as Op]), T0, () => 'x');
      const [sa, sb, sc] = shifts.map((s) => (s as Op).id) as [string, string, string];
      // A's backlog (300 ops, more than SMALL_BATCH_OPS × GROUP_MAX_BATCHES), then a sale each of b, a and c.
      const backlog = verified(
        a,
        Array.from({ length: 300 }, () => a.sale(sa, 100)),
      );
      const live = [verified(b, [b.sale(sb, 450)]), verified(a, [a.sale(sa, 450)]), verified(c, [c.sale(sc, 450)])];
      const before = await commitsOf(h.storage);
      const hold = busy(h.storage);
      const calls = [backlog, ...live].map((batch) => h.storage.ingest(batch, T0, () => 'unused'));
      await hold;
      const answers = await Promise.all(calls);
      const after = await commitsOf(h.storage);
      for (const answer of answers) assert.ok(answer.results.every((r) => r.status === 'accepted'));
      assert.equal(after.commits - before.commits, 2, "b's and c's sales in one commit, then a's two batches");
      const ledger = await h.storage.listLedger(0, 1000);
      const order = ledger.items
        .filter((e) => e.type === 'sale.recorded' && e.amount === 450)
        .map((e) => [e.device, e.seq]);
      assert.deepEqual(order, [
        [b.id, 2],
        [c.id, 2],
        [a.id, 302],
      ]);
      const firstBacklog = ledger.items.findIndex((e) => e.device === a.id && e.seq === 2);
      const cSale = ledger.items.findIndex((e) => e.device === c.id && e.seq === 2);
      assert.ok(cSale < firstBacklog, "the small batches went ahead of a's backlog");
    } finally {
      await h.close();
    }
  });

  it('a small batch that arrives while a group is applied ends the group before its next large batch', async () => {
    // One try: four backlog batches of 250 ops (one group, GROUP_MAX_OPS) queued behind a busy thread; a few
    // milliseconds after the thread is free (it takes the group at its next turn, and 1,000 ops take tens of
    // milliseconds), a sale of a fifth device. Where the sale lands says when it arrived and what it waited for.
    const attempt = async (): Promise<'during' | 'before'> => {
      const h = await createHarness({ storage: openThreadedSqlite({ path: tempPath() }) });
      try {
        const devices = [];
        for (const name of ['a', 'b', 'c', 'd', 'live']) devices.push(await h.enrollDevice(name));
        const shifts = devices.map((d) => d.openShift());
        for (const [i, d] of devices.entries()) await h.storage.ingest(verified(d, [shifts[i] as Op]), T0, () => 'x');
        const [a, b, c, d, live] = devices as [TestDevice, TestDevice, TestDevice, TestDevice, TestDevice];
        const backlog = [a, b, c, d].map((dev, i) =>
          verified(
            dev,
            Array.from({ length: 250 }, () => dev.sale((shifts[i] as Op).id, 100)),
          ),
        );
        const before = await commitsOf(h.storage);
        const hold = busy(h.storage);
        const groups = backlog.map((batch) => h.storage.ingest(batch, T0, () => 'unused'));
        await hold;
        await new Promise((resolve) => setTimeout(resolve, 5));
        const sale = h.storage.ingest(verified(live, [live.sale((shifts[4] as Op).id, 450)]), T0, () => 'unused');
        const answers = await Promise.all([...groups, sale]);
        for (const answer of answers) assert.ok(answer.results.every((r) => r.status === 'accepted'));
        const after = await commitsOf(h.storage);
        assert.equal(after.batches - before.batches, 5, 'every batch applied once');
        for (const dev of [a, b, c, d]) assert.equal((await h.storage.getDevice(dev.id))?.highWater, 251);
        const ledger = await h.storage.listLedger(0, 2000);
        const at = (device: TestDevice, seq: number) =>
          ledger.items.findIndex((e) => e.device === device.id && e.seq === seq);
        // Arrived before the group started (a thread slow to take it): it went ahead of the group; try again.
        if (at(live, 2) < at(a, 2)) return 'before';
        assert.ok(at(live, 2) > at(a, 251), 'a batch is applied whole');
        assert.ok(at(live, 2) < at(d, 2), 'the sale waited for the batch in progress, not for the whole group');
        assert.ok(after.commits - before.commits >= 3, 'the group was ended early: it, the sale, then the rest');
        return 'during';
      } finally {
        await h.close();
      }
    };
    const tries: string[] = [];
    while (tries.length < 5 && tries.at(-1) !== 'during') tries.push(await attempt());
    assert.equal(tries.at(-1), 'during', `the sale never arrived during the group in ${tries.length} tries`);
  });

  it('without anything waiting, each batch commits on its own at once', async () => {
    const h = await createHarness({ storage: openThreadedSqlite({ path: tempPath() }) });
    try {
      const d = await h.enrollDevice('a');
      const shift = d.openShift();
      const before = await commitsOf(h.storage);
      await h.storage.ingest(verified(d, [shift]), T0, () => 'unused');
      await h.storage.ingest(verified(d, [d.sale(shift.id, 450)]), T0, () => 'unused');
      const after = await commitsOf(h.storage);
      assert.deepEqual(
        { commits: after.commits - before.commits, batches: after.batches - before.batches },
        {
          commits: 2,
          batches: 2,
        },
      );
    } finally {
      await h.close();
    }
  });
});

describe('sqlite on a thread: health', () => {
  it('a ping waits for the call in progress only, not for the calls queued before it', async () => {
    const storage = openThreadedSqlite({ path: tempPath() });
    try {
      await storage.migrate();
      const order: string[] = [];
      const first = busy(storage).then(() => order.push('first'));
      const second = busy(storage).then(() => order.push('second'));
      const ping = storage.ping().then(() => order.push('ping'));
      await Promise.all([first, second, ping]);
      // 'first' may or may not have started when the ping arrived; 'second' had not.
      assert.ok(order.indexOf('ping') < order.indexOf('second'), order.join(', '));
      assert.equal(order.indexOf('first') < order.indexOf('second'), true, 'the other calls kept their order');
    } finally {
      await storage.close();
    }
  });
});

describe('sqlite on a thread: device reads on the main thread', () => {
  it('a device and its keys are read without waiting behind the queue, as committed', async () => {
    const h = await createHarness({ storage: openThreadedSqlite({ path: tempPath() }) });
    try {
      const d = await h.enrollDevice('a');
      const order: string[] = [];
      const hold = busy(h.storage).then(() => order.push('busy'));
      const device = await h.storage.getDevice(d.id);
      order.push('device');
      await h.storage.listDeviceKeys(d.id);
      order.push('keys');
      await hold;
      assert.deepEqual(order, ['device', 'keys', 'busy'], 'the reads did not queue behind the busy thread');
      assert.equal(device?.id, d.id);
      assert.equal(device?.revokedAt, null);
      // Changes the thread committed are what the next reads see.
      const next = generateDeviceKeys().publicKey;
      const signedWith = device?.publicKey as string;
      await h.storage.rotateDeviceKey({ device: d.id, signedWith, publicKey: next, now: T0, graceMs: 60_000 });
      assert.equal((await h.storage.getDevice(d.id))?.publicKey, next);
      const keys = await h.storage.listDeviceKeys(d.id);
      assert.deepEqual(
        keys.map((k) => [k.publicKey, k.retiredAt]),
        [
          [signedWith, T0 + 60_000],
          [next, null],
        ],
      );
      await h.storage.revokeDevice(d.id, 'stolen', T0 + 1);
      const revoked = await h.storage.getDevice(d.id);
      assert.equal(revoked?.revokedAt, T0 + 1);
      assert.equal(revoked?.revokeReason, 'stolen');
      assert.equal(await h.storage.getDevice('no-such-device'), null);
    } finally {
      await h.close();
    }
  });

  it('reads go to the thread again once closing, and fail with it; the file is left intact', async () => {
    const path = tempPath();
    const storage = openThreadedSqlite({ path });
    await storage.migrate();
    assert.equal(await storage.getDevice('no-such-device'), null);
    const closed = storage.close();
    await assert.rejects(storage.getDevice('no-such-device'), /storage thread exited|closed/);
    await closed;
    // The file was never opened for writing by the main thread: a direct connection sees it migrated and clean.
    const direct = new SqliteStorage({ path });
    try {
      assert.deepEqual(direct.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    } finally {
      await direct.close();
    }
  });
});

describe('sqlite on a thread: batches cross as texts', () => {
  it('an op rebuilt from its canonical text and hash is the op verified', async () => {
    const h = await createHarness();
    try {
      const d = await h.enrollDevice('a');
      const shift = d.openShift();
      const ops = [shift, d.sale(shift.id, 450), d.cardSale(shift.id, 1200)];
      const batch: VerifiedBatch = {
        device: d.id,
        ops,
        canonical: ops.map((op) => canonicalOpText(op)),
        sentAt: T0,
        latestSeq: 3,
        trust: 'fresh',
        bodies: [null, null, null],
      };
      const packed = packBatch(batch);
      assert.ok('texts' in packed && !('ops' in packed), 'sent as texts, without the objects');
      assert.deepEqual(unpackBatch(structuredClone(packed)), batch);
      const { canonical: _texts, ...bare } = batch;
      assert.equal(packBatch(bare), bare, 'without texts, a batch crosses as it is');
    } finally {
      await h.close();
    }
  });
});
