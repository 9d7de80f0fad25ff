/**
 * The wiring of the risk policy into the terminal: pinning keys, fetching
 * and verifying the policy, deciding card sales offline and keeping the
 * exposure with the op. The rules themselves are tested in domain's risk.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MANUAL_CLOCK_START } from '@holdfast/domain/testing';
import {
  generateDeviceKeys,
  hashOp,
  NO_DECISION,
  PolicyVerificationError,
  policyRef,
  type RiskPolicy,
  type SignedPolicy,
  signPolicy,
  uuidv7,
} from '@holdfast/protocol';
import { NeedsOnlineError, SimulatedCrashError } from './errors.js';
import type { CrashPoint } from './journal.js';
import { resolveOptions } from './terminal-options.js';
import { cardSale, cashSale, createHarness, type Harness, openTill } from './testing/harness.js';

const SERVER_KEY = generateDeviceKeys();
const OTHER_KEY = generateDeviceKeys();
const KEY_ID = 'k1';
const PLACEMENT = { merchant: 'acme', location: 'north', event: null };
const HOUR = 3_600_000;

function policy(overrides: { version?: number; issuedAt?: number; floorLimit?: number } = {}): RiskPolicy {
  const issuedAt = overrides.issuedAt ?? MANUAL_CLOCK_START - 1000;
  return {
    v: 1,
    id: uuidv7(issuedAt, new Uint8Array(10).fill(overrides.version ?? 1)),
    version: overrides.version ?? 1,
    issuedAt,
    validFrom: issuedAt - 60_000,
    expiresAt: issuedAt + 24 * HOUR,
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 4 * HOUR,
      device: { maxAmount: 10_000, maxCount: 10 },
      tenders: {
        card: {
          floorLimit: overrides.floorLimit ?? 5000,
          instrument: { maxAmount: 10_000, maxCount: 5, velocity: null },
        },
      },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

const signed = (p: RiskPolicy = policy(), key = SERVER_KEY.privateKey) => signPolicy(p, key, KEY_ID);

/** An enforcing terminal, enrolled with the server key pinned, holding `p` (unless null), with a shift open. */
async function enforcing(p: SignedPolicy | null = signed()): Promise<Harness> {
  const h = await createHarness({ enroll: false, autoSync: false, offlineCardPolicy: 'enforce', placement: PLACEMENT });
  h.server.policyKeys = { [KEY_ID]: SERVER_KEY.publicKey };
  h.server.policy = p;
  await h.terminal.enroll(h.server.createToken());
  if (p) assert.deepEqual(await h.terminal.refreshPolicy(), p);
  openTill(h.terminal);
  return h;
}

function card(amount: number, token = 'tok_test_a') {
  const sale = cardSale(amount);
  return { ...sale, tenders: [{ type: 'card' as const, amount, token, brand: 'visa' as const, last4: '4242' }] };
}

function assertNeedsOnline(fn: () => unknown, rule: string): void {
  assert.throws(fn, (error: unknown) => error instanceof NeedsOnlineError && error.rule === rule);
}

