/**
 * The server's signed key set (key-set.ts): adopted only when a trusted key
 * signed exactly these keys at this time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signKeySet, verifyKeySet } from './key-set.js';
import { generateDeviceKeys, importPrivateKey } from './signing.js';

const OLD = generateDeviceKeys();
const NEW = generateDeviceKeys();
const signer = (id: string, k: { privateKey: string }) => ({ id, privateKey: importPrivateKey(k.privateKey) });
const KEYS = { old: OLD.publicKey, new: NEW.publicKey };

describe('signed key set', () => {
  test('verifies with any one trusted key that signed it', () => {
    const set = signKeySet(KEYS, 1000, [signer('old', OLD), signer('new', NEW)]);
    for (const trusted of [{ old: OLD.publicKey }, { new: NEW.publicKey }]) {
      const checked = verifyKeySet(JSON.parse(JSON.stringify(set)), trusted);
      assert.ok(checked.ok);
      if (checked.ok) assert.deepEqual(checked.set, set);
    }
  });

  test('refused: signed by no trusted key, a forged signature, changed keys or time, a wrong shape', () => {
    const set = signKeySet(KEYS, 1000, [signer('old', OLD)]);
    const trusted = { old: OLD.publicKey };
    const cases: [string, unknown, RegExp][] = [
      ['signed only by an untrusted key', signKeySet(KEYS, 1000, [signer('new', NEW)]), /not signed by a key/],
      ['another key signing under the trusted id', signKeySet(KEYS, 1000, [signer('old', NEW)]), /does not verify/],
      ['a key added after signing', { ...set, keys: { ...KEYS, evil: NEW.publicKey } }, /does not verify/],
      ['a later time than signed', { ...set, at: 2000 }, /does not verify/],
      ['no keys', { ...set, keys: {} }, /not \{keys, at, sigs\}/],
      ['a non-integer time', { ...set, at: 1.5 }, /not \{keys, at, sigs\}/],
      ['not an object', 'keys', /not \{keys, at, sigs\}/],
    ];
    for (const [name, raw, problem] of cases) {
      const checked = verifyKeySet(raw, trusted);
      assert.equal(checked.ok, false, name);
      if (!checked.ok) assert.match(checked.problem, problem, name);
    }
  });
});
