/**
 * The forwarding part of the storage suite (storage-suite.ts runs it for
 * every backend): claiming offline payments under a lease, in seq order per
 * device, and settling them once, with the ledger event and, for a
 * decline, the `post_auth_decline` exception. Offline payments are made
 * through the real ingest path (HTTP), as terminals make them.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { type Harness, T0, type TestDevice } from '../testing/harness.js';
import { LOCAL_APPROVAL, type SuiteTest } from './risk-policy-suite.js';
import type { ClaimedOfflinePayment, PaymentSettlement } from './storage.js';

const LEASE = 30_000;

/** Opens a shift on `d` and records `amounts.length` offline-approved card sales; returns their op ids in seq order. */
export async function offlineSales(h: Harness, d: TestDevice, amounts: readonly number[]): Promise<string[]> {
  const open = d.openShift();
  const sales = amounts.map((amount, i) =>
    d.cardSale(open.id, amount, LOCAL_APPROVAL, { token: `tok_${d.id.slice(-6)}_${i}`, last4: '4242' }),
  );
  const res = await h.send(d.batch([open, ...sales]));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return sales.map((s) => s.id);
}

const ids = (claimed: readonly ClaimedOfflinePayment[]) => claimed.map((p) => p.opId);

const approved = (at: number): PaymentSettlement => ({ status: 'approved', processorId: 'auth_1', at });

