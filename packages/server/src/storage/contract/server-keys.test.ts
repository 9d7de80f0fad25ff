/**
 * Server signing-key rotation in storage (issue 15, key lifecycle), on every
 * backend: the new key becomes the only active one and signs the next
 * policy; the previous one is retired after the overlap, or after the last
 * policy it signed expires if that is later, and stays trusted until then;
 * two rotations at once leave exactly one active key.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { type PolicyDraft, uuidv7, verifyPolicy } from '@holdfast/protocol';
import { newServerKey, policyKeySet } from '../../policy-keys.js';
import { T0 } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const DAY = 86_400_000;
const OVERLAP = 7 * DAY;
const newId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));

function draft(expiresAt: number): PolicyDraft {
  return {
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    expiresAt,
    offline: {
      maxOfflineMs: 3_600_000,
      device: { maxAmount: 50_000, maxCount: 20 },
      tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

for (const backend of STORAGE_BACKENDS) {
  describe(`server keys: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('a rotation makes the new key active and retires the old one after the overlap; both trusted until then', async (h) => {
      const old = await h.storage.ensureServerKey(newServerKey(T0));
      const signedByOld = await h.storage.issuePolicy({ draft: draft(T0 + DAY), id: newId(), now: T0 });
      assert.equal(signedByOld.keyId, old.id);

      const next = newServerKey(T0 + 1_000);
      const rotated = await h.storage.rotateServerKey(next, OVERLAP);
      assert.deepEqual(rotated, { active: next, retired: { ...old, retiredAt: T0 + 1_000 + OVERLAP } });
      assert.deepEqual(await h.storage.listServerKeys(), [next], 'only the new key signs');
      assert.deepEqual(await h.storage.listAllServerKeys(), [{ ...old, retiredAt: T0 + 1_000 + OVERLAP }, next]);
      const trusted = await h.storage.listTrustedServerKeys(T0 + 1_000 + OVERLAP - 1);
      assert.deepEqual(
        trusted.map((k) => k.id),
        [next.id, old.id],
      );
      assert.deepEqual(
        (await h.storage.listTrustedServerKeys(T0 + 1_000 + OVERLAP)).map((k) => k.id),
        [next.id],
        'not trusted from retired_at on',
      );

      // The next policy is signed by the new key; the old key's policy still verifies with the trusted set.
      const signedByNew = await h.storage.issuePolicy({ draft: draft(T0 + DAY), id: newId(), now: T0 + 2_000 });
      assert.equal(signedByNew.keyId, next.id);
      const keys = new Map(Object.entries(policyKeySet(trusted)));
      assert.deepEqual(verifyPolicy(signedByOld, keys), signedByOld);
      assert.deepEqual(verifyPolicy(signedByNew, keys), signedByNew);
    });

    test('the old key stays trusted until the last policy it signed expires, when that is after the overlap', async (h) => {
      const old = await h.storage.ensureServerKey(newServerKey(T0));
      await h.storage.issuePolicy({ draft: draft(T0 + 30 * DAY), id: newId(), now: T0 });
      await h.storage.issuePolicy({ draft: draft(T0 + 2 * DAY), id: newId(), now: T0 + 1 });
      const { retired } = await h.storage.rotateServerKey(newServerKey(T0 + 5_000), OVERLAP);
      assert.deepEqual(retired, { ...old, retiredAt: T0 + 30 * DAY });
    });

    test('the first rotation of an empty database just stores the key; a second, in the same ms, retires the first', async (h) => {
      const first = newServerKey(T0);
      assert.deepEqual(await h.storage.rotateServerKey(first, OVERLAP), { active: first, retired: null });
      // Within the same ms as the first: the lists still order the active key as the newer one.
      const second = newServerKey(T0);
      const { retired } = await h.storage.rotateServerKey(second, OVERLAP);
      assert.equal(retired?.id, first.id);
      assert.deepEqual(await h.storage.listServerKeys(), [second]);
      assert.deepEqual(
        (await h.storage.listAllServerKeys()).map((k) => k.id),
        [first.id, second.id],
      );
      assert.deepEqual(
        (await h.storage.listTrustedServerKeys(T0)).map((k) => k.id),
        [second.id, first.id],
      );
    });

    test('two rotations at once: each retires the key active before it, exactly one key is active after', async (h) => {
      const old = await h.storage.ensureServerKey(newServerKey(T0));
      const [a, b] = [newServerKey(T0 + 10), newServerKey(T0 + 20)];
      const results = await Promise.all([h.storage.rotateServerKey(a, OVERLAP), h.storage.rotateServerKey(b, OVERLAP)]);
      const active = await h.storage.listServerKeys();
      assert.equal(active.length, 1);
      const retiredIds = results.map((r) => r.retired?.id).sort();
      // The one that ran second retired the key the first had just made active.
      const last = active[0]?.id === a.id ? a : b;
      const firstDone = last === a ? b : a;
      assert.deepEqual(retiredIds, [old.id, firstDone.id].sort());
      assert.equal((await h.storage.listAllServerKeys()).length, 3);
    });
  });
}
