/**
 * The browser's PIN check (noble scrypt) against verifiers the server makes
 * with node:crypto (protocol staff.ts): the same PIN verifies, any other
 * does not, and a verifier outside the protocol's bounds is refused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  checkStaffSecret,
  makeStaffVerifier,
  makeStaffVerifierAsync,
  type Roster,
  STAFF_SCRYPT,
} from '@holdfast/protocol';
import { checkStaffSecretPortable, constantTimeEqual, fromBase64url } from './pin-check.js';

describe('checkStaffSecretPortable (noble scrypt) against node:crypto verifiers', () => {
  it('verifies the PIN a node:crypto verifier was made from, and refuses every other', async () => {
    const v = makeStaffVerifier('4821');
    assert.equal(v.N, STAFF_SCRYPT.N);
    assert.equal(await checkStaffSecretPortable('4821', v), true);
    for (const wrong of ['4822', '48210', '482', '', '1284', ' 4821']) {
      assert.equal(await checkStaffSecretPortable(wrong, v), false, JSON.stringify(wrong));
    }
    const server = await makeStaffVerifierAsync('907153');
    assert.equal(await checkStaffSecretPortable('907153', server), true);
    assert.equal(await checkStaffSecretPortable('907154', server), false);
  });

  it('agrees with node on other costs the verifier format allows (the cost travels in the verifier)', async () => {
    const salt = randomBytes(16);
    const node = makeStaffVerifier('5512', salt);
    // Same PIN and salt at a lower cost: a different hash, and each verifies only with its own cost.
    const { scryptSync } = await import('node:crypto');
    const cheap = {
      ...node,
      N: 1024,
      r: 4,
      p: 2,
      hash: scryptSync('5512', salt, 32, { N: 1024, r: 4, p: 2 }).toString('base64url'),
    };
    assert.equal(checkStaffSecret('5512', cheap), true);
    assert.equal(await checkStaffSecretPortable('5512', cheap), true);
    assert.equal(await checkStaffSecretPortable('5512', { ...cheap, N: 2048 }), false);
  });

  it('normalizes the secret to NFC as node does', async () => {
    const v = makeStaffVerifier('caf\u00e9');
    assert.equal(await checkStaffSecretPortable('cafe\u0301', v), true);
  });

  it('refuses a verifier outside the protocol bounds before running scrypt', async () => {
    const v = makeStaffVerifier('4821');
    await assert.rejects(checkStaffSecretPortable('4821', { ...v, N: 2 ** 20 }), { name: 'ValidationError' });
    await assert.rejects(checkStaffSecretPortable('4821', { ...v, N: 3000 }), { name: 'ValidationError' });
    await assert.rejects(checkStaffSecretPortable('4821', { ...v, alg: 'md5' } as never), { name: 'ValidationError' });
  });

  it('decodes base64url and compares bytes', () => {
    const bytes = randomBytes(32);
    assert.deepEqual(fromBase64url(bytes.toString('base64url')), new Uint8Array(bytes));
    assert.deepEqual(fromBase64url(Buffer.from([0xfb, 0xff]).toString('base64url')), new Uint8Array([0xfb, 0xff]));
    assert.equal(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])), true);
    assert.equal(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])), false);
    assert.equal(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2])), false);
  });

  it('gives the answers of the protocol test vector docs/test-vectors/staff-pin.json', async () => {
    const vector = JSON.parse(
      readFileSync(new URL('../../../docs/test-vectors/staff-pin.json', import.meta.url), 'utf8'),
    ) as { signed: { roster: Roster }; checks: Array<{ staff: string; pin: string; valid: boolean }> };
    assert.ok(vector.checks.length >= 4);
    for (const c of vector.checks) {
      const pin = vector.signed.roster.staff.find((m) => m.id === c.staff)?.pin;
      assert.ok(pin, c.staff);
      assert.equal(await checkStaffSecretPortable(c.pin, pin), c.valid, `${c.staff} ${JSON.stringify(c.pin)}`);
    }
  });
});
