/**
 * Device-key rotation in storage (issue 15, key lifecycle), on every
 * backend: the history it writes, the idempotent repeat, every refusal
 * changing nothing, and two rotations of one device at once deciding once.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { generateDeviceKeys } from '@holdfast/protocol';
import type { RotateDeviceKeyRequest } from '../../model/device.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const GRACE = 3_600_000;

for (const backend of STORAGE_BACKENDS) {
  describe(`device keys: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('a rotation retires the current key after the grace period and makes the new one current', async (h) => {
      const d = await h.enrollDevice();
      const enrolledAt = (await h.storage.getDevice(d.id))?.enrolledAt;
      h.clock.advance(1_000);
      const now = h.clock.now();
      const k1 = generateDeviceKeys().publicKey;
      const request: RotateDeviceKeyRequest = {
        device: d.id,
        signedWith: d.keys.publicKey,
        publicKey: k1,
        now,
        graceMs: GRACE,
      };
      const first = await h.storage.rotateDeviceKey(request);
      assert.equal(first.outcome, 'rotated');
      const history = [
        { device: d.id, publicKey: d.keys.publicKey, validFrom: enrolledAt, retiredAt: now + GRACE },
        { device: d.id, publicKey: k1, validFrom: now, retiredAt: null },
      ];
      assert.deepEqual(await h.storage.listDeviceKeys(d.id), history);
      assert.equal((await h.storage.getDevice(d.id))?.publicKey, k1);
      // The repeat (a lost answer), later and signed by either key: same history.
      for (const signedWith of [d.keys.publicKey, k1]) {
        const again = await h.storage.rotateDeviceKey({ ...request, signedWith, now: now + 5_000 });
        assert.equal(again.outcome, 'already_rotated');
        if (again.outcome === 'already_rotated') assert.deepEqual(again.keys, history);
      }
      // A second rotation keeps the whole history, oldest first.
      const k2 = generateDeviceKeys().publicKey;
      const second = await h.storage.rotateDeviceKey({ ...request, signedWith: k1, publicKey: k2, now: now + 10_000 });
      assert.equal(second.outcome, 'rotated');
      assert.deepEqual(
        (await h.storage.listDeviceKeys(d.id)).map((k) => [k.publicKey, k.retiredAt]),
        [
          [d.keys.publicKey, now + GRACE],
          [k1, now + 10_000 + GRACE],
          [k2, null],
        ],
      );
    });

    test('refusals change nothing: unknown, revoked, not the current key, a key in use', async (h) => {
      const d = await h.enrollDevice();
      const other = await h.enrollDevice();
      const base = { device: d.id, signedWith: d.keys.publicKey, now: h.clock.now(), graceMs: GRACE };
      const fresh = () => generateDeviceKeys().publicKey;
      assert.equal(
        (await h.storage.rotateDeviceKey({ ...base, device: crypto.randomUUID(), publicKey: fresh() })).outcome,
        'unknown_device',
      );
      assert.equal(
        (await h.storage.rotateDeviceKey({ ...base, signedWith: other.keys.publicKey, publicKey: fresh() })).outcome,
        'not_current_key',
      );
      assert.equal(
        (await h.storage.rotateDeviceKey({ ...base, publicKey: other.keys.publicKey })).outcome,
        'key_in_use',
      );
      assert.equal((await h.storage.rotateDeviceKey({ ...base, publicKey: d.keys.publicKey })).outcome, 'key_in_use');
      await h.storage.revokeDevice(other.id, 'stolen', h.clock.now());
      assert.equal(
        (
          await h.storage.rotateDeviceKey({
            ...base,
            device: other.id,
            signedWith: other.keys.publicKey,
            publicKey: fresh(),
          })
        ).outcome,
        'revoked',
      );
      assert.deepEqual(await h.storage.listDeviceKeys(d.id), []);
      assert.deepEqual(await h.storage.listDeviceKeys(other.id), []);
      assert.equal((await h.storage.getDevice(d.id))?.publicKey, d.keys.publicKey);
    });

    test('two rotations of one device at once: one wins, the other is told the key moved on', async (h) => {
      const d = await h.enrollDevice();
      const base = { device: d.id, signedWith: d.keys.publicKey, now: h.clock.now(), graceMs: GRACE };
      const keys = [generateDeviceKeys().publicKey, generateDeviceKeys().publicKey];
      const outcomes = await Promise.all(keys.map((publicKey) => h.storage.rotateDeviceKey({ ...base, publicKey })));
      assert.deepEqual(outcomes.map((o) => o.outcome).sort(), ['not_current_key', 'rotated']);
      const winner = keys[outcomes.findIndex((o) => o.outcome === 'rotated')];
      assert.equal((await h.storage.getDevice(d.id))?.publicKey, winner);
      assert.equal((await h.storage.listDeviceKeys(d.id)).length, 2);
    });
  });
}
