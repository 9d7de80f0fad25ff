/**
 * The ticket tables' migration on a database of the previous release: a
 * ticket approved before it (its liability held, no ticket row) becomes an
 * accepted ticket, so results settle it and release its liability — on
 * SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ResultsOutcome } from '../model/ticket.js';
import { createHarness, T0 } from '../testing/harness.js';
import { startTestPostgres } from '../testing/postgres.js';
import { previousPostgres, previousSqlite } from '../testing/previous-schema.js';
import { PostgresStorage } from './postgres/postgres-storage.js';
import { SqliteStorage } from './sqlite/sqlite-storage.js';
import type { Storage } from './storage.js';

const pgServer = await startTestPostgres();
const dir = mkdtempSync(join(tmpdir(), 'holdfast-backfill-'));
after(async () => {
  await pgServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

const TICKET = '01a1fdfa-4600-7000-8000-000000000001';
const REQUEST = {
  kind: 'ticket',
  stake: 1_000,
  currency: 'EUR',
  selections: [{ event: 'ev-old', market: 'match_result', selection: 'home', odds: 250 }],
};
const AUTH_INSERT = `INSERT INTO online_authorizations (op_id, device, kind, request_hash, request, status, authorization_id,
    amount, currency, potential_payout, created_at, decided_at)
  VALUES ('${TICKET}', 'dev-old', 'ticket', 'h', '${JSON.stringify(REQUEST)}', 'approved', 'auth-old', 1000, 'EUR', 2500, ${T0}, ${T0})`;
const LIABILITY_INSERT = `INSERT INTO selection_liability (currency, event, market, selection, liability, tickets)
  VALUES ('EUR', 'ev-old', 'match_result', 'home', 2500, 1)`;

async function settleAfterUpgrade(storage: Storage): Promise<void> {
  const h = await createHarness({ storage });
  try {
    const before = await storage.getTicket(TICKET);
    assert.deepEqual(
      [before?.state, before?.potentialPayout, before?.history.map((e) => e.state)],
      ['accepted', 2_500, ['accepted']],
    );
    const res = await h.request<ResultsOutcome>('POST', '/v1/admin/events/ev-old/results', {
      admin: true,
      payload: { results: [{ market: 'match_result', selection: 'home', result: 'won' }] },
    });
    assert.deepEqual([res.status, res.body.settled.won], [200, 1]);
    assert.deepEqual([(await storage.getTicket(TICKET))?.payout], [2_500]);
    assert.deepEqual(await storage.listSelectionLiabilities(), []);
  } finally {
    await h.close();
  }
}

/** The ticket tables' migration (later ones follow it). */
const MARKER = 'CREATE TABLE tickets';

describe('ticket tables on a database of the previous release', () => {
  it('SQLite: a ticket approved before the upgrade is settled after it, its liability released', async () => {
    const path = join(dir, 'old.db');
    previousSqlite(path, MARKER, [AUTH_INSERT, LIABILITY_INSERT]);
    await settleAfterUpgrade(new SqliteStorage({ path }));
  });

  it('PostgreSQL: the same', async () => {
    const url = await pgServer.newDatabase();
    await previousPostgres(url, MARKER, [AUTH_INSERT, LIABILITY_INSERT]);
    await settleAfterUpgrade(new PostgresStorage({ connectionString: url }));
  });
});
