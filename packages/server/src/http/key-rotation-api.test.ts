/**
 * Device-key rotation over HTTP (Fastify inject): `POST /v1/devices/rotate-key`
 * (issue 15, key lifecycle). The new key takes over, the previous one is
 * still taken for its grace period (a batch signed before the rotation and
 * re-sent is accepted) and not after; a repeat after a lost answer is
 * idempotent; forged, revoked, superseded and reused-key rotations are
 * refused with nothing changed.
 */
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  answerProblem,
  DEVICE_KEY_GRACE_MS,
  type DeviceKeys,
  generateDeviceKeys,
  importPrivateKey,
  type PolicyKeySet,
  type RotateKeyResponse,
  rotateKeyMessage,
  signBatch,
  signMessage,
} from '@holdfast/protocol';
import { createHarness, type Harness, type TestDevice } from '../testing/harness.js';

function rotation(d: TestDevice, next: DeviceKeys, at: number, signer: KeyObject = d.privateKey) {
  const message = rotateKeyMessage(d.id, next.publicKey, at);
  return {
    device: d.id,
    publicKey: next.publicKey,
    at,
    sig: signMessage(message, signer),
    newSig: signMessage(message, importPrivateKey(next.privateKey)),
  };
}

const rotate = (h: Harness, payload: unknown) =>
  h.request<RotateKeyResponse>('POST', '/v1/devices/rotate-key', { payload });

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

