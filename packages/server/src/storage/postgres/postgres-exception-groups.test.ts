/**
 * Aggregated `op_rejected` exceptions with several server processes on one
 * PostgreSQL (the storage suite, storage/contract/exception-groups.test.ts,
 * covers the rules on every backend): the count is the number of ops
 * rejected whatever pool ingests them, and an ingest that waited behind an
 * operator resolving the group's row opens a new row instead of adding to
 * the resolved one.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type Op, uuidv7 } from '@holdfast/protocol';
import pg from 'pg';
import type { VerifiedBatch } from '../../model/batch.js';
import { createHarness, T0, type TestDevice } from '../../testing/harness.js';
import { startTestPostgres } from '../../testing/postgres.js';
import { PostgresStorage } from './postgres-storage.js';

const server = await startTestPostgres();
const opened: PostgresStorage[] = [];
after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server.stop();
});

async function fleet(n: number) {
  const url = await server.newDatabase();
  const storages = Array.from({ length: n }, () => new PostgresStorage({ connectionString: url }));
  opened.push(...storages);
  const [first] = storages as [PostgresStorage];
  await first.migrate();
  const h = await createHarness({ storage: first, closeStorage: async () => undefined });
  return { url, storages, first, h };
}

const verified = (b: { device: string; ops: Op[]; sentAt: number; latestSeq: number }): VerifiedBatch => ({
  device: b.device,
  ops: b.ops,
  sentAt: b.sentAt,
  latestSeq: b.latestSeq,
  trust: 'fresh',
});

const newId = () => uuidv7(Date.now(), crypto.getRandomValues(new Uint8Array(10)));
const unknownKinds = (d: TestDevice, n: number): Op[] =>
  Array.from({ length: n }, (_, i) => d.chain.next('ticket.cashed_out', { stake: i }));

interface GroupRow {
  id: string;
  occurrences: number;
  resolved: boolean;
}

async function groupRows(storage: PostgresStorage): Promise<GroupRow[]> {
  return storage.query<GroupRow>(
    `SELECT x.id, x.occurrences::int AS occurrences,
            EXISTS (SELECT 1 FROM exception_actions a WHERE a.exception_id = x.id AND a.resolves) AS resolved
       FROM exceptions x WHERE x.type = 'op_rejected' ORDER BY x.pos`,
  );
}

describe('aggregated op_rejected on PostgreSQL with several processes', () => {
  it('each batch raced through three pools: one row whose count is the number of ops rejected', async () => {
    const f = await fleet(3);
    const d = await f.h.enrollDevice('lane-race');
    let total = 0;
    for (let round = 0; round < 12; round++) {
      const batch = verified(d.batch(unknownKinds(d, 25 + round)));
      total += batch.ops.length;
      const answers = await Promise.all(f.storages.map((s) => s.ingest(batch, T0 + round, newId)));
      const appliers = answers.filter((a) => a.results.every((r) => r.status === 'rejected'));
      assert.equal(appliers.length, 1, 'one pool stored the batch, the others answered duplicate');
    }
    const rows = await groupRows(f.first);
    assert.deepEqual(
      rows.map((r) => [r.occurrences, r.resolved]),
      [[total, false]],
    );
    await f.h.close();
  });

  it('an ingest waiting behind a resolution of the group row opens a new row', async () => {
    const f = await fleet(1);
    const d = await f.h.enrollDevice('lane-resolve');
    await f.first.ingest(verified(d.batch(unknownKinds(d, 3))), T0, newId);
    const [row] = (await groupRows(f.first)) as [GroupRow];

    // An operator's transaction (as recordExceptionAction runs it) holds the row and appends a resolution…
    const operator = new pg.Client({ connectionString: f.url });
    await operator.connect();
    try {
      await operator.query('BEGIN');
      await operator.query('SELECT id FROM exceptions WHERE id = $1 FOR UPDATE', [row.id]);
      await operator.query(
        `INSERT INTO exception_actions (id, exception_id, action, note, amount, currency, "by", at, resolves)
         VALUES ($1, $2, 'acknowledged', 'terminal fixed', NULL, NULL, 'ops-ana', $3, TRUE)`,
        [newId(), row.id, T0 + 1],
      );
      // …while a batch of the same device and cause arrives: it must wait for the row…
      const ingest = f.first.ingest(verified(d.batch(unknownKinds(d, 4))), T0 + 2, newId);
      const waiting = async () =>
        (
          await f.first.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
          )
        )[0]?.n ?? 0;
      const deadline = Date.now() + 10_000;
      while ((await waiting()) < 1) {
        assert.ok(Date.now() < deadline, 'the ingest never waited for the row lock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await operator.query('COMMIT');
      // …and, once the resolution committed, open a new row rather than add to the resolved one.
      await ingest;
    } finally {
      await operator.end();
    }
    assert.deepEqual(
      (await groupRows(f.first)).map((r) => [r.occurrences, r.resolved]),
      [
        [3, true],
        [4, false],
      ],
    );
    await f.h.close();
  });
});
