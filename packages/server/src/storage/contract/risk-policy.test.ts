/**
 * The risk-policy part of the storage suite (run on every backend of
 * testing/storage-backends.ts): the policy-signing key, device placement,
 * policy versions, and the offline payments that make up the exposure
 * actually held. Like the rest of the suite it speaks only the Storage
 * interface and the HTTP API.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  type Decision,
  type PolicyDraft,
  type PolicyScope,
  ProtocolError,
  type SignedPolicy,
  uuidv7,
  verifyPolicy,
} from '@holdfast/protocol';
import { tokenHash } from '../../enrollment.js';
import { newServerKey } from '../../policy-keys.js';
import { type Harness, saleBody, T0, type TestDevice } from '../../testing/harness.js';
import { LOCAL_APPROVAL } from '../../testing/payments.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const KEY = newServerKey(T0);
const KEYS = new Map([[KEY.id, KEY.publicKey]]);
const newId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));

function draft(scope: Partial<PolicyScope> = {}, maxAmount = 50_000): PolicyDraft {
  return {
    scope: { merchant: 'acme', location: null, event: null, devices: null, ...scope },
    currency: 'EUR',
    expiresAt: T0 + 86_400_000,
    offline: {
      maxOfflineMs: 3_600_000,
      device: { maxAmount, maxCount: 20 },
      tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

/** Issues `d` as the service does: a new id, asked for at `now`. */
const issue = (h: Harness, d: PolicyDraft, now: number) => h.storage.issuePolicy({ draft: d, id: newId(), now });

