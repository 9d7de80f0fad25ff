/**
 * Server signing-key rotation as a terminal sees it (docs/protocol.md §2,
 * "Server key rotation"): a terminal that pinned the old key, offline across
 * the rotation, learns the new key from a key set signed by the old one and
 * then verifies answers signed by the new key; a key set no pinned key
 * signed, or an older one replayed, is refused and changes nothing; a policy
 * signed by the old key stays valid until it expires.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MANUAL_CLOCK_START } from '@holdfast/domain/testing';
import {
  type DeviceKeys,
  generateDeviceKeys,
  importPrivateKey,
  type RiskPolicy,
  type SignedKeySet,
  signKeySet,
  signPolicy,
  uuidv7,
} from '@holdfast/protocol';
import { createHarness, type Harness, openTill } from './testing/harness.js';

const OLD = generateDeviceKeys();
const NEW = generateDeviceKeys();
const ATTACKER = generateDeviceKeys();
const HOUR = 3_600_000;

const signer = (id: string, k: DeviceKeys) => ({ id, privateKey: importPrivateKey(k.privateKey) });

function policy(): RiskPolicy {
  const issuedAt = MANUAL_CLOCK_START - 1000;
  return {
    v: 1,
    id: uuidv7(issuedAt, new Uint8Array(10).fill(1)),
    version: 1,
    issuedAt,
    validFrom: issuedAt - 60_000,
    expiresAt: issuedAt + 24 * HOUR,
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 4 * HOUR,
      device: { maxAmount: 10_000, maxCount: 10 },
      tenders: { card: { floorLimit: 5000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

/** A terminal enrolled with a server that signs answers with `old`, holding a policy `old` signed, till open. */
async function enrolledWithOldKey(): Promise<Harness> {
  const h = await createHarness({
    enroll: false,
    autoSync: false,
    placement: { merchant: 'acme', location: null, event: null },
  });
  h.server.policyKeys = { old: OLD.publicKey };
  h.server.answerKey = signer('old', OLD);
  h.server.policy = signPolicy(policy(), OLD.privateKey, 'old');
  await h.terminal.enroll(h.server.createToken());
  await h.terminal.refreshPolicy();
  openTill(h.terminal);
  return h;
}

/** The server rotates: it signs answers with `new` and sends the set {old, new} signed by `signers`. */
function rotate(
  h: Harness,
  signers = [signer('old', OLD), signer('new', NEW)],
  at = MANUAL_CLOCK_START + 1,
): SignedKeySet {
  const keys = { old: OLD.publicKey, new: NEW.publicKey };
  h.server.policyKeys = keys;
  h.server.answerKey = signer('new', NEW);
  h.server.keySet = signKeySet(keys, at, signers);
  return h.server.keySet;
}

/** The clerk's retry button, past its throttle (manualRetryMinIntervalMs). */
async function retry(h: Harness): Promise<[number, number]> {
  h.clock.advance(60_000);
  await h.terminal.syncNow();
  return [h.terminal.status().confirmed, h.terminal.status().pending];
}

/** Records a cash sale and syncs: [confirmed, pending] after. */
async function sellAndSync(h: Harness): Promise<[number, number]> {
  h.terminal.recordSale({
    lines: [{ sku: 'A', name: 'a', qty: 1, unitPrice: 100 }],
    tenders: [{ type: 'cash', amount: 100, tendered: 100 }],
  });
  return retry(h);
}

describe('server key rotation (terminal)', () => {
  test('offline across the rotation: the first answer signed by the new key makes it fetch the key set the old key signed, then it verifies', async () => {
    const h = await enrolledWithOldKey();
    try {
      rotate(h);
      const policiesBefore = h.server.requests.policies;
      await h.terminal.syncNow();
      assert.deepEqual([h.terminal.status().confirmed, h.terminal.status().pending], [1, 0]);
      assert.equal(h.server.requests.policies, policiesBefore + 1, 'one key-set request');
      // The policy the old key signed is still answered, verifies and is held.
      const held = await h.terminal.refreshPolicy();
      assert.equal(held?.keyId, 'old');
      // The learned key survives a restart (no key-set request again), and so does the old key's policy.
      const reopened = await h.reopen({ autoSync: false });
      assert.equal(reopened.riskPolicy()?.keyId, 'old');
      const policiesAfter = h.server.requests.policies;
      assert.deepEqual(await sellAndSync(h), [2, 0]);
      assert.equal(h.server.requests.policies, policiesAfter);
    } finally {
      await h.cleanup();
    }
  });

  test('a terminal that does not enforce the card policy learns the rotated key too', async () => {
    const h = await enrolledWithOldKey();
    try {
      const off = await h.reopen({ autoSync: false, offlineCardPolicy: 'off' });
      rotate(h);
      await off.syncNow();
      assert.deepEqual([off.status().confirmed, off.status().pending], [1, 0]);
    } finally {
      await h.cleanup();
    }
  });

  for (const [name, signers] of [
    ['signed only by a key the terminal never pinned', [signer('new', NEW)]],
    ['signed by an attacker naming the pinned key id', [signer('old', ATTACKER)]],
  ] as const) {
    test(`a key set ${name} is refused: nothing learned, answers by that key still refused`, async () => {
      const h = await enrolledWithOldKey();
      try {
        rotate(h, [...signers]);
        // The policy answer, signed by the key not learned, is no answer at all.
        await assert.rejects(h.terminal.refreshPolicy(), /unverifiable policy answer/);
        await h.terminal.syncNow();
        assert.deepEqual([h.terminal.status().confirmed, h.terminal.status().pending], [0, 1]);
        // Still the old key's word only: once the server answers with it again, the op confirms.
        h.server.answerKey = signer('old', OLD);
        assert.deepEqual(await retry(h), [1, 0]);
      } finally {
        await h.cleanup();
      }
    });
  }

  test('an older key set replayed after a newer one was learned changes nothing', async () => {
    const h = await enrolledWithOldKey();
    try {
      const older = rotate(h, undefined, MANUAL_CLOCK_START + 1);
      // A later set from which the old key has gone (its overlap ended), signed by both.
      const newer = signKeySet({ new: NEW.publicKey }, MANUAL_CLOCK_START + 2, [
        signer('old', OLD),
        signer('new', NEW),
      ]);
      h.server.keySet = newer;
      h.server.policy = null;
      await h.terminal.refreshPolicy();
      assert.deepEqual(await sellAndSync(h), [2, 0], 'the new key is trusted');
      // The old key's overlap is over: an answer it signs is no answer, even after the older set is replayed.
      h.server.answerKey = signer('old', OLD);
      assert.deepEqual(await sellAndSync(h), [2, 1]);
      h.server.keySet = older;
      await assert.rejects(h.terminal.refreshPolicy(), /unverifiable policy answer/);
      assert.deepEqual(await retry(h), [2, 1]);
    } finally {
      await h.cleanup();
    }
  });
});
