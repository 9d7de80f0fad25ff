/**
 * PostgresStorage on a real PostgreSQL (embedded, or DATABASE_URL), beyond
 * the storage suite (storage/contract/, run on every backend): what only a
 * networked database with many server processes has: migrations racing, one batch or one op id arriving
 * through several pools at once, token redemption races, the order of the
 * feeds under concurrent writers, and the append-only triggers.
 *
 * Races are made to happen, not hoped for: a test hook holds the first
 * transaction open before COMMIT until PostgreSQL shows the other sessions
 * waiting on a lock.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type Op, type OpResult, sealOp, uuidv7 } from '@holdfast/protocol';
import { tokenHash } from '../../enrollment.js';
import type { VerifiedBatch } from '../../model/batch.js';
import type { RedeemOutcome } from '../../model/enrollment.js';
import { createHarness, type Harness, T0, type TestDevice } from '../../testing/harness.js';
import { startTestPostgres } from '../../testing/postgres.js';
import { SALE_LOCK_BUCKETS, SALE_LOCK_CLASS } from './postgres-ingest.js';
import { POSTGRES_MIGRATIONS } from './postgres-schema.js';
import { PostgresStorage, type PostgresStorageOptions } from './postgres-storage.js';

const server = await startTestPostgres();
const opened: PostgresStorage[] = [];
after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server.stop();
});

/** A storage on `url` (default: a fresh database), closed after the file's tests. */
async function open(url?: string, options: Partial<PostgresStorageOptions> = {}): Promise<PostgresStorage> {
  const storage = new PostgresStorage({ connectionString: url ?? (await server.newDatabase()), ...options });
  opened.push(storage);
  return storage;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(what: string, ready: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await sleep(10);
  }
}

/** Sessions of this database waiting on a heavyweight lock (row, transaction id, advisory). */
async function lockWaiters(admin: PostgresStorage): Promise<number> {
  const rows = await admin.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return rows[0]?.n ?? 0;
}

/**
 * A beforeCommit hook: the first transaction to reach it (the race's
 * winner, its rows written) waits there until `waiters` other sessions are
 * blocked on a lock behind it; later calls pass straight through.
 */
function holdFirstUntil(admin: () => PostgresStorage, waiters: number) {
  let armed = true;
  return {
    rearm: () => {
      armed = true;
    },
    hook: async () => {
      if (!armed) return;
      armed = false;
      await until(`${waiters} sessions waiting on a lock`, async () => (await lockWaiters(admin())) >= waiters);
    },
  };
}

const verified = (b: { device: string; ops: Op[]; sentAt: number; latestSeq: number }): VerifiedBatch => ({
  device: b.device,
  ops: b.ops,
  sentAt: b.sentAt,
  latestSeq: b.latestSeq,
  trust: 'fresh',
});

const statuses = (results: readonly OpResult[]) => results.map((r) => r.status);

/** Three storages (three pools: as three server processes) on one migrated database, plus an admin one. */
async function fleet(options: Partial<PostgresStorageOptions> = {}) {
  const url = await server.newDatabase();
  const admin = await open(url);
  const storages = [await open(url, options), await open(url, options), await open(url, options)];
  await admin.migrate();
  const h = await createHarness({ storage: storages[0] as PostgresStorage, closeStorage: async () => undefined });
  return { url, admin, storages, h };
}

const newId = () => uuidv7(Date.now(), crypto.getRandomValues(new Uint8Array(10)));