export function forwardingSuite(test: SuiteTest): void {
  describe('forwarding', () => {
    test('claim: unsettled payments in (device, seq) order, leased; a second claim gets none until the lease ends', async (h) => {
      const a = await h.enrollDevice('a');
      const b = await h.enrollDevice('b');
      const aOps = await offlineSales(h, a, [100, 200]);
      const bOps = await offlineSales(h, b, [300]);
      const claimed = await h.storage.claimOfflinePayments('w1', 10, T0, LEASE);
      const expected = [...(a.id < b.id ? [aOps, bOps] : [bOps, aOps])].flat();
      assert.deepEqual(ids(claimed), expected);
      assert.ok(claimed.every((p) => p.claimedBy === 'w1' && p.claimExpiresAt === T0 + LEASE && p.merchant === null));
      assert.deepEqual(await h.storage.claimOfflinePayments('w2', 10, T0 + LEASE - 1, LEASE), []);
      assert.deepEqual(ids(await h.storage.claimOfflinePayments('w2', 10, T0 + LEASE, LEASE)), expected, 'expired');
    });

    test('claim: never a payment while an earlier one of its device is claimed; limit takes a prefix', async (h) => {
      const d = await h.enrollDevice('a');
      await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: null, event: null }, T0);
      const ops = await offlineSales(h, d, [100, 200, 300]);
      const first = await h.storage.claimOfflinePayments('w1', 1, T0, LEASE);
      assert.deepEqual(ids(first), [ops[0]]);
      assert.equal(first[0]?.merchant, 'acme');
      assert.deepEqual(await h.storage.claimOfflinePayments('w2', 10, T0 + 1, LEASE), [], 'seq 2 waits for seq 1');
      await h.storage.settleOfflinePayment({
        payment: { opId: ops[0] as string, tenderIndex: 0 },
        owner: 'w1',
        settlement: approved(T0 + 2),
        exceptionId: 'x1',
      });
      assert.deepEqual(ids(await h.storage.claimOfflinePayments('w2', 10, T0 + 3, LEASE)), ops.slice(1));
    });

    test('claim: concurrent claimers never get the same payment', async (h) => {
      const devices = await Promise.all([1, 2, 3, 4].map((i) => h.enrollDevice(`d${i}`)));
      for (const d of devices) await offlineSales(h, d, [100, 200, 300]);
      // Rounds of four claimers at once, each ending when nobody got anything: every payment once, in all.
      const all: string[] = [];
      for (let round = 0; round < 12; round++) {
        const claims = await Promise.all(
          [1, 2, 3, 4].map((i) => h.storage.claimOfflinePayments(`w${i}`, 3, T0 + round, LEASE)),
        );
        all.push(...claims.flatMap(ids));
        if (claims.every((c) => c.length === 0)) break;
        // Settle what was claimed, so each device's next payment becomes claimable.
        for (const p of claims.flat()) {
          await h.storage.settleOfflinePayment({
            payment: { opId: p.opId, tenderIndex: p.tenderIndex },
            owner: p.claimedBy,
            settlement: approved(T0 + round),
            exceptionId: `x-${p.opId}`,
          });
        }
      }
      assert.equal(new Set(all).size, all.length, 'disjoint');
      assert.equal(all.length, 12);
    });

    test('settle approved: once; the ledger records it; a second settle returns the stored outcome', async (h) => {
      const d = await h.enrollDevice('a');
      const [op] = await offlineSales(h, d, [1_234]);
      const payment = { opId: op as string, tenderIndex: 0 };
      const first = await h.storage.settleOfflinePayment({
        payment,
        owner: 'w1',
        settlement: approved(T0 + 10),
        exceptionId: 'x1',
      });
      assert.deepEqual(first, { settlement: approved(T0 + 10), settledNow: true });
      const again = await h.storage.settleOfflinePayment({
        payment,
        owner: 'w2',
        settlement: { status: 'declined', processorId: 'auth_2', declineCode: 'card_blocked', at: T0 + 20 },
        exceptionId: 'x2',
      });
      assert.deepEqual(again, { settlement: approved(T0 + 10), settledNow: false });
      const [stored] = await h.storage.listOfflinePayments(d.id);
      assert.deepEqual([stored?.settledAt, stored?.outcome], [T0 + 10, 'approved']);
      const ledger = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type.startsWith('payment.'));
      assert.deepEqual(
        ledger.map((e) => [e.type, e.opId, e.amount, e.data.processorId]),
        [['payment.settled', op, 1_234, 'auth_1']],
      );
      assert.deepEqual((await h.storage.listExceptions(0, 100)).items, []);
      assert.deepEqual(await h.storage.claimOfflinePayments('w1', 10, T0 + 100, LEASE), [], 'settled: not claimable');
      assert.deepEqual(await h.storage.exposureActual(), []);
      assert.equal(
        await h.storage.settleOfflinePayment({
          payment: { opId: 'nope', tenderIndex: 0 },
          owner: 'w1',
          settlement: approved(T0),
          exceptionId: 'x3',
        }),
        null,
      );
    });

    test('settle declined: a post_auth_decline alarm with the payment, in the same transaction, once', async (h) => {
      const d = await h.enrollDevice('a');
      const [, op] = await offlineSales(h, d, [500, 2_500]);
      const declined: PaymentSettlement = {
        status: 'declined',
        processorId: 'auth_9',
        declineCode: 'card_blocked',
        at: T0 + 50,
      };
      const request = { payment: { opId: op as string, tenderIndex: 0 }, owner: 'w1', settlement: declined };
      await h.storage.settleOfflinePayment({ ...request, exceptionId: 'x1' });
      await h.storage.settleOfflinePayment({ ...request, exceptionId: 'x2' });
      const exceptions = (await h.storage.listExceptions(0, 100)).items;
      assert.equal(exceptions.length, 1);
      const [x] = exceptions;
      assert.deepEqual(
        [x?.id, x?.type, x?.severity, x?.device, x?.opId, x?.seq],
        ['x1', 'post_auth_decline', 'alarm', d.id, op, 3],
      );
      assert.deepEqual(x?.detail, {
        opId: op,
        tenderIndex: 0,
        device: d.id,
        seq: 3,
        shift: (await h.storage.listShifts(d.id))[0]?.id,
        amount: 2_500,
        currency: 'EUR',
        brand: 'visa',
        last4: '4242',
        customer: null,
        declineCode: 'card_blocked',
        processorId: 'auth_9',
      });
      const ledger = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type.startsWith('payment.'));
      assert.deepEqual(
        ledger.map((e) => [e.type, e.data.declineCode]),
        [['payment.declined', 'card_blocked']],
      );
      assert.equal((await h.storage.summary()).exceptions.post_auth_decline, 1);
    });
  });
}
