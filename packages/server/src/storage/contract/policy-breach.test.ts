/**
 * Re-evaluation of local approvals through ingest (run on every backend of
 * testing/storage-backends.ts): the backend loads the named policy and the
 * device's unsettled offline payments inside the ingest transaction, and a
 * breach raises one `policy_breach` alarm while the op is accepted.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { type Decision, type PolicyDraft, policyRef, type SignedPolicy } from '@holdfast/protocol';
import { type Harness, T0 } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const draft: PolicyDraft = {
  scope: { merchant: 'acme', location: null, event: null, devices: null },
  currency: 'EUR',
  validFrom: T0 - 60_000,
  expiresAt: T0 + 86_400_000,
  offline: {
    maxOfflineMs: 3_600_000,
    device: { maxAmount: 5_000, maxCount: 10 },
    tenders: { card: { floorLimit: 3_000, instrument: { maxAmount: 5_000, maxCount: 10, velocity: null } } },
  },
  online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
};

async function issue(h: Harness): Promise<string> {
  const res = await h.request<SignedPolicy>('POST', '/v1/admin/policies', { admin: true, payload: draft });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return policyRef(res.body.policy);
}

const local = (policy: string | null): Decision => ({
  mode: 'local',
  outcome: 'approved',
  policy,
  rule: 'within_limits',
});

async function breaches(h: Harness) {
  return (await h.storage.listExceptions(0, 100)).items
    .filter((x) => x.type === 'policy_breach')
    .map((x) => [x.opId, x.detail.rule, x.detail.policy, x.severity]);
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('policy breach (re-evaluation at ingest)', () => {
      test('each local approval is checked against the policy it names; breaches are alarms, the ops stand', async (h) => {
        const ref = await issue(h);
        const d = await h.enrollDevice('bar');
        await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: null, event: null }, T0);
        const open = d.openShift();
        const ok = d.cardSale(open.id, 3_000, local(ref), { token: 'tok_card_0001' });
        const over = d.cardSale(open.id, 3_001, local(ref), { token: 'tok_card_0002' });
        const none = d.cardSale(open.id, 100, local(null), { token: 'tok_card_0003' });
        const unknown = d.cardSale(open.id, 100, local(`${ref.split('@')[0]}@99`), { token: 'tok_card_0004' });
        const res = await h.send(d.batch([open, ok, over, none, unknown]));
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(
          res.body.results.map((r) => r.status),
          ['accepted', 'accepted', 'accepted', 'accepted', 'accepted'],
        );
        assert.deepEqual(await breaches(h), [
          [over.id, 'floor_limit', ref, 'alarm'],
          [none.id, 'no_policy', null, 'alarm'],
          [unknown.id, 'unknown_policy', `${ref.split('@')[0]}@99`, 'alarm'],
        ]);
        // A replay of the batch raises nothing new.
        await h.send(d.batch([open, ok, over, none, unknown]));
        assert.equal((await breaches(h)).length, 3);
      });

      test("a card top-up approved offline is checked like a sale's card", async (h) => {
        const ref = await issue(h);
        const d = await h.enrollDevice('booth');
        await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: null, event: null }, T0);
        const open = d.openShift();
        const topUp = (amount: number, counter: number, balanceBefore: number, token: string, decision: Decision) =>
          d.chain.next(
            'wallet.topped_up',
            {
              shift: open.id,
              currency: 'EUR',
              wristband: '04A1B2C3D4E5F6',
              amount,
              counter,
              balanceBefore,
              paid: 'card',
              card: { token, brand: 'visa', last4: '4242' },
            },
            decision,
          );
        const ok = topUp(1_000, 1, 0, 'tok_topup_0001', local(ref));
        const over = topUp(3_001, 2, 1_000, 'tok_topup_0002', local(ref));
        const none = topUp(100, 3, 4_001, 'tok_topup_0003', local(null));
        const res = await h.send(d.batch([open, ok, over, none]));
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(await breaches(h), [
          [over.id, 'floor_limit', ref, 'alarm'],
          [none.id, 'no_policy', null, 'alarm'],
        ]);
      });

      test("the device cap counts the device's earlier payments still unsettled, not settled ones", async (h) => {
        const ref = await issue(h);
        const d = await h.enrollDevice('bar');
        await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: null, event: null }, T0);
        const open = d.openShift();
        const first = d.cardSale(open.id, 3_000, local(ref), { token: 'tok_card_0001' });
        assert.equal((await h.send(d.batch([open, first]))).status, 200);
        const atCap = d.cardSale(open.id, 2_000, local(ref), { token: 'tok_card_0002' });
        const overCap = d.cardSale(open.id, 1, local(ref), { token: 'tok_card_0003' });
        assert.equal((await h.send(d.batch([atCap, overCap]))).status, 200);
        assert.deepEqual(await breaches(h), [[overCap.id, 'device_amount', ref, 'alarm']]);
        // Once settled, the earlier payments no longer count.
        for (const op of [first, atCap, overCap]) {
          await h.storage.settleOfflinePayment({
            payment: { opId: op.id, tenderIndex: 0 },
            owner: 'w',
            settlement: { status: 'approved', processorId: `p-${op.seq}`, at: T0 + 1 },
            exceptionId: `x-${op.id}`,
          });
        }
        const after = d.cardSale(open.id, 3_000, local(ref), { token: 'tok_card_0004' });
        assert.equal((await h.send(d.batch([after]))).status, 200);
        assert.equal((await breaches(h)).length, 1);
      });
    });
  });
}
