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
