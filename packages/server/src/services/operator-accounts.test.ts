/**
 * OperatorAccounts without HTTP: the default scrypt parameters in the
 * stored verifier, and the cap on password checks running at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@holdfast/domain/testing';
import { ProtocolError, uuidv7 } from '@holdfast/protocol';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { OperatorAccounts } from './operator-accounts.js';
import { hashPassword, verifyPassword } from './passwords.js';

const PASSWORD = 'correct horse battery staple';

describe('OperatorAccounts', () => {
  it('stores a scrypt verifier with the documented default parameters and a per-user salt', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    assert.match(a, /^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b, 'a fresh salt each time');
    assert.equal(await verifyPassword(PASSWORD, a), true);
    assert.equal(await verifyPassword(`${PASSWORD}!`, a), false);
    assert.equal(await verifyPassword(PASSWORD, 'scrypt$15$8$1$bad'), false, 'a malformed verifier never matches');
  });

  it('refuses a password check beyond the cap with overloaded, and counts it as no failed login', async () => {
    const storage = new SqliteStorage({ path: ':memory:' });
    await storage.migrate();
    const clock = new ManualClock(Date.UTC(2026, 10, 21));
    const accounts = new OperatorAccounts({
      storage,
      clock,
      newId: () => uuidv7(clock.now(), crypto.getRandomValues(new Uint8Array(10))),
      scrypt: { logN: 10, r: 8, p: 1 },
      maxPasswordChecks: 1,
    });
    try {
      await accounts.create({ username: 'ana', role: 'viewer', password: PASSWORD });
      const first = accounts.login({ username: 'ana', password: PASSWORD }, '127.0.0.1');
      const second = accounts.login({ username: 'ana', password: PASSWORD }, '127.0.0.1');
      await assert.rejects(
        second,
        (e: unknown) => e instanceof ProtocolError && e.code === 'overloaded' && e.retryAfterMs === 1_000,
      );
      assert.equal((await first).operator.username, 'ana');
      // The cap is released: the next login goes through.
      assert.equal(
        (await accounts.login({ username: 'ana', password: PASSWORD }, '127.0.0.1')).operator.role,
        'viewer',
      );
    } finally {
      await storage.close();
    }
  });
});