describe('offline card policy (enforce)', () => {
  test('a card sale within limits is recorded with a local decision, sealed in the hash and kept across a restart', async () => {
    const h = await enforcing();
    try {
      const ref = policyRef(policy());
      const op = h.terminal.recordSale(card(5000));
      const entry = h.terminal.getOp(op.id);
      assert.deepEqual(entry?.op.decision, { mode: 'local', outcome: 'approved', policy: ref, rule: 'within_limits' });
      assert.equal(hashOp(entry?.op as never), op.hash, 'the decision is covered by the op hash');
      assert.equal(h.terminal.offlineExposure().amount, 5000);

      const reopened = await h.reopen();
      assert.equal(reopened.offlineExposure().amount, 5000);
      assert.ok(reopened.offlineExposure().approvals.has(op.id));
      assert.equal(reopened.riskPolicy()?.policy.id, policy().id, 'the policy survives the restart');

      await reopened.syncNow();
      assert.equal(reopened.opState(op.id), 'confirmed');
      assert.deepEqual(h.server.storedOps(reopened.deviceId as string)[1]?.decision, entry?.op.decision);
    } finally {
      await h.cleanup();
    }
  });

  test('over the floor limit, or past the device cap, needs online and records nothing', async () => {
    const h = await enforcing();
    try {
      const before = h.terminal.status().latestSeq;
      assertNeedsOnline(() => h.terminal.recordSale(card(5001)), 'floor_limit');
      assert.equal(h.terminal.status().latestSeq, before, 'a refused sale consumes no seq');
      h.terminal.recordSale(card(5000, 'tok_test_a'));
      h.terminal.recordSale(card(5000, 'tok_test_b'));
      assertNeedsOnline(() => h.terminal.recordSale(card(1, 'tok_test_c')), 'device_amount');
      assert.equal(h.terminal.offlineExposure().amount, 10_000, 'the refused sale added nothing');
      assert.equal(h.terminal.status().latestSeq, before + 2);
      // Cash needs no authorization and is recorded as before.
      const cash = h.terminal.recordSale(cashSale());
      assert.deepEqual(h.terminal.getOp(cash.id)?.op.decision, NO_DECISION);
    } finally {
      await h.cleanup();
    }
  });

  test('two card tenders of one sale are both counted', async () => {
    const h = await enforcing();
    try {
      const sale = {
        lines: [{ sku: 'X', name: 'X', qty: 1, unitPrice: 8000 }],
        tenders: [
          { type: 'card' as const, amount: 4000, token: 'tok_test_a', brand: 'visa' as const, last4: '1111' },
          { type: 'card' as const, amount: 4000, token: 'tok_test_b', brand: 'visa' as const, last4: '2222' },
        ],
      };
      const op = h.terminal.recordSale(sale);
      const exposure = h.terminal.offlineExposure();
      assert.equal(exposure.amount, 8000);
      assert.deepEqual([...exposure.approvals.keys()], [op.id, `${op.id}/1`]);
    } finally {
      await h.cleanup();
    }
  });

  test('no policy, an expired policy, or no placement: needs online', async () => {
    const h = await enforcing(null);
    try {
      assertNeedsOnline(() => h.terminal.recordSale(card(100)), 'no_policy');
      h.server.policy = signed();
      await h.terminal.refreshPolicy();
      h.terminal.recordSale(card(100));

      const unplaced = await h.reopen({ placement: undefined as never });
      assertNeedsOnline(() => unplaced.recordSale(card(100)), 'policy_scope');

      const placed = await h.reopen({ placement: PLACEMENT });
      h.clock.advance(24 * HOUR);
      assertNeedsOnline(() => placed.recordSale(card(100)), 'policy_expired');
    } finally {
      await h.cleanup();
    }
  });

  test('too long without server contact: needs online until a refresh succeeds', async () => {
    const h = await enforcing();
    try {
      h.clock.advance(4 * HOUR + 1);
      assertNeedsOnline(() => h.terminal.recordSale(card(100)), 'max_offline_duration');
      await h.terminal.refreshPolicy();
      h.terminal.recordSale(card(100));
    } finally {
      await h.cleanup();
    }
  });

  test('a tampered or wrongly signed policy is refused and not stored; an older one never replaces a newer', async () => {
    const h = await enforcing(null);
    try {
      const good = signed(policy({ version: 2, issuedAt: MANUAL_CLOCK_START - 500 }));
      const tampered = structuredClone(good);
      tampered.policy.offline.device.maxAmount = 1_000_000;
      h.server.policy = tampered;
      await assert.rejects(
        h.terminal.refreshPolicy(),
        (e: unknown) => e instanceof PolicyVerificationError && e.code === 'bad_signature',
      );
      h.server.policy = signed(policy(), OTHER_KEY.privateKey);
      await assert.rejects(
        h.terminal.refreshPolicy(),
        (e: unknown) => e instanceof PolicyVerificationError && e.code === 'bad_signature',
      );
      assert.equal(h.terminal.riskPolicy(), null, 'nothing stored');
      assertNeedsOnline(() => h.terminal.recordSale(card(100)), 'no_policy');

      // Keys pinned at enrollment: a server answer cannot swap them.
      h.server.policyKeys = { [KEY_ID]: OTHER_KEY.publicKey };
      await assert.rejects(h.terminal.refreshPolicy(), PolicyVerificationError);
      h.server.policyKeys = { [KEY_ID]: SERVER_KEY.publicKey };

      h.server.policy = good;
      await h.terminal.refreshPolicy();
      // Held and answered again unchanged it is not verified anew; changed under the same signature it is refused.
      assert.deepEqual(await h.terminal.refreshPolicy(), good);
      const bent = structuredClone(good);
      bent.policy.version = 3;
      bent.policy.offline.device.maxAmount = 1_000_000;
      h.server.policy = bent;
      await assert.rejects(
        h.terminal.refreshPolicy(),
        (e: unknown) => e instanceof PolicyVerificationError && e.code === 'bad_signature',
      );
      assert.deepEqual(h.terminal.riskPolicy(), good);
      h.server.policy = signed(policy({ version: 1, floorLimit: 9000 }));
      const held = await h.terminal.refreshPolicy();
      assert.equal(held?.policy.version, 2, 'a replayed older policy is ignored');
      assertNeedsOnline(() => h.terminal.recordSale(card(6000)), 'floor_limit');
    } finally {
      await h.cleanup();
    }
  });

  test("'enforce' is the default; an enforcing terminal without a policy sends card sales online", async () => {
    const h = await createHarness({ autoSync: false, offlineCardPolicy: 'enforce' });
    try {
      assert.equal(resolveOptions({ dataDir: h.dir, transport: h.net }).offlineCardPolicy, 'enforce');
      openTill(h.terminal);
      assert.throws(() => h.terminal.recordSale(cardSale(100)), NeedsOnlineError);
      assert.equal(h.terminal.ops().length, 1, 'only the shift: a refused sale uses no seq');
    } finally {
      await h.cleanup();
    }
  });

  test('background refreshes after successful syncs are spaced by policyRefreshMinIntervalMs', async () => {
    const h = await createHarness({
      enroll: false,
      autoSync: false,
      offlineCardPolicy: 'enforce',
      placement: PLACEMENT,
      policyRefreshMinIntervalMs: 5 * 60_000,
    });
    const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
    try {
      h.server.policyKeys = { [KEY_ID]: SERVER_KEY.publicKey };
      h.server.policy = signed();
      await h.terminal.enroll(h.server.createToken());
      await flush();
      assert.equal(h.server.requests.policies, 1, 'fetched after enrollment');
      openTill(h.terminal);
      const syncAfter = async (ms: number) => {
        h.clock.advance(ms);
        h.terminal.recordSale(card(100));
        await h.terminal.syncNow();
        await flush();
      };
      await syncAfter(60_000);
      await syncAfter(3 * 60_000);
      assert.equal(h.server.requests.policies, 1, 'not again within 5 minutes');
      await syncAfter(60_000 + 1);
      assert.equal(h.server.requests.policies, 2, 'again once 5 minutes passed');
      assert.throws(
        () => resolveOptions({ dataDir: '.', transport: h.net, policyRefreshMinIntervalMs: -1 }),
        /policyRefreshMinIntervalMs must be a number >= 0/,
      );
      assert.equal(resolveOptions({ dataDir: '.', transport: h.net }).policyRefreshMinIntervalMs, 60_000);
    } finally {
      await h.cleanup();
    }
  });

  test("'off' records card sales with no decision and no exposure, without any policy", async () => {
    const h = await createHarness({ autoSync: false, offlineCardPolicy: 'off' });
    try {
      openTill(h.terminal);
      const op = h.terminal.recordSale(cardSale(99_999));
      assert.deepEqual(h.terminal.getOp(op.id)?.op.decision, NO_DECISION);
      assert.equal(h.terminal.offlineExposure().count, 0);
      assert.equal(h.server.requests.policies, 0, 'an off terminal never asks for a policy');
    } finally {
      await h.cleanup();
    }
  });

  for (const point of ['record:before-commit', 'record:after-commit'] as CrashPoint[]) {
    test(`power cut at ${point}: the op and its exposure survive together or not at all`, async () => {
      const h = await enforcing();
      try {
        let cut = false;
        const crashing = await h.reopen({
          crashHook: (p) => {
            if (cut || p !== point) return false;
            cut = true;
            return true;
          },
        });
        assert.throws(() => crashing.recordSale(card(3000)), SimulatedCrashError);
        const recovered = await h.reopen({ crashHook: undefined as never });
        const last = recovered.ops({ afterSeq: 0, limit: 1000 }).at(-1);
        const recorded = last?.op.kind === 'sale.recorded';
        assert.equal(recorded, point === 'record:after-commit');
        assert.equal(recovered.offlineExposure().amount, recorded ? 3000 : 0);
        if (recorded) assert.ok(recovered.offlineExposure().approvals.has(last?.op.id as string));
      } finally {
        await h.cleanup();
      }
    });
  }
});