const versions = (policies: readonly SignedPolicy[]) => policies.map((p) => p.policy.version);

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('risk policies', () => {
      test('server key: the first candidate is stored; later and concurrent calls get that same key', async (h) => {
        assert.deepEqual(await h.storage.listServerKeys(), []);
        const first = newServerKey(T0);
        assert.deepEqual(await h.storage.ensureServerKey(first), first);
        const racers = await Promise.all([1, 2, 3].map((i) => h.storage.ensureServerKey(newServerKey(T0 + i))));
        for (const key of racers) assert.deepEqual(key, first);
        assert.deepEqual(await h.storage.listServerKeys(), [first]);
      });

      test('server key: of three created at once on an empty database, one is kept', async (h) => {
        const candidates = [1, 2, 3].map((i) => newServerKey(T0 + i));
        const kept = await Promise.all(candidates.map((k) => h.storage.ensureServerKey(k)));
        assert.equal(new Set(kept.map((k) => k.id)).size, 1);
        assert.ok(candidates.some((k) => k.id === kept[0]?.id));
        assert.deepEqual(await h.storage.listServerKeys(), [kept[0]]);
      });

      test('placement: set and changed, shown by getDevice, listDevices and status; an unknown device → null', async (h) => {
        const d = await h.enrollDevice('bar-1');
        h.clock.advance(1); // devices are listed by enrollment time
        const other = await h.enrollDevice('bar-2');
        assert.equal((await h.storage.deviceStatus(d.id))?.placement, null);
        const placed = await h.storage.setDevicePlacement(
          d.id,
          { merchant: 'acme', location: 'north', event: null },
          T0 + 5,
        );
        assert.deepEqual(placed && [placed.id, placed.merchant, placed.location, placed.event], [
          d.id,
          'acme',
          'north',
          null,
        ]);
        await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: null, event: 'final-2026' }, T0 + 6);
        const device = await h.storage.getDevice(d.id);
        assert.deepEqual(device && [device.merchant, device.location, device.event], ['acme', null, 'final-2026']);
        assert.deepEqual((await h.storage.deviceStatus(d.id))?.placement, {
          merchant: 'acme',
          location: null,
          event: 'final-2026',
        });
        assert.deepEqual(
          (await h.storage.listDevices()).map((x) => [x.id, x.merchant]),
          [
            [d.id, 'acme'],
            [other.id, null],
          ],
        );
        assert.deepEqual(
          (await h.storage.listDeviceStatuses()).map((x) => x.placement?.event ?? null),
          ['final-2026', null],
        );
        const unknown = uuidv7(T0, new Uint8Array(10));
        assert.equal(
          await h.storage.setDevicePlacement(unknown, { merchant: 'x', location: null, event: null }, T0),
          null,
        );
        assert.equal(await h.storage.getDevice(unknown), null);
      });

      test('enrollment copies the placement of its token onto the device; a token without one leaves it unplaced', async (h) => {
        const token = (merchant: string | null, location: string | null, event: string | null) => ({
          id: newId(),
          tokenHash: tokenHash(`token-${newId()}`),
          label: null,
          createdAt: T0,
          expiresAt: T0 + 3_600_000,
          usedAt: null,
          deviceId: null,
          publicKey: null,
          merchant,
          location,
          event,
        });
        const placedToken = token('acme', 'north', 'final-2026');
        const bareToken = token(null, null, null);
        await h.storage.insertEnrollmentToken(placedToken);
        await h.storage.insertEnrollmentToken(bareToken);
        const redeem = (hash: string, publicKey: string) =>
          h.storage.redeemEnrollmentToken({ tokenHash: hash, publicKey, label: 'x', newDeviceId: newId(), now: T0 });
        const placed = await redeem(placedToken.tokenHash, 'A'.repeat(43));
        const bare = await redeem(bareToken.tokenHash, 'B'.repeat(43));
        assert.ok(placed.outcome === 'enrolled' && bare.outcome === 'enrolled');
        const p = placed.device;
        assert.deepEqual([p.merchant, p.location, p.event], ['acme', 'north', 'final-2026']);
        assert.deepEqual([bare.device.merchant, bare.device.location, bare.device.event], [null, null, null]);
        assert.deepEqual(await h.storage.getDevice(p.id), p);
        const again = await redeem(placedToken.tokenHash, 'A'.repeat(43));
        assert.ok(again.outcome === 'already_enrolled');
        assert.deepEqual(again.device, p);
      });

      test('policy versions count up per scope (device lists as sets); issuedAt always passes the latest policy', async (h) => {
        await h.storage.ensureServerKey(KEY);
        const a1 = await issue(h, draft(), T0);
        const a2 = await issue(h, draft(), T0 + 10);
        const n1 = await issue(h, draft({ location: 'north' }), T0 + 5);
        const [x, y] = [newId(), newId()];
        const l1 = await issue(h, draft({ devices: [x, y] }), T0);
        const l2 = await issue(h, draft({ devices: [y, x] }), T0);
        const a3 = await issue(h, draft(), T0);
        const all = [a1, a2, n1, l1, l2, a3];
        assert.deepEqual(versions(all), [1, 2, 1, 1, 2, 3]);
        assert.deepEqual(
          all.map((p) => p.policy.issuedAt),
          [T0, T0 + 10, T0 + 11, T0 + 12, T0 + 13, T0 + 14],
          'a policy issued later is newer even when the issuer’s clock is behind',
        );
        assert.deepEqual(await h.storage.listPolicies(), all);
        for (const p of all) assert.deepEqual(verifyPolicy(p, KEYS), p, 'signed with the active key');
        assert.deepEqual(a1.policy.scope, draft().scope);
        assert.deepEqual([a1.keyId, a1.policy.validFrom, a1.policy.expiresAt], [KEY.id, T0 - 300_000, T0 + 86_400_000]);
      });

      test('policies of one scope issued at once get distinct, consecutive versions in issue order', async (h) => {
        await h.storage.ensureServerKey(KEY);
        const d = draft({ event: 'final-2026' });
        const issued = await Promise.all(Array.from({ length: 6 }, () => issue(h, d, T0)));
        assert.deepEqual(
          versions(issued).sort((a, b) => a - b),
          [1, 2, 3, 4, 5, 6],
        );
        const stored = await h.storage.listPolicies();
        assert.deepEqual(versions(stored), [1, 2, 3, 4, 5, 6], 'oldest first, and a higher version is newer');
      });

      test('refused, storing nothing: no active key; a draft that expires before its assigned issuedAt', async (h) => {
        await assert.rejects(issue(h, draft(), T0), /no active policy-signing key/);
        await h.storage.ensureServerKey(KEY);
        await issue(h, draft({ merchant: 'globex' }), T0 + 60_000);
        // Asked at T0 (a clock behind): issued just after T0 + 60 s, past this draft's expiry.
        const late = { ...draft(), validFrom: T0 - 1_000, expiresAt: T0 + 30_000 };
        await assert.rejects(issue(h, late, T0), (e: unknown) => {
          assert.ok(e instanceof ProtocolError, String(e));
          assert.deepEqual([e.code, e.field, e.rule], ['invalid_request', 'expiresAt', 'after issuedAt']);
          return true;
        });
        assert.deepEqual(
          (await h.storage.listPolicies()).map((p) => p.policy.scope.merchant),
          ['globex'],
        );
        assert.deepEqual(versions([await issue(h, draft(), T0)]), [1]);
      });

      test('listPolicies: oldest first; every merchant or one; all, or those not expired at an instant', async (h) => {
        await h.storage.ensureServerKey(KEY);
        const acme = await issue(h, draft(), T0);
        const other = await issue(h, draft({ merchant: 'globex' }), T0 + 1);
        const acme2 = await issue(h, { ...draft(), expiresAt: T0 + 60_000 }, T0 + 2);
        assert.deepEqual(await h.storage.listPolicies(), [acme, other, acme2]);
        assert.deepEqual(await h.storage.listPolicies({ merchant: 'acme' }), [acme, acme2]);
        assert.deepEqual(await h.storage.listPolicies({ merchant: 'globex' }), [other]);
        assert.deepEqual(await h.storage.listPolicies({ merchant: 'initech' }), []);
        assert.deepEqual(await h.storage.listPolicies({ merchant: 'acme', unexpiredAt: T0 + 59_999 }), [acme, acme2]);
        assert.deepEqual(await h.storage.listPolicies({ merchant: 'acme', unexpiredAt: T0 + 60_000 }), [acme]);
        assert.deepEqual(await h.storage.listPolicies({ unexpiredAt: T0 + 60_000 }), [acme, other]);
        assert.deepEqual(await h.storage.listPolicies({ unexpiredAt: T0 + 86_400_000 }), []);
      });

      test('offline payments: each card tender of a locally approved sale, stored once, unsettled', async (h) => {
        const d = await h.enrollDevice('bar-1');
        const open = d.openShift();
        const split = d.chain.next(
          'sale.recorded',
          saleBody(open.id, 900, {
            tenders: [
              { type: 'card', amount: 600, token: 'tok_aaaaaaaa', brand: 'mastercard', last4: '1111' },
              { type: 'cash', amount: 300, tendered: 500 },
            ],
          }),
          LOCAL_APPROVAL,
        );
        const online = d.cardSale(open.id, 700, { mode: 'online', outcome: 'approved', policy: null });
        h.clock.advance(5_000);
        const batch = d.batch([open, split, online]);
        assert.equal((await h.send(batch)).status, 200);
        assert.equal((await h.send(batch)).status, 200, 'a replay');
        const expected = {
          opId: split.id,
          tenderIndex: 0,
          device: d.id,
          seq: 2,
          tender: 'card',
          amount: 600,
          currency: 'EUR',
          brand: 'mastercard',
          last4: '1111',
          token: 'tok_aaaaaaaa',
          policy: LOCAL_APPROVAL.policy,
          approvedAt: split.at,
          receivedAt: T0 + 5_000,
          settledAt: null,
          outcome: null,
          attempts: 0,
          nextAttemptAt: null,
          lastError: null,
          deadlineStage: null,
          refusedAt: null,
          refusalCode: null,
        };
        assert.deepEqual(await h.storage.listOfflinePayments(d.id), [expected]);
        assert.deepEqual(await h.storage.listOfflinePayments(null), [expected]);
        assert.deepEqual(await h.storage.listOfflinePayments(newId()), []);
      });

      test('exposureActual: unsettled amounts per currency and current placement; unplaced devices under null', async (h) => {
        const place = (d: TestDevice, location: string | null, event: string | null) =>
          h.storage.setDevicePlacement(d.id, { merchant: 'acme', location, event }, T0);
        const north = await h.enrollDevice('north');
        const hall = await h.enrollDevice('hall');
        const loose = await h.enrollDevice('loose');
        await place(north, 'north', 'final-2026');
        await place(hall, null, null);
        const sell = async (d: TestDevice, currency: string, sales: [number, Decision][]) => {
          const open = d.openShift({ currency });
          const ops = sales.map(([amount, decision]) =>
            d.chain.next(
              'sale.recorded',
              saleBody(open.id, amount, {
                currency,
                tenders: [{ type: 'card', amount, token: `tok_${d.id.slice(-8)}`, brand: 'visa', last4: '4242' }],
              }),
              decision,
            ),
          );
          const res = await h.send(d.batch([open, ...ops]));
          assert.equal(res.status, 200);
        };
        await sell(north, 'EUR', [
          [500, LOCAL_APPROVAL],
          [300, LOCAL_APPROVAL],
          [9_000, { mode: 'online', outcome: 'approved', policy: null }],
          [50, { mode: 'local', outcome: 'declined', policy: LOCAL_APPROVAL.policy, rule: 'floor_limit' }],
        ]);
        await sell(hall, 'USD', [[1_000, LOCAL_APPROVAL]]);
        await sell(loose, 'EUR', [[200, LOCAL_APPROVAL]]);
        const group = (currency: string, merchant: string | null, location: string | null, event: string | null) => ({
          currency,
          merchant,
          location,
          event,
        });
        assert.deepEqual(await h.storage.exposureActual(), [
          { ...group('EUR', null, null, null), amount: 200, count: 1 },
          { ...group('EUR', 'acme', 'north', 'final-2026'), amount: 800, count: 2 },
          { ...group('USD', 'acme', null, null), amount: 1_000, count: 1 },
        ]);
        await place(north, 'south', 'final-2026');
        await place(loose, null, null);
        assert.deepEqual(await h.storage.exposureActual(), [
          { ...group('EUR', 'acme', null, null), amount: 200, count: 1 },
          { ...group('EUR', 'acme', 'south', 'final-2026'), amount: 800, count: 2 },
          { ...group('USD', 'acme', null, null), amount: 1_000, count: 1 },
        ]);
      });
    });
  });
}
