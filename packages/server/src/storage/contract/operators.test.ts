/**
 * Operator accounts, sessions, API tokens and the audit log on every
 * backend of testing/storage-backends.ts: unique usernames, changes,
 * sessions ended one by one or all at once, token revocation kept once,
 * audit filters and paging, and the audit log refusing UPDATE and DELETE.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { AuditEntry, OperatorRecord } from '../../model/operator.js';
import { T0 } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';
import type { Storage } from '../storage.js';

const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;

function account(n: number, username: string, extra: Partial<OperatorRecord> = {}): OperatorRecord {
  return {
    id: id(n),
    username,
    role: 'viewer',
    passwordHash: `scrypt$10$8$1$salt${n}$key${n}`,
    createdAt: T0,
    updatedAt: T0,
    passwordSetAt: T0,
    disabledAt: null,
    ...extra,
  };
}

function entry(n: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: id(1000 + n),
    at: T0 + n,
    actor: id(1),
    actorName: 'ana',
    role: 'admin',
    action: 'devices.revoke',
    target: id(500),
    outcome: 'ok',
    requestId: `req-${n}`,
    source: '127.0.0.1',
    detail: { reason: `r${n}` },
    ...extra,
  };
}

/** Raw SQL on a test backend (every backend here has `query`; SQLite's throws synchronously). */
async function raw(storage: Storage, sql: string): Promise<unknown> {
  return (storage as unknown as { query(sql: string): unknown }).query(sql);
}

