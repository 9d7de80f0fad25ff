/**
 * The forwarding part of the storage suite (run on every backend of
 * testing/storage-backends.ts): claiming offline payments under a lease, in
 * seq order per device, and settling them once, with the ledger event and,
 * for a decline, the `post_auth_decline` exception. Offline payments are
 * made through the real ingest path (HTTP), as terminals make them.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { deadlineException } from '../../forwarding/forwarding-deadline.js';
import type { ExceptionRecord } from '../../model/exception.js';
import type { ClaimedOfflinePayment } from '../../model/offline-payment.js';
import type {
  DeadlineCandidate,
  DeadlineNotice,
  PaymentSettlement,
  RefuseRequest,
} from '../../model/payment-forwarding.js';
import { cardTender, saleBody, T0 } from '../../testing/harness.js';
import { LOCAL_APPROVAL, offlineSales } from '../../testing/payments.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const HOUR = 3_600_000;

/** The notice the forwarder sends for a deadline candidate. */
const notice = (c: DeadlineCandidate, exception: ExceptionRecord): DeadlineNotice => ({
  payment: { opId: c.payment.opId, tenderIndex: c.payment.tenderIndex },
  stage: c.stage,
  exception,
});
const DEADLINE = { deadlineMs: 72 * HOUR, warnAfterMs: 54 * HOUR, limit: 100 };

/** A refusal of `opId` by `owner` as the forwarder sends it. */
const refusal = (opId: string, owner: string, at: number, exceptionId = `x-refused-${opId}`): RefuseRequest => ({
  payment: { opId, tenderIndex: 0 },
  owner,
  code: 'idempotency_key_reused',
  status: 422,
  message: 'same key, different request: merchant',
  field: 'merchant',
  at,
  exceptionId,
});

const LEASE = 30_000;

const ids = (claimed: readonly ClaimedOfflinePayment[]) => claimed.map((p) => p.opId);