describe('PostgresStorage with several processes', () => {
  it('migrate() run at once by three storages on an empty database applies each migration once', async () => {
    const url = await server.newDatabase();
    const storages = [await open(url), await open(url), await open(url)];
    await Promise.all(storages.map((s) => s.migrate()));
    const [first] = storages as [PostgresStorage];
    const versions = POSTGRES_MIGRATIONS.map((_, i) => ({ version: i + 1 }));
    assert.deepEqual(await first.query('SELECT version FROM schema_migrations ORDER BY version'), versions);
    assert.equal(await first.schemaVersion(), POSTGRES_MIGRATIONS.length);
    await Promise.all(storages.map((s) => s.migrate()));
    assert.equal((await first.query('SELECT version FROM schema_migrations')).length, POSTGRES_MIGRATIONS.length);
    const h = await createHarness({ storage: first, closeStorage: async () => undefined });
    const d = await h.enrollDevice();
    const open1 = d.openShift();
    const res = await h.send(d.batch([open1, d.sale(open1.id, 100)]));
    assert.deepEqual(statuses(res.body.results), ['accepted', 'accepted']);
  });

  it('the same batch through three pools at once: one applies it, the others answer the stored results', async () => {
    let admin: PostgresStorage | null = null;
    const hold = holdFirstUntil(() => admin as PostgresStorage, 2);
    const f = await fleet({ beforeCommit: hold.hook });
    admin = f.admin;
    const d = await f.h.enrollDevice();
    const open1 = d.openShift();
    const rounds = [[open1, d.sale(open1.id, 100), d.sale(open1.id, 200)], [d.sale(open1.id, 300)]];
    for (const ops of rounds) {
      hold.rearm();
      const batch = verified(d.batch(ops));
      const answers = await Promise.all(f.storages.map((s) => s.ingest(batch, T0 + 1, newId)));
      const winners = answers.filter((a) => a.results.every((r) => r.status === 'accepted'));
      assert.equal(winners.length, 1, 'exactly one pool applied the batch');
      const accepted = winners[0]?.results ?? [];
      for (const answer of answers) {
        if (answer === winners[0]) continue;
        assert.deepEqual(
          answer.results,
          accepted.map((original) => ({ id: original.id, seq: original.seq, status: 'duplicate', original })),
        );
        assert.equal(answer.highWater, winners[0]?.highWater);
      }
      for (const op of ops) assert.deepEqual((await f.admin.getOp(op.id))?.result, { status: 'accepted', at: T0 + 1 });
    }
    const counts = await f.admin.query<{ ops: number; ledger: number; total: number }>(
      'SELECT (SELECT count(*)::int FROM ops) AS ops, (SELECT count(*)::int FROM ledger) AS ledger, (SELECT sum(total)::int FROM sales) AS total',
    );
    assert.deepEqual(counts, [{ ops: 4, ledger: 4, total: 600 }]);
    assert.equal((await f.admin.deviceStatus(d.id))?.highWater, 4);
  });

  it('two devices racing with one op id: one stores it, the other gets conflict after its retry', async () => {
    let admin: PostgresStorage | null = null;
    const hold = holdFirstUntil(() => admin as PostgresStorage, 1);
    const f = await fleet({ beforeCommit: hold.hook });
    admin = f.admin;
    const a = await f.h.enrollDevice('a');
    const b = await f.h.enrollDevice('b');
    const opA = a.openShift();
    const { hash: _hash, ...bOpen } = b.openShift();
    const opB = sealOp({ ...bOpen, id: opA.id }); // B's own first op, under A's id
    const [resA, resB] = await Promise.all([
      (f.storages[0] as PostgresStorage).ingest(verified(a.batch([opA])), T0 + 1, newId),
      (f.storages[1] as PostgresStorage).ingest(verified(b.batch([opB])), T0 + 1, newId),
    ]);
    const outcome = [resA?.results[0]?.status, resB?.results[0]?.status];
    assert.deepEqual([...outcome].sort(), ['accepted', 'conflict'], JSON.stringify(outcome));
    const stored = await f.admin.query<{ device: string }>('SELECT device FROM ops WHERE id = $1', [opA.id]);
    assert.equal(stored.length, 1);
    const winner = outcome[0] === 'accepted' ? a : b;
    const loser = winner === a ? b : a;
    assert.equal(stored[0]?.device, winner.id);
    assert.equal((await f.admin.deviceStatus(loser.id))?.highWater, 0);
    assert.equal((await f.admin.deviceStatus(loser.id))?.conflicts, 1);
    assert.deepEqual((await f.admin.summary()).exceptions, { conflict: 1 });
  });

  it('concurrent token redemptions through three pools enroll at most once', async () => {
    const f = await fleet();
    const keys = ['A', 'B', 'C', 'D', 'E', 'F'].map((c) => c.repeat(43));
    const token = async () => {
      const t = {
        id: newId(),
        tokenHash: tokenHash(`token-${newId()}`),
        label: null,
        createdAt: T0,
        expiresAt: T0 + 3_600_000,
        usedAt: null,
        deviceId: null,
        publicKey: null,
        merchant: null,
        location: null,
        event: null,
      };
      await f.admin.insertEnrollmentToken(t);
      return t.tokenHash;
    };
    const redeem = (i: number, hash: string, publicKey: string): Promise<RedeemOutcome> =>
      (f.storages[i % 3] as PostgresStorage).redeemEnrollmentToken({
        tokenHash: hash,
        publicKey,
        label: undefined,
        newDeviceId: newId(),
        now: T0 + 1,
      });
    for (let round = 0; round < 4; round++) {
      const shared = await token();
      const roundKeys = keys.map((k) => `${k.slice(0, 42)}${round}`);
      const byToken = await Promise.all(roundKeys.slice(0, 3).map((k, i) => redeem(i, shared, k)));
      assert.deepEqual(byToken.map((r) => r.outcome).sort(), ['enrolled', 'token_used', 'token_used']);
      const tokens = [await token(), await token(), await token()];
      const oneKey = roundKeys[3] as string;
      const byKey = await Promise.all(tokens.map((t, i) => redeem(i, t, oneKey)));
      assert.deepEqual(byKey.map((r) => r.outcome).sort(), [
        'enrolled',
        'key_already_enrolled',
        'key_already_enrolled',
      ]);
    }
    assert.equal((await f.admin.listDevices()).length, 8);
  });

  it('a feed reader never pages past a row that commits later with a smaller pos', async () => {
    let release: () => void = () => undefined;
    let reached: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let slowDevice = '';
    const f = await fleet({
      beforeCommit: async (batch) => {
        if (batch.device !== slowDevice) return;
        reached();
        await held;
      },
    });
    const a = await f.h.enrollDevice('slow');
    const b = await f.h.enrollDevice('fast');
    slowDevice = a.id;
    const opsOf = (d: TestDevice) => [d.openShift(), d.chain.next('unknown.kind', { n: 1 })];
    const opsA = opsOf(a);
    const opsB = opsOf(b);
    const [s1, s2, s3] = f.storages as [PostgresStorage, PostgresStorage, PostgresStorage];

    const slow = s1.ingest(verified(a.batch(opsA)), T0 + 1, newId);
    let ledger: ReturnType<PostgresStorage['listLedger']> | undefined;
    let exceptions: ReturnType<PostgresStorage['listExceptions']> | undefined;
    let deviceFeed: ReturnType<PostgresStorage['listDeviceFeed']> | undefined;
    try {
      await inside; // A's ledger and exception rows have their pos, uncommitted
      const fast = await s2.ingest(verified(b.batch(opsB)), T0 + 2, newId);
      assert.deepEqual(statuses(fast.results), ['accepted', 'rejected']);
      const visible = await f.admin.query<{ pos: string; op_id: string }>('SELECT pos, op_id FROM ledger ORDER BY pos');
      assert.deepEqual(
        visible.map((r) => r.op_id),
        opsB.map((o) => o.id),
        'only B is committed so far',
      );
      assert.ok(Number(visible[0]?.pos) > 1, 'B was given positions after A: a naive reader would skip A for good');

      const settled = (p: Promise<unknown>) =>
        Promise.race([p.then(() => true), sleep(300).then(() => false)]) as Promise<boolean>;
      ledger = s3.listLedger(0, 100);
      exceptions = s3.listExceptions(0, 100);
      assert.equal(await settled(ledger), false, 'the ledger reader waits for the writer in flight');
      assert.equal(await settled(exceptions), false, 'so does the exceptions reader');
      deviceFeed = s3.listDeviceFeed(a.id, 0, 100);
      assert.equal(await settled(deviceFeed), false, 'so does a device feed reader: its cursor never passes A');
    } finally {
      release(); // also when an assertion failed: the held transaction must end for the file to end
    }
    assert.deepEqual(statuses((await slow).results), ['accepted', 'rejected']);
    assert.deepEqual(
      (await ledger).items.map((e) => e.opId),
      [...opsA, ...opsB].map((o) => o.id),
    );
    assert.deepEqual(
      (await exceptions).items.map((x) => x.opId),
      [opsA[1]?.id, opsB[1]?.id],
    );
    const feed = await deviceFeed;
    assert.deepEqual([feed?.items, feed?.next], [[], 4], 'the cursor is the end of a ledger that holds A');
  });

  it('feeds paged while three pools write: every row read once, none skipped', async () => {
    const f = await fleet();
    const devices: TestDevice[] = [];
    for (let i = 0; i < 6; i++) devices.push(await f.h.enrollDevice(`lane-${i}`));
    let writing = true;
    const writers = devices.map(async (d, i) => {
      const open1 = d.openShift();
      const storage = f.storages[i % 3] as PostgresStorage;
      await storage.ingest(verified(d.batch([open1])), T0, newId);
      for (let n = 0; n < 12; n++) {
        const ops = [d.sale(open1.id, 100 + n), d.chain.next('unknown.kind', { n })];
        const res = await (f.storages[(i + n) % 3] as PostgresStorage).ingest(verified(d.batch(ops)), T0, newId);
        assert.deepEqual(statuses(res.results), ['accepted', 'rejected']);
      }
    });
    const read = async <T extends { pos: number }>(
      list: (after: number, limit: number) => Promise<{ items: T[]; next: number | null }>,
    ): Promise<number[]> => {
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const done = !writing; // read before the page: a page that ends the feed after this is the last word
        const page = await list(after, 7);
        for (const item of page.items) seen.push(item.pos);
        after = seen[seen.length - 1] ?? 0;
        if (done && page.next === null) return seen;
      }
    };
    const readers = [
      read((after, limit) => f.storages[2]?.listLedger(after, limit) as ReturnType<PostgresStorage['listLedger']>),
      read((after, limit) => f.admin.listExceptions(after, limit)),
    ];
    await Promise.all(writers);
    writing = false;
    const [ledgerSeen, exceptionsSeen] = await Promise.all(readers);
    const all = async (table: string) =>
      (await f.admin.query<{ pos: string }>(`SELECT pos FROM ${table} ORDER BY pos`)).map((r) => Number(r.pos));
    assert.equal((await all('ledger')).length, 6 * 25);
    assert.deepEqual(ledgerSeen, await all('ledger'), 'the ledger, read while written, in order, nothing skipped');
    assert.deepEqual(exceptionsSeen, await all('exceptions'), 'the exceptions, likewise');
  });

  it('refuses UPDATE, DELETE and TRUNCATE on ops and on the ledger (append-only triggers)', async () => {
    const storage = await open();
    const h: Harness = await createHarness({ storage, closeStorage: async () => undefined });
    const d = await h.enrollDevice();
    const open1 = d.openShift();
    await h.send(d.batch([open1, d.sale(open1.id, 450), d.sale(open1.id, 300)]));
    const ops = await storage.query('SELECT * FROM ops ORDER BY seq');
    const ledger = await storage.query('SELECT * FROM ledger ORDER BY pos');
    assert.equal(ops.length, 3);
    assert.equal(ledger.length, 3);
    for (const sql of [
      "UPDATE ops SET status = 'rejected'",
      'DELETE FROM ops WHERE seq = 3',
      'TRUNCATE ops CASCADE',
      'UPDATE ledger SET amount = 0',
      'DELETE FROM ledger',
      'TRUNCATE ledger',
    ]) {
      await assert.rejects(storage.query(sql), /append-only/, sql);
    }
    assert.deepEqual(await storage.query('SELECT * FROM ops ORDER BY seq'), ops);
    assert.deepEqual(await storage.query('SELECT * FROM ledger ORDER BY pos'), ledger);
  });

  it('keeps amounts beyond 32 bits exact, as numbers, and stores the canonical envelope', async () => {
    const storage = await open();
    const h = await createHarness({ storage, closeStorage: async () => undefined });
    const d = await h.enrollDevice();
    const open1 = d.openShift({ openingFloat: 1_000_000_000_000 });
    const big = 1_000_000_000_000;
    const ops = [open1, d.sale(open1.id, big), d.sale(open1.id, big - 1)];
    await h.send(d.batch(ops));
    const summary = await storage.summary();
    assert.deepEqual(summary.sales, [{ currency: 'EUR', sales: 2, total: 2 * big - 1, cash: 2 * big - 1, card: 0 }]);
    const [shift] = await storage.listShifts(d.id);
    assert.equal(shift?.salesTotal, 2 * big - 1);
    assert.equal(shift?.openingFloat, big);
    const { items } = await storage.listLedger(0, 10);
    assert.deepEqual(
      items.map((e) => e.amount),
      [big, big, big - 1],
    );
    const rows = await storage.query<{ ok: boolean }>(
      "SELECT bool_and(encode(sha256(convert_to(envelope, 'UTF8')), 'hex') = hash) AS ok FROM ops",
    );
    assert.deepEqual(rows, [{ ok: true }], 'sha256(envelope) = hash for every stored op');
  });

  it('keeps everything across a close and a new pool; a replay is then answered with duplicates', async () => {
    const url = await server.newDatabase();
    const first = new PostgresStorage({ connectionString: url });
    const h = await createHarness({ storage: first });
    const d = await h.enrollDevice();
    const open1 = d.openShift();
    const batch = d.batch([open1, d.sale(open1.id, 450)]);
    await h.send(batch);
    const summary = await first.summary();
    const statusesBefore = await first.listDeviceStatuses();
    await h.close();

    const again = await open(url);
    const h2 = await createHarness({ storage: again, closeStorage: async () => undefined });
    assert.deepEqual(await again.summary(), summary);
    assert.deepEqual(await again.listDeviceStatuses(), statusesBefore);
    const replay = await h2.send(batch);
    assert.deepEqual(statuses(replay.body.results), ['duplicate', 'duplicate']);
    assert.equal(await again.schemaVersion(), POSTGRES_MIGRATIONS.length);
  });
});