for (const backend of STORAGE_BACKENDS) {
  describe(`operator storage: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('accounts: unique username, read by id or name, listed by name, changed', async (h) => {
      const s = h.storage;
      assert.equal(await s.insertOperator(account(1, 'zoe', { role: 'admin' })), 'inserted');
      assert.equal(await s.insertOperator(account(2, 'ana')), 'inserted');
      assert.equal(await s.insertOperator(account(3, 'zoe')), 'username_taken');
      assert.deepEqual(await s.getOperator({ username: 'zoe' }), account(1, 'zoe', { role: 'admin' }));
      assert.equal((await s.getOperator({ id: id(2) }))?.username, 'ana');
      assert.equal(await s.getOperator({ id: id(3) }), null);
      assert.deepEqual(
        (await s.listOperators()).map((o) => o.username),
        ['ana', 'zoe'],
      );
      const changed = await s.updateOperator(id(2), { role: 'supervisor', disabledAt: T0 + 5, updatedAt: T0 + 5 });
      assert.deepEqual([changed?.role, changed?.disabledAt, changed?.updatedAt], ['supervisor', T0 + 5, T0 + 5]);
      const enabled = await s.updateOperator(id(2), { disabledAt: null, updatedAt: T0 + 6 });
      assert.deepEqual([enabled?.role, enabled?.disabledAt], ['supervisor', null]);
      assert.equal(await s.updateOperator(id(9), { updatedAt: T0 }), null);
    });

    test('sessions: found by hash, touched forward only, ended one or all', async (h) => {
      const s = h.storage;
      await s.insertOperator(account(1, 'ana'));
      const base = { operatorId: id(1), createdAt: T0, lastSeenAt: T0, expiresAt: T0 + 1000, endedAt: null };
      await s.insertOperatorSession({ id: id(11), tokenHash: 'h1', ...base });
      await s.insertOperatorSession({ id: id(12), tokenHash: 'h2', ...base });
      await s.touchOperatorSession(id(11), T0 + 50);
      await s.touchOperatorSession(id(11), T0 + 20);
      assert.equal((await s.operatorSessionByHash('h1'))?.lastSeenAt, T0 + 50);
      assert.equal(await s.endOperatorSessions({ id: id(11) }, T0 + 60), 1);
      assert.equal(await s.endOperatorSessions({ id: id(11) }, T0 + 70), 0);
      assert.equal((await s.operatorSessionByHash('h1'))?.endedAt, T0 + 60);
      assert.equal(await s.endOperatorSessions({ operatorId: id(1) }, T0 + 80), 1);
      assert.equal((await s.operatorSessionByHash('h2'))?.endedAt, T0 + 80);
      assert.equal(await s.operatorSessionByHash('nope'), null);
    });

    test('API tokens: by hash, listed per owner, revoked once', async (h) => {
      const s = h.storage;
      await s.insertOperator(account(1, 'ana'));
      await s.insertOperator(account(2, 'ben'));
      const token = (n: number, owner: number) => ({
        id: id(20 + n),
        tokenHash: `t${n}`,
        operatorId: id(owner),
        name: `token ${n}`,
        role: 'viewer' as const,
        createdAt: T0 + n,
        expiresAt: n === 1 ? T0 + 10_000 : null,
        revokedAt: null,
      });
      for (const [n, owner] of [
        [1, 1],
        [2, 1],
        [3, 2],
      ] as const)
        await s.insertApiToken(token(n, owner));
      assert.deepEqual(await s.apiTokenByHash('t1'), token(1, 1));
      assert.deepEqual(
        (await s.listApiTokens(id(1))).map((t) => t.name),
        ['token 1', 'token 2'],
      );
      assert.equal((await s.listApiTokens(null)).length, 3);
      assert.equal((await s.revokeApiToken(id(21), T0 + 100))?.revokedAt, T0 + 100);
      assert.equal((await s.revokeApiToken(id(21), T0 + 200))?.revokedAt, T0 + 100, 'the first revocation stands');
      assert.equal(await s.revokeApiToken(id(29), T0), null);
      assert.equal(await s.revokeApiTokensOf(id(1), T0 + 300), 1);
      assert.equal((await s.apiTokenByHash('t2'))?.revokedAt, T0 + 300);
      assert.equal((await s.apiTokenByHash('t3'))?.revokedAt, null);
    });

    test('audit log: appended, filtered, paged by position', async (h) => {
      const s = h.storage;
      await s.appendAudit(entry(1));
      await s.appendAudit(entry(2, { actor: 'bootstrap', actorName: 'bootstrap', action: 'accounts.create' }));
      await s.appendAudit(entry(3, { outcome: 'forbidden', detail: null, target: null }));
      await s.appendAudit(entry(4, { actor: 'anonymous', actorName: 'eve', role: null, action: 'login' }));
      const all = await s.listAudit({ after: 0, limit: 10 });
      assert.deepEqual(
        all.map((e) => e.requestId),
        ['req-1', 'req-2', 'req-3', 'req-4'],
      );
      const { pos: _pos, ...first } = all[0] as (typeof all)[number];
      assert.deepEqual(first, entry(1));
      assert.deepEqual(all[2]?.detail, null);
      const q = async (f: Partial<Parameters<Storage['listAudit']>[0]>) =>
        (await s.listAudit({ after: 0, limit: 10, ...f })).map((e) => e.requestId);
      assert.deepEqual(await q({ actor: 'bootstrap' }), ['req-2']);
      assert.deepEqual(await q({ actor: 'eve' }), ['req-4'], 'by username too');
      assert.deepEqual(await q({ action: 'devices.revoke' }), ['req-1', 'req-3']);
      assert.deepEqual(await q({ outcome: 'forbidden' }), ['req-3']);
      assert.deepEqual(await q({ target: id(500) }), ['req-1', 'req-2', 'req-4']);
      assert.deepEqual(await q({ from: T0 + 2, to: T0 + 4 }), ['req-2', 'req-3']);
      assert.deepEqual(await q({ after: all[1]?.pos ?? 0, limit: 1 }), ['req-3']);
    });

    test('audit log is append-only: UPDATE and DELETE are refused', async (h) => {
      await h.storage.appendAudit(entry(1));
      for (const sql of [
        // RETURNING: SQLite's test query() reads rows.
        "UPDATE audit_log SET outcome = 'forged' RETURNING id",
        "UPDATE audit_log SET actor = 'someone-else' WHERE action = 'devices.revoke' RETURNING id",
        'DELETE FROM audit_log RETURNING id',
      ]) {
        await assert.rejects(async () => raw(h.storage, sql), /audit log is append-only/, sql);
      }
      const [kept] = await h.storage.listAudit({ after: 0, limit: 10 });
      assert.deepEqual([kept?.outcome, kept?.actor], ['ok', id(1)]);
    });
  });
}