const approved = (at: number): PaymentSettlement => ({ status: 'approved', processorId: 'auth_1', at });

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
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
        // LOCAL_APPROVAL names a policy this server never issued: its policy_breach alarms are not settlement's.
        assert.deepEqual(
          (await h.storage.listExceptions(0, 100)).items.filter((x) => x.type !== 'policy_breach'),
          [],
        );
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
        const exceptions = (await h.storage.listExceptions(0, 100)).items.filter((x) => x.type !== 'policy_breach');
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

      test('settle several at once: each as settled alone, in order; a repeat and an unknown payment change nothing', async (h) => {
        const d = await h.enrollDevice('a');
        const [first, second] = await offlineSales(h, d, [700, 1_900]);
        const declined: PaymentSettlement = {
          status: 'declined',
          processorId: 'auth_8',
          declineCode: 'card_blocked',
          at: T0 + 11,
        };
        const settle = (opId: string, settlement: PaymentSettlement, exceptionId: string) => ({
          payment: { opId, tenderIndex: 0 },
          owner: 'w1',
          settlement,
          exceptionId,
        });
        assert.deepEqual(await h.storage.settleOfflinePayments([]), []);
        const outcomes = await h.storage.settleOfflinePayments([
          settle(first as string, approved(T0 + 10), 'x1'),
          settle(second as string, declined, 'x2'),
          settle(first as string, declined, 'x3'),
          settle('nope', approved(T0 + 12), 'x4'),
        ]);
        assert.deepEqual(outcomes, [
          { settlement: approved(T0 + 10), settledNow: true },
          { settlement: declined, settledNow: true },
          { settlement: approved(T0 + 10), settledNow: false },
          null,
        ]);
        const ledger = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type.startsWith('payment.'));
        assert.deepEqual(
          ledger.map((e) => [e.type, e.opId, e.amount]),
          [
            ['payment.settled', first, 700],
            ['payment.declined', second, 1_900],
          ],
        );
        const alarms = (await h.storage.listExceptions(0, 100)).items.filter((x) => x.type === 'post_auth_decline');
        assert.deepEqual(
          alarms.map((x) => [x.id, x.opId]),
          [['x2', second]],
        );
        assert.deepEqual(await h.storage.claimOfflinePayments('w2', 10, T0 + 100, LEASE), [], 'both settled');
      });

      test("settle declined: the exception carries the sale's shift and the customer contact the clerk captured", async (h) => {
        const d = await h.enrollDevice('a');
        const open = d.openShift();
        const customer = { name: 'Ada Lovelace', phone: '+44 20 7946 0958', email: 'ada@example.org' };
        const sale = d.chain.next(
          'sale.recorded',
          saleBody(open.id, 900, { tenders: [cardTender(900, { brand: 'amex', last4: '0005' })], customer }),
          LOCAL_APPROVAL,
        );
        assert.equal((await h.send(d.batch([open, sale]))).status, 200);
        await h.storage.settleOfflinePayment({
          payment: { opId: sale.id, tenderIndex: 0 },
          owner: 'w1',
          settlement: { status: 'declined', processorId: 'auth_3', declineCode: 'insufficient_funds', at: T0 + 1 },
          exceptionId: 'x1',
        });
        const [x] = (await h.storage.listExceptions(0, 10)).items.filter((e) => e.type === 'post_auth_decline');
        assert.deepEqual(
          [x?.detail.opId, x?.detail.device, x?.detail.shift, x?.detail.amount, x?.detail.currency],
          [sale.id, d.id, open.id, 900, 'EUR'],
        );
        assert.deepEqual(
          [x?.detail.brand, x?.detail.last4, x?.detail.declineCode],
          ['amex', '0005', 'insufficient_funds'],
        );
        assert.deepEqual(x?.detail.customer, customer);
      });

      test('defer: not claimed before its next attempt, nor any later payment of its device; others go on', async (h) => {
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        const aOps = await offlineSales(h, a, [100, 200]);
        const bOps = await offlineSales(h, b, [300]);
        const claimed = await h.storage.claimOfflinePayments('w1', 10, T0, LEASE);
        assert.equal(claimed.length, 3);
        const first = { opId: aOps[0] as string, tenderIndex: 0 };
        assert.equal(
          await h.storage.deferOfflinePayment({
            payment: first,
            owner: 'w2',
            attempts: 1,
            nextAttemptAt: T0,
            error: 'x',
          }),
          false,
          'only the claimer defers',
        );
        const retryAt = T0 + LEASE + 1;
        assert.equal(
          await h.storage.deferOfflinePayment({
            payment: first,
            owner: 'w1',
            attempts: 1,
            nextAttemptAt: retryAt,
            error: 'unknown (timeout), not found by key',
          }),
          true,
        );
        const [stored] = await h.storage.listOfflinePayments(a.id);
        assert.deepEqual(
          [stored?.attempts, stored?.nextAttemptAt, stored?.lastError, stored?.settledAt],
          [1, retryAt, 'unknown (timeout), not found by key', null],
        );
        assert.deepEqual(ids(await h.storage.claimOfflinePayments('w2', 10, T0 + 1, LEASE)), [], 'not due, or leased');
        // Every lease has run out: a's later payment still waits behind the earlier one backing off.
        assert.deepEqual(ids(await h.storage.claimOfflinePayments('w3', 10, T0 + LEASE, LEASE)), bOps, 'seq order');
        assert.deepEqual(ids(await h.storage.claimOfflinePayments('w4', 10, retryAt, LEASE)), aOps, 'due: in order');
        const again = await h.storage.listOfflinePayments(a.id);
        assert.deepEqual(
          again.map((p) => p.attempts),
          [1, 0],
          'attempts are kept until an answer',
        );
      });

      test("refuse: once, with a payment_refused alarm; never claimed again; the device's later payments go on", async (h) => {
        const d = await h.enrollDevice('a');
        const ops = await offlineSales(h, d, [100, 200]);
        const [op1, op2] = ops as [string, string];
        await h.storage.claimOfflinePayments('w1', 1, T0, LEASE);
        assert.equal(await h.storage.refuseOfflinePayment(refusal(op1, 'w2', T0 + 1)), false, 'only the claimer');
        assert.equal(await h.storage.refuseOfflinePayment(refusal(op1, 'w1', T0 + 1)), true);
        assert.equal(await h.storage.refuseOfflinePayment(refusal(op1, 'w1', T0 + 2, 'x-again')), false, 'once');
        const [stored] = await h.storage.listOfflinePayments(d.id);
        assert.deepEqual(
          [stored?.refusedAt, stored?.refusalCode, stored?.settledAt, stored?.outcome],
          [T0 + 1, 'idempotency_key_reused', null, null],
        );
        // (LOCAL_APPROVAL names a policy this server never issued: its policy_breach is not this test's.)
        const exceptions = (await h.storage.listExceptions(0, 10)).items.filter((e) => e.type !== 'policy_breach');
        assert.equal(exceptions.length, 1);
        const [x] = exceptions;
        assert.deepEqual(
          [x?.type, x?.severity, x?.opId, x?.dedupeKey],
          ['payment_refused', 'alarm', op1, `payment_refused:${op1}:0`],
        );
        assert.deepEqual(
          [x?.detail.code, x?.detail.status, x?.detail.field, x?.detail.amount, x?.detail.shift],
          ['idempotency_key_reused', 422, 'merchant', 100, (await h.storage.listShifts(d.id))[0]?.id],
        );
        assert.deepEqual(ids(await h.storage.claimOfflinePayments('w1', 10, T0 + 3, LEASE)), [op2], 'not held back');
        assert.deepEqual(
          ids(await h.storage.claimOfflinePayments('w1', 10, T0 + 3 + LEASE, LEASE)),
          [op2],
          'the refused one is never claimed again',
        );
        const ledger = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type.startsWith('payment.'));
        assert.deepEqual(ledger, [], 'a refusal is not a decline: no ledger event');
        const [actual] = await h.storage.exposureActual();
        assert.deepEqual([actual?.amount, actual?.count], [300, 2], 'its money was never confirmed: still exposure');
      });

      test('deadline: measured from device time (never later than receipt); each stage raised once', async (h) => {
        const courier = await h.enrollDevice('courier');
        const ahead = await h.enrollDevice('ahead');
        // Tapped at T0, carried in 60 h later: already past the 54 h warning when it arrives.
        const courierShift = courier.openShift();
        const tapped = courier.cardSale(courierShift.id, 700, LOCAL_APPROVAL, { token: 'tok_courier_1' });
        h.clock.advance(60 * HOUR);
        assert.equal((await h.send(courier.batch([courierShift, tapped]))).status, 200);
        const late = tapped.id;
        // A device whose clock runs 10 h ahead: its time must not buy the payment 10 h more.
        const saved = h.clock.now();
        h.clock.set(saved + 10 * HOUR);
        const open = ahead.openShift();
        const sale = ahead.cardSale(open.id, 800, LOCAL_APPROVAL, { token: 'tok_ahead_1' });
        h.clock.set(saved);
        assert.equal((await h.send(ahead.batch([open, sale]))).status, 200);
        const received = saved;

        const at = async (now: number) => {
          const found = await h.storage.listDeadlineCandidates({ ...DEADLINE, now });
          return found.map((c) => [c.payment.opId, c.stage]);
        };
        assert.deepEqual(await at(saved), [[late, 'warning']], 'the courier payment is 60 h old on arrival');
        const raise = async (now: number) => {
          const found = await h.storage.listDeadlineCandidates({ ...DEADLINE, now });
          return h.storage.raiseDeadlineExceptions(
            found.map((c, i) => notice(c, deadlineException(c, DEADLINE.deadlineMs, now, `x-${now}-${i}`))),
          );
        };
        assert.equal(await raise(saved), 1);
        assert.equal(await raise(saved), 0, 'raised once');
        assert.deepEqual(
          (await h.storage.listOfflinePayments(courier.id)).map((p) => p.deadlineStage),
          ['warning'],
          'the stage is recorded on the payment',
        );
        assert.deepEqual(await at(received + 54 * HOUR - 1), [[late, 'missed']]);
        assert.deepEqual(
          await at(received + 54 * HOUR),
          [
            [late, 'missed'],
            [sale.id, 'warning'],
          ],
          'measured from receipt, not from the device clock 10 h ahead',
        );
        assert.equal(await raise(received + 54 * HOUR), 2);
        // Two sweepers at once (processes): each stage still stored once.
        const now = received + 72 * HOUR;
        const found = await h.storage.listDeadlineCandidates({ ...DEADLINE, now });
        assert.deepEqual(
          found.map((c) => [c.payment.opId, c.stage]),
          [[sale.id, 'missed']],
        );
        const added = await Promise.all(
          ['p1', 'p2'].map((p) =>
            h.storage.raiseDeadlineExceptions(
              found.map((c) => notice(c, deadlineException(c, DEADLINE.deadlineMs, now, `x-${p}`))),
            ),
          ),
        );
        assert.equal((added[0] ?? 0) + (added[1] ?? 0), 1);
        assert.deepEqual(await at(now + 1_000 * HOUR), []);
        assert.deepEqual(
          (await h.storage.listOfflinePayments(null)).map((p) => p.deadlineStage),
          ['missed', 'missed'],
        );
        const xs = (await h.storage.listExceptions(0, 100)).items.filter((x) => x.type === 'forwarding_deadline');
        assert.deepEqual(
          xs.map((x) => [x.opId, x.severity, x.detail.stage]),
          [
            [late, 'warning', 'warning'],
            [late, 'alarm', 'missed'],
            [sale.id, 'warning', 'warning'],
            [sale.id, 'alarm', 'missed'],
          ],
        );
        assert.equal(xs[3]?.detail.deadlineAt, received + 72 * HOUR);
        assert.equal(xs[0]?.detail.deadlineFrom, T0);
      });

      test('deadline: settled and refused payments are not candidates', async (h) => {
        const d = await h.enrollDevice('a');
        const [settled, refused, waiting] = (await offlineSales(h, d, [100, 200, 300])) as [string, string, string];
        await h.storage.settleOfflinePayment({
          payment: { opId: settled, tenderIndex: 0 },
          owner: 'w1',
          settlement: approved(T0 + 1),
          exceptionId: 'x1',
        });
        await h.storage.claimOfflinePayments('w1', 1, T0 + 2, LEASE);
        assert.ok(await h.storage.refuseOfflinePayment(refusal(refused, 'w1', T0 + 3)));
        const found = await h.storage.listDeadlineCandidates({ ...DEADLINE, now: T0 + 100 * HOUR });
        assert.deepEqual(
          found.map((c) => [c.payment.opId, c.stage]),
          [[waiting, 'missed']],
        );
      });
    });
  });
}
