/**
 * The processor's SQLite records: final decisions, one per key, durable
 * across reopening, and listing in creation order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parseAuthorizationRequest, requestHash } from './authorization.js';
import { ProcessorService } from './processor-service.js';
import { ProcessorStorage } from './storage.js';
import { authRequest } from './testing/fixtures.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-processor-storage-'));
  dirs.push(dir);
  return join(dir, 'processor.db');
}

describe('ProcessorStorage', () => {
  it('refuses to change or delete an authorization, even from another connection', async () => {
    const path = dbPath();
    const storage = new ProcessorStorage({ path });
    const service = new ProcessorService({ storage, seed: 1 });
    await service.authorize('k1', authRequest());
    const other = new Database(path);
    try {
      assert.throws(() => other.prepare(`UPDATE authorizations SET status = 'declined'`).run(), /final/);
      assert.throws(() => other.prepare('DELETE FROM authorizations').run(), /final/);
      assert.throws(
        () =>
          other
            .prepare(
              `INSERT INTO authorizations (id, idempotency_key, request_hash, request_json, merchant, card_token,
               amount, currency, status, decline_code, offline, created_at, response_json)
               SELECT 'auth_other', idempotency_key, request_hash, request_json, merchant, card_token, amount,
               currency, status, decline_code, offline, created_at, response_json FROM authorizations`,
            )
            .run(),
        /UNIQUE/,
      );
    } finally {
      other.close();
      storage.close();
    }
  });

  it('keeps every authorization and card balance across a reopen, in creation order', async () => {
    const path = dbPath();
    const first = new ProcessorService({
      storage: new ProcessorStorage({ path }),
      seed: 5,
      cards: { tok: { balance: 900 } },
    });
    const answers: string[] = [];
    for (let i = 0; i < 25; i++) {
      answers.push((await first.authorize(`k${i}`, authRequest({ amount: 100, card: { token: 'tok' } }))).json);
    }
    first.storage.close();

    const storage = new ProcessorStorage({ path });
    const page1 = storage.list(0, 10);
    const page2 = storage.list(page1.next ?? -1, 10);
    const page3 = storage.list(page2.next ?? -1, 10);
    assert.equal(page3.next, null);
    const all = [...page1.items, ...page2.items, ...page3.items];
    assert.deepEqual(
      all.map((s) => s.json),
      answers,
    );
    assert.deepEqual(
      all.map((s) => s.seq),
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    assert.equal(storage.card('tok')?.balance, 0);
    const request = parseAuthorizationRequest(authRequest({ amount: 100, card: { token: 'tok' } }));
    const replay = storage.authorizeOnce('k3', requestHash(request), request, () => assert.fail('no new decision'));
    assert.equal(replay.kind, 'replayed');
    assert.equal(replay.stored.json, answers[3]);
    storage.close();
  });

  it('refuses a database from another schema version', () => {
    const path = dbPath();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => new ProcessorStorage({ path }), /schema version 99/);
  });
});

describe('ProcessorStorage refunds', () => {
  it('refunds an approved capture once per key, never above what was captured, durably', async () => {
    const path = dbPath();
    let storage = new ProcessorStorage({ path });
    const service = new ProcessorService({ storage, seed: 1 });
    const { authorization } = await service.authorize('k1', authRequest());
    assert.equal(authorization.status, 'approved');
    const captured = authorization.amount;
    const ask = (id: string, amount: number) => ({
      id,
      authorizationId: authorization.id,
      amount,
      currency: authorization.currency,
      at: 1,
    });
    const first = storage.refundOnce('refund:op-1', ask('rf-1', captured - 1));
    assert.equal(first.kind, 'created');
    // The answer was lost; the forwarder asks again under the same key: the same refund, nothing more.
    const again = storage.refundOnce('refund:op-1', ask('rf-1b', captured - 1));
    assert.deepEqual(again.kind === 'replayed' ? [again.refund.id, again.refunded] : again, ['rf-1', captured - 1]);
    assert.equal(storage.refundOnce('refund:op-1', ask('rf-1c', 1)).kind, 'key_reused');
    assert.deepEqual(storage.refundOnce('refund:op-2', ask('rf-2', 2)), {
      kind: 'over_captured',
      captured,
      refunded: captured - 1,
    });
    assert.equal(
      storage.refundOnce('refund:op-3', { ...ask('rf-3', 1), authorizationId: 'nope' }).kind,
      'not_captured',
    );
    storage.close();

    storage = new ProcessorStorage({ path });
    try {
      assert.equal(storage.refundOnce('refund:op-1', ask('rf-1d', captured - 1)).kind, 'replayed', 'durable');
      assert.equal(storage.refundOnce('refund:op-4', ask('rf-4', 1)).kind, 'created', 'exactly what is left');
      assert.equal(storage.refundOnce('refund:op-5', ask('rf-5', 1)).kind, 'over_captured');
      const other = new Database(path);
      try {
        assert.throws(() => other.prepare('DELETE FROM refunds').run(), /append-only/);
        assert.throws(() => other.prepare('UPDATE refunds SET amount = 1').run(), /append-only/);
      } finally {
        other.close();
      }
    } finally {
      storage.close();
    }
  });

  it('upgrades a version-1 database: its authorizations stay, refunds work', async () => {
    const path = dbPath();
    const storage = new ProcessorStorage({ path });
    const service = new ProcessorService({ storage, seed: 1 });
    const { authorization } = await service.authorize('k1', authRequest());
    storage.close();
    const raw = new Database(path);
    raw.exec('DROP TABLE refunds; PRAGMA user_version = 1;');
    raw.close();
    const upgraded = new ProcessorStorage({ path });
    try {
      assert.equal(upgraded.findByKey('k1')?.authorization.id, authorization.id);
      const refund = upgraded.refundOnce('refund:x', {
        id: 'rf',
        authorizationId: authorization.id,
        amount: 1,
        currency: authorization.currency,
        at: 1,
      });
      assert.equal(refund.kind, 'created');
    } finally {
      upgraded.close();
    }
  });
});
