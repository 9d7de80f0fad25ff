import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChainBuilder } from './chain-builder.js';
import { ValidationError } from './errors.js';
import { canonicalOpText, hashOp, opSchema } from './op.js';
import { generateDeviceKeys } from './signing.js';
import {
  badgeDigest,
  checkBadgePolicy,
  checkPinPolicy,
  checkStaffName,
  checkStaffSecret,
  makeStaffVerifier,
  makeStaffVerifierAsync,
  type Roster,
  roleAtLeast,
  STAFF_SCRYPT,
  signRoster,
  verifierSchema,
  verifyRoster,
} from './staff.js';

describe('staff PIN verifiers (scrypt)', () => {
  it('verifies the PIN it was made from and nothing else; the salt makes two verifiers of one PIN differ', async () => {
    const v = makeStaffVerifier('4821');
    assert.deepEqual([v.N, v.r, v.p], [STAFF_SCRYPT.N, STAFF_SCRYPT.r, STAFF_SCRYPT.p]);
    assert.deepEqual(verifierSchema.parse(v), v);
    assert.equal(checkStaffSecret('4821', v), true);
    for (const wrong of ['4822', '48210', '', '1284']) assert.equal(checkStaffSecret(wrong, v), false, wrong);
    const again = await makeStaffVerifierAsync('4821');
    assert.notEqual(again.salt, v.salt);
    assert.notEqual(again.hash, v.hash);
    assert.equal(checkStaffSecret('4821', again), true);
    const salt = Buffer.alloc(16, 7);
    assert.deepEqual(
      makeStaffVerifier('4821', salt),
      await makeStaffVerifierAsync('4821', salt),
      'sync and async agree',
    );
  });

  it('refuses a verifier whose cost is out of bounds (a till never runs a huge scrypt)', () => {
    const v = makeStaffVerifier('4821');
    assert.throws(() => verifierSchema.parse({ ...v, N: 2 ** 20 }), ValidationError);
    assert.throws(() => verifierSchema.parse({ ...v, N: 3000 }), /power of two/);
  });
});

describe('PIN, badge and name policies', () => {
  it('accepts 4–12 digits that are neither one digit repeated nor a straight run', () => {
    for (const ok of ['4821', '0192', '123454321', '990011223344']) assert.equal(checkPinPolicy(ok), ok);
    for (const [bad, why] of [
      ['123', /3 digits/],
      ['1234567890123', /13 digits/],
      ['1234', /straight run/],
      ['9876', /straight run/],
      ['7777', /one digit repeated/],
      ['12 4', /not all digits/],
      [4821, /number/],
    ] as const) {
      assert.throws(
        () => checkPinPolicy(bad),
        (e: unknown) => e instanceof ValidationError && e.field === 'pin' && why.test(e.message),
      );
    }
  });

  it('badges: long random secrets only; the roster keeps a digest', () => {
    const badge = 'K7f!q2Z9-badge-01';
    assert.equal(checkBadgePolicy(badge), badge);
    for (const bad of ['short-badge', 'x'.repeat(129), 'has a space in it!!', 42]) {
      assert.throws(
        () => checkBadgePolicy(bad),
        (e: unknown) => e instanceof ValidationError && e.field === 'badge',
      );
    }
    assert.match(badgeDigest(badge), /^[0-9a-f]{64}$/);
    assert.notEqual(badgeDigest(badge), badgeDigest(`${badge}x`));
  });

  it('names: trimmed, 1–80 characters, no control characters', () => {
    assert.equal(checkStaffName('Ana Souza'), 'Ana Souza');
    for (const bad of ['', ' Ana', 'Ana\n', 'x'.repeat(81)]) assert.throws(() => checkStaffName(bad), ValidationError);
  });

  it('roles rank clerk < supervisor < manager', () => {
    assert.equal(roleAtLeast('manager', 'supervisor'), true);
    assert.equal(roleAtLeast('supervisor', 'supervisor'), true);
    assert.equal(roleAtLeast('clerk', 'supervisor'), false);
  });
});

describe('signed roster', () => {
  const keys = generateDeviceKeys();
  const pinned = { k1: keys.publicKey };
  const roster: Roster = {
    v: 1,
    location: 'hall-a',
    version: 3,
    issuedAt: 1_795_000_000_000,
    staff: [
      {
        id: 'ana',
        name: 'Ana',
        role: 'clerk',
        pin: makeStaffVerifier('4821'),
        badge: badgeDigest('badge-0123456789abcdef'),
      },
    ],
  };

  it('verifies with the pinned key it names; refuses another key, an unknown key id and any change', () => {
    const signed = signRoster(roster, keys.privateKey, 'k1');
    assert.deepEqual(verifyRoster(signed, pinned), roster);
    assert.throws(() => verifyRoster(signed, { k1: generateDeviceKeys().publicKey }), /roster\.sig/);
    assert.throws(() => verifyRoster({ ...signed, keyId: 'k2' }, pinned), /roster\.keyId/);
    const promoted = structuredClone(signed);
    (promoted.roster.staff[0] as { role: string }).role = 'manager';
    assert.throws(() => verifyRoster(promoted, pinned), /roster\.sig/);
    const older = structuredClone(signed);
    older.roster.version = 2;
    assert.throws(() => verifyRoster(older, pinned), /roster\.sig/);
  });
});

describe('the op envelope actor', () => {
  it('is covered by the hash, optional, and leaves ops without it byte for byte as before', () => {
    const keys = generateDeviceKeys();
    const chain = new ChainBuilder('0190a000-0000-7000-8000-000000000001', keys.privateKey, {
      now: () => 1_795_000_000_000,
    });
    const plain = chain.next('cash.moved', { a: 1 });
    assert.equal('actor' in plain, false);
    assert.doesNotMatch(canonicalOpText(plain), /actor/);
    const stamped = chain.next('cash.moved', { a: 1 }, undefined, undefined, { staff: 'ana', approvedBy: 'bea' });
    assert.match(canonicalOpText(stamped), /"actor":\{"approvedBy":"bea","staff":"ana"\}/);
    assert.equal(hashOp(stamped), stamped.hash);
    const forged = { ...stamped, actor: { staff: 'ana', approvedBy: 'cat' } };
    assert.notEqual(hashOp(forged), stamped.hash, 'changing the approver breaks the hash');
    assert.deepEqual(opSchema.parse(stamped).actor, { staff: 'ana', approvedBy: 'bea' });
    assert.throws(() => opSchema.parse({ ...stamped, actor: { staff: 'ana', role: 'manager' } }), /actor\.role/);
    assert.throws(() => opSchema.parse({ ...stamped, actor: { staff: '' } }), /actor\.staff/);
  });
});