async function policyKeys(h: Harness): Promise<PolicyKeySet> {
  const res = await h.request<{ keys: PolicyKeySet }>('GET', '/v1/admin/policies', { admin: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.keys;
}

describe('POST /v1/devices/rotate-key', () => {
  it('switches the device to the new key, signs the answer, and keeps the old key for the grace period only', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('bar-1');
      const shift = d.openShift();
      const sale = d.sale(shift.id);
      // Signed with the old key before the rotation, delivered after it (a re-sent pending batch).
      const early = d.batch([shift, sale]);
      const next = generateDeviceKeys();
      const req = rotation(d, next, h.clock.now());
      const res = await rotate(h, req);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.publicKey, next.publicKey);
      assert.equal(res.body.validFrom, h.clock.now());
      assert.equal(res.body.previousKeyRetiresAt, h.clock.now() + DEVICE_KEY_GRACE_MS);
      assert.equal(answerProblem('devices/rotate-key', req.sig, res.body, await policyKeys(h)), null);
      const status = await h.request<{ publicKey: string }>('GET', `/v1/admin/devices/${d.id}`, { admin: true });
      assert.equal(status.body.publicKey, next.publicKey);

      const accepted = await h.send(early);
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      assert.deepEqual(
        accepted.body.results.map((r) => r.status),
        ['accepted', 'accepted'],
      );
      // New ops signed with the new key.
      const newKey = importPrivateKey(next.privateKey);
      const later = d.sale(shift.id);
      const fresh = await h.send(signBatch(d.id, [later], newKey, h.clock.now(), later.seq));
      assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
      assert.equal(fresh.body.results[0]?.status, 'accepted');

      // After the grace period the old key is no key of this device.
      h.clock.advance(DEVICE_KEY_GRACE_MS);
      const stale = d.sale(shift.id);
      const refused = await h.send(signBatch(d.id, [stale], d.privateKey, h.clock.now(), stale.seq));
      assert.deepEqual([refused.status, refused.error.code], [401, 'unknown_device'], JSON.stringify(refused.body));
      const ok = await h.send(signBatch(d.id, [stale], newKey, h.clock.now(), stale.seq));
      assert.equal(ok.body.results[0]?.status, 'accepted', JSON.stringify(ok.body));
      const keys = await h.storage.listDeviceKeys(d.id);
      assert.deepEqual(
        keys.map((k) => [k.publicKey, k.retiredAt]),
        [
          [d.keys.publicKey, keys[1]?.validFrom !== undefined ? keys[1].validFrom + DEVICE_KEY_GRACE_MS : -1],
          [next.publicKey, null],
        ],
      );
    }));

  it('is idempotent by the new key: a repeat after a lost answer (old key, or new key after the grace) changes nothing', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('bar-1');
      const next = generateDeviceKeys();
      const first = await rotate(h, rotation(d, next, h.clock.now()));
      assert.equal(first.status, 200);
      h.clock.advance(60_000);
      const again = await rotate(h, rotation(d, next, h.clock.now()));
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.validFrom, first.body.validFrom);
      assert.equal(again.body.previousKeyRetiresAt, first.body.previousKeyRetiresAt);
      h.clock.advance(DEVICE_KEY_GRACE_MS);
      // The old key is gone: the terminal asks again signed with the key it holds pending.
      const oldSigned = await rotate(h, rotation(d, next, h.clock.now()));
      assert.deepEqual([oldSigned.status, oldSigned.error.code], [401, 'unknown_device']);
      const newSigned = await rotate(h, rotation(d, next, h.clock.now(), importPrivateKey(next.privateKey)));
      assert.equal(newSigned.status, 200, JSON.stringify(newSigned.body));
      assert.equal(newSigned.body.validFrom, first.body.validFrom);
      assert.equal((await h.storage.listDeviceKeys(d.id)).length, 2);
    }));

  it('refuses forged, half-signed, revoked, superseded and reused-key rotations, changing nothing', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('bar-1');
      const other = await h.enrollDevice('bar-2');
      const attacker = generateDeviceKeys();
      // Signed by a key that is not the device's: the one answer for unknown or forged.
      const forged = await rotate(h, rotation(d, attacker, h.clock.now(), importPrivateKey(attacker.privateKey)));
      assert.deepEqual([forged.status, forged.error.code], [401, 'unknown_device'], JSON.stringify(forged.body));
      // The device's signature but no proof of holding the new key (a key seen, not held).
      const seen = { ...rotation(d, generateDeviceKeys(), h.clock.now()), publicKey: attacker.publicKey };
      seen.sig = signMessage(rotateKeyMessage(d.id, attacker.publicKey, seen.at), d.privateKey);
      const unproven = await rotate(h, seen);
      assert.deepEqual([unproven.status, unproven.error.code], [401, 'bad_signature']);
      assert.equal(unproven.error.field, 'newSig');
      // Another device's key, current or not.
      const taken = await rotate(h, rotation(d, other.keys, h.clock.now()));
      assert.deepEqual([taken.status, taken.error.code], [409, 'key_already_enrolled']);
      // Its own current key is no rotation.
      const same = await rotate(h, rotation(d, d.keys, h.clock.now()));
      assert.deepEqual([same.status, same.error.code], [409, 'key_already_enrolled']);
      // Malformed new key.
      const bad = await rotate(h, { ...rotation(d, generateDeviceKeys(), h.clock.now()), publicKey: 'x' });
      assert.equal(bad.status, 400);
      assert.deepEqual(await h.storage.listDeviceKeys(d.id), []);

      // Superseded: rotated to k1, then a request signed by the old key naming k2.
      const k1 = generateDeviceKeys();
      assert.equal((await rotate(h, rotation(d, k1, h.clock.now()))).status, 200);
      const k2 = generateDeviceKeys();
      const superseded = await rotate(h, rotation(d, k2, h.clock.now()));
      assert.deepEqual([superseded.status, superseded.error.code], [409, 'key_superseded']);
      // A key the device rotated away from is never enrolled or rotated to again.
      const reuse = await rotate(h, rotation(other, d.keys, h.clock.now()));
      assert.deepEqual([reuse.status, reuse.error.code], [409, 'key_already_enrolled']);
      const reenroll = await h.enroll(await h.newToken('thief'), d.keys);
      assert.deepEqual([reenroll.status, reenroll.error.code], [409, 'key_already_enrolled']);

      // Revoked devices cannot rotate.
      await h.request('POST', `/v1/admin/devices/${other.id}/revoke`, { admin: true, payload: { reason: 'stolen' } });
      const revoked = await rotate(h, rotation(other, generateDeviceKeys(), h.clock.now()));
      assert.deepEqual([revoked.status, revoked.error.code], [403, 'device_revoked']);
      assert.deepEqual(await h.storage.listDeviceKeys(other.id), []);
      assert.deepEqual(
        (await h.storage.listDeviceKeys(d.id)).map((k) => k.publicKey),
        [d.keys.publicKey, k1.publicKey],
      );
    }));
});