describe('PostgreSQL sale locks (lockSales in postgres-ingest.ts)', () => {
  /** A storage fleet whose beforeCommit, once armed, stops the next transaction there until released. */
  async function gatedFleet() {
    let armed = false;
    let reached: () => void = () => undefined;
    let release: () => void = () => undefined;
    const atCommit = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locks: { mode: string; sub: number; class: string }[] = [];
    let admin: PostgresStorage | null = null;
    const f = await fleet({
      beforeCommit: async () => {
        if (!armed) return;
        armed = false;
        locks = await (admin as PostgresStorage).query(
          `SELECT l.mode, l.objsubid::int AS sub, l.classid::text AS class FROM pg_locks l
            JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()`,
        );
        reached();
        await released;
      },
    });
    admin = f.admin;
    return { ...f, arm: () => (armed = true), atCommit, release, locks: () => locks };
  }

  async function shop(h: Harness, label: string) {
    const d = await h.enrollDevice(label);
    const open1 = d.openShift();
    assert.deepEqual(statuses((await h.send(d.batch([open1]))).body.results), ['accepted']);
    return { d, shift: open1.id };
  }

  it('a batch of 300 sales holds at most SALE_LOCK_BUCKETS locks, shared: another batch of sales does not wait for it', async () => {
    const f = await gatedFleet();
    const a = await shop(f.h, 'lane-a');
    const b = await shop(f.h, 'lane-b');
    const salesOf = (s: { d: TestDevice; shift: string }) => Array.from({ length: 300 }, () => s.d.sale(s.shift, 100));
    f.arm();
    const first = f.storages[0]?.ingest(verified(a.d.batch(salesOf(a))), T0, newId) as Promise<unknown>;
    await f.atCommit;
    // Batch A sits before its COMMIT holding its locks; batch B (other sales) goes through meanwhile.
    const second = (await f.storages[1]?.ingest(verified(b.d.batch(salesOf(b))), T0, newId)) as {
      results: OpResult[];
    };
    assert.ok(second.results.every((r) => r.status === 'accepted'));
    f.release();
    await first;
    const saleLocks = f.locks().filter((l) => l.class === String(SALE_LOCK_CLASS) && l.sub === 2);
    assert.ok(saleLocks.length > 0 && saleLocks.length <= SALE_LOCK_BUCKETS, `${saleLocks.length} sale locks`);
    assert.ok(saleLocks.every((l) => l.mode === 'ShareLock'));
    // Besides them only the feed lock (shared): no lock per sale id.
    assert.deepEqual(
      f
        .locks()
        .filter((l) => !saleLocks.includes(l))
        .map((l) => l.mode),
      ['ShareLock'],
    );
  });

  it('a refund from another device waits for the batch recording its sale, then counts against it', async () => {
    const f = await gatedFleet();
    const a = await shop(f.h, 'lane-a');
    const b = await shop(f.h, 'lane-b');
    const sale = a.d.sale(a.shift, 2_000);
    const refund = b.d.chain.next(
      'sale.refunded',
      { shift: b.shift, sale: sale.id, currency: 'EUR', amount: 500, tender: 'cash' },
      { mode: 'none', outcome: 'approved', policy: null },
      undefined,
      { staff: 'ana', approvedBy: 'sup-1' },
    );
    f.arm();
    const first = f.storages[0]?.ingest(verified(a.d.batch([sale])), T0, newId) as Promise<unknown>;
    await f.atCommit;
    const second = f.storages[1]?.ingest(verified(b.d.batch([refund])), T0, newId) as Promise<{
      results: OpResult[];
    }>;
    // The refund's batch waits on its sale's bucket (exclusive) until the sale's batch commits.
    await until('the refund batch waiting on a lock', async () => (await lockWaiters(f.admin)) >= 1);
    f.release();
    await first;
    assert.deepEqual(statuses((await second).results), ['accepted']);
    const stored = await f.admin.query<{ state: string }>('SELECT state FROM sale_corrections WHERE sale_op_id = $1', [
      sale.id,
    ]);
    assert.deepEqual(
      stored.map((r) => r.state),
      ['counted'],
    );
  });
});
