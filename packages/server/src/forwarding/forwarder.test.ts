/**
 * The forwarder on SQLite against a real processor simulator: payments
 * made through the real ingest path, checked against the processor's own
 * records.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom, systemClock } from '@holdfast/domain';
import { ProcessorClient, ProcessorOutcomeUnknownError } from '@holdfast/processor-client';
import { assertForwardedExactlyOnce, type SimFixture, startSim } from '../testing/forwarding-fixture.js';
import { createHarness, type Harness } from '../testing/harness.js';
import { LOCAL_APPROVAL, offlineSales } from '../testing/payments.js';
import {
  type ForwardEvent,
  Forwarder,
  type ForwarderOptions,
  idempotencyKeyOf,
  UNPLACED_MERCHANT,
} from './forwarder.js';

const HOUR = 3_600_000;

const LEASE = 10_000;

async function setup(sim: Parameters<typeof startSim>[0] = {}): Promise<{ h: Harness; f: SimFixture }> {
  return { h: await createHarness(), f: await startSim(sim) };
}

function forwarder(h: Harness, f: SimFixture, extra: Partial<ForwarderOptions> = {}): Forwarder {
  return new Forwarder({
    storage: h.storage,
    processor: f.client,
    clock: h.clock,
    owner: 'fwd-1',
    batchSize: 50,
    leaseMs: LEASE,
    timeoutMs: 2_000,
    ...extra,
  });
}

/** Runs rounds, the lease running out between them, until nothing is left unsettled. */
async function drain(h: Harness, fwd: Forwarder, maxRounds = 40): Promise<number> {
  for (let round = 1; round <= maxRounds; round++) {
    await fwd.runOnce();
    h.clock.advance(LEASE);
    const left = (await h.storage.listOfflinePayments(null)).filter((p) => p.settledAt === null).length;
    if (left === 0) return round;
  }
  throw new Error(`payments left unsettled after ${maxRounds} rounds`);
}

describe('Forwarder (SQLite, processor simulator)', () => {
  it('each payment reaches the processor once, in seq order per device, though most answers are lost', async () => {
    const { h, f } = await setup({ timeoutAfterCommitRate: 0.7 });
    try {
      const devices = [await h.enrollDevice('a'), await h.enrollDevice('b')];
      for (const d of devices) await offlineSales(h, d, [100, 200, 300, 400, 500]);
      const events: ForwardEvent[] = [];
      await drain(h, forwarder(h, f, { onEvent: (e) => events.push(e) }));
      const listed = await assertForwardedExactlyOnce(h.storage, f);
      assert.equal(listed.length, 10);
      assert.ok(
        events.some((e) => e.kind === 'settled' && e.recovered),
        'some answers were lost and found by key',
      );
      assert.ok((await f.client.stats()).sinceStart.timeoutsAfterCommit > 0);
      assert.deepEqual(await h.storage.exposureActual(), []);
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('a blocked card: the payment is settled declined and raises a post_auth_decline alarm; later ones go on', async () => {
    const { h, f } = await setup({ cards: { tok_blocked_1: { blocked: true } } });
    try {
      const d = await h.enrollDevice('a');
      const open = d.openShift();
      const bad = d.cardSale(open.id, 1_500, LOCAL_APPROVAL, {
        token: 'tok_blocked_1',
        brand: 'mastercard',
        last4: '0005',
      });
      const good = d.cardSale(open.id, 700, LOCAL_APPROVAL, { token: 'tok_fine_1' });
      assert.equal((await h.send(d.batch([open, bad, good]))).status, 200);
      assert.deepEqual(await forwarder(h, f).runOnce(), {
        claimed: 2,
        approved: 1,
        declined: 1,
        unsettled: 0,
        refused: 0,
        deadlineExceptions: 0,
      });
      await assertForwardedExactlyOnce(h.storage, f);
      const exceptions = (await h.storage.listExceptions(0, 100)).items.filter((x) => x.type === 'post_auth_decline');
      assert.equal(exceptions.length, 1);
      assert.equal(exceptions[0]?.severity, 'alarm');
      assert.deepEqual(
        { ...exceptions[0]?.detail, processorId: undefined },
        {
          opId: bad.id,
          tenderIndex: 0,
          device: d.id,
          seq: bad.seq,
          shift: open.id,
          amount: 1_500,
          currency: 'EUR',
          brand: 'mastercard',
          last4: '0005',
          customer: null,
          declineCode: 'card_blocked',
          processorId: undefined,
        },
      );
      const ledger = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type.startsWith('payment.'));
      assert.deepEqual(
        ledger.map((e) => [e.type, e.opId]),
        [
          ['payment.declined', bad.id],
          ['payment.settled', good.id],
        ],
      );
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('a processor outage leaves payments unsettled (never declined); they settle once it is back', async () => {
    const { h, f } = await setup({ outageRate: 1 });
    try {
      const d = await h.enrollDevice('a');
      await offlineSales(h, d, [100, 200, 300]);
      const fwd = forwarder(h, f);
      assert.deepEqual(await fwd.runOnce(), {
        claimed: 3,
        approved: 0,
        declined: 0,
        unsettled: 3,
        refused: 0,
        deadlineExceptions: 0,
      });
      assert.ok((await h.storage.listOfflinePayments(null)).every((p) => p.settledAt === null && p.outcome === null));
      // (LOCAL_APPROVAL names a policy this server never issued: policy_breach is not the forwarder's.)
      const raised = (await h.storage.listExceptions(0, 100)).items.filter((x) => x.type !== 'policy_breach');
      assert.deepEqual(raised, []);
      assert.deepEqual(
        await fwd.runOnce(),
        { claimed: 0, approved: 0, declined: 0, unsettled: 0, refused: 0, deadlineExceptions: 0 },
        'still leased',
      );
      f.sim.service.configure({ outageRate: 0 });
      h.clock.advance(LEASE);
      assert.deepEqual(await fwd.runOnce(), {
        claimed: 3,
        approved: 3,
        declined: 0,
        unsettled: 0,
        refused: 0,
        deadlineExceptions: 0,
      });
      await assertForwardedExactlyOnce(h.storage, f);
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('an unknown outcome not found by key holds back the device, not others; it is sent again with the same key', async () => {
    const { h, f } = await setup();
    try {
      const a = await h.enrollDevice('a');
      const b = await h.enrollDevice('b');
      const aOps = await offlineSales(h, a, [100, 200]);
      await offlineSales(h, b, [300]);
      // The first authorization of `a` times out before reaching the processor, and the lookup finds nothing.
      let failFirst = true;
      const processor: ForwarderOptions['processor'] = {
        authorize: async (key, request, timeoutMs) => {
          if (failFirst && request.reference === aOps[0]) {
            failFirst = false;
            throw new ProcessorOutcomeUnknownError('timeout', 'simulated timeout');
          }
          return f.client.authorize(key, request, timeoutMs);
        },
        findByKey: (key, timeoutMs) => f.client.findByKey(key, timeoutMs),
      };
      const fwd = forwarder(h, f, { processor });
      assert.deepEqual(await fwd.runOnce(), {
        claimed: 3,
        approved: 1,
        declined: 0,
        unsettled: 2,
        refused: 0,
        deadlineExceptions: 0,
      });
      const settled = (await h.storage.listOfflinePayments(null)).filter((p) => p.settledAt !== null);
      assert.deepEqual(
        settled.map((p) => p.device),
        [b.id],
      );
      h.clock.advance(LEASE);
      assert.deepEqual(await fwd.runOnce(), {
        claimed: 2,
        approved: 2,
        declined: 0,
        unsettled: 0,
        refused: 0,
        deadlineExceptions: 0,
      });
      await assertForwardedExactlyOnce(h.storage, f);
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('start() forwards on its own until stop()', async () => {
    const { h, f } = await setup();
    try {
      const d = await h.enrollDevice('a');
      await offlineSales(h, d, [100, 200]);
      const fwd = forwarder(h, f, { clock: systemClock });
      fwd.start(5);
      const deadline = Date.now() + 5_000;
      while ((await h.storage.listOfflinePayments(null)).some((p) => p.settledAt === null)) {
        assert.ok(Date.now() < deadline, 'settled within 5 s');
        await new Promise((r) => setTimeout(r, 10));
      }
      await fwd.stop();
      await assertForwardedExactlyOnce(h.storage, f);
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('a permanent refusal (idempotency_key_reused) stops that payment with a payment_refused alarm; the next goes on', async () => {
    const { h, f } = await setup();
    try {
      const d = await h.enrollDevice('a');
      const [first, second] = (await offlineSales(h, d, [1_000, 2_000])) as [string, string];
      // Someone used the payment's key with another request before us (e.g. another merchant): 422 forever.
      await f.client.authorize(idempotencyKeyOf({ opId: first, tenderIndex: 0 }), {
        merchant: UNPLACED_MERCHANT,
        amount: 999,
        currency: 'EUR',
        card: { token: 'tok_other_1', brand: 'visa', last4: '1111' },
        capture: true,
      });
      const events: ForwardEvent[] = [];
      const fwd = forwarder(h, f, { onEvent: (e) => events.push(e) });
      assert.deepEqual(await fwd.runOnce(), {
        claimed: 2,
        approved: 1,
        declined: 0,
        unsettled: 0,
        refused: 1,
        deadlineExceptions: 0,
      });
      assert.deepEqual(
        events.map((e) => [e.kind, 'opId' in e ? e.opId : null]),
        [
          ['refused', first],
          ['settled', second],
        ],
      );
      // (LOCAL_APPROVAL names a policy this server never issued: policy_breach is not the forwarder's.)
      const [x, ...others] = (await h.storage.listExceptions(0, 100)).items.filter((x) => x.type !== 'policy_breach');
      assert.deepEqual(others, []);
      assert.deepEqual(
        [x?.type, x?.severity, x?.opId, x?.detail.code, x?.detail.status, x?.detail.field],
        ['payment_refused', 'alarm', first, 'idempotency_key_reused', 422, 'amount'],
      );
      const ledger = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type.startsWith('payment.'));
      assert.deepEqual(
        ledger.map((e) => [e.type, e.opId]),
        [['payment.settled', second]],
        'a refusal is not a decline',
      );
      h.clock.advance(100 * LEASE);
      assert.equal((await fwd.runOnce()).claimed, 0, 'never sent again');
      assert.equal((await f.client.stats()).sinceStart.keyReused, 1);
    } finally {
      await h.close();
      await f.close();
    }
  });

  it("a wrong API key (401) is not the payment's fault: backed off, never refused; settles once the key is right", async () => {
    const { h, f } = await setup();
    try {
      const d = await h.enrollDevice('a');
      await offlineSales(h, d, [100]);
      const wrongKey = new ProcessorClient(f.sim.url, { apiKey: 'not-the-key', timeoutMs: 2_000 });
      const summary = await forwarder(h, f, { processor: wrongKey }).runOnce();
      assert.deepEqual([summary.unsettled, summary.refused], [1, 0]);
      const [p] = await h.storage.listOfflinePayments(null);
      assert.deepEqual([p?.attempts, p?.refusedAt], [1, null]);
      assert.match(p?.lastError ?? '', /401 unauthorized/);
      assert.deepEqual(
        (await h.storage.listExceptions(0, 10)).items.filter((x) => x.type !== 'policy_breach'),
        [],
      );
      h.clock.advance(LEASE);
      assert.equal((await forwarder(h, f).runOnce()).approved, 1);
      await assertForwardedExactlyOnce(h.storage, f);
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('backoff: each failure waits longer (half the base plus jitter); no calls while waiting; seq order kept', async () => {
    const { h, f } = await setup({ outageRate: 1 });
    try {
      const d = await h.enrollDevice('a');
      const [first] = (await offlineSales(h, d, [100, 200])) as [string, string];
      let calls = 0;
      const processor: ForwarderOptions['processor'] = {
        authorize: (key, request, timeoutMs) => {
          calls++;
          return f.client.authorize(key, request, timeoutMs);
        },
        findByKey: (key, timeoutMs) => f.client.findByKey(key, timeoutMs),
      };
      const schedule = [5, 15, 30];
      const fwd = forwarder(h, f, { processor, random: new SeededRandom(1), backoffSeconds: schedule });
      const waits: number[] = [];
      for (let failure = 1; failure <= 4; failure++) {
        const before = calls;
        const summary = await fwd.runOnce();
        // The later payment may still be under this forwarder's claim from a round before; it is never sent.
        assert.ok(summary.claimed >= 1 && summary.unsettled === summary.claimed, JSON.stringify(summary));
        assert.equal(calls - before, 1, 'only the first is sent');
        const [p, later] = await h.storage.listOfflinePayments(d.id);
        assert.equal(p?.opId, first);
        assert.equal(p?.attempts, failure);
        assert.equal(later?.attempts, 0, 'the later payment waited; it was not sent');
        const wait = (p?.nextAttemptAt ?? 0) - h.clock.now();
        const base = (schedule[Math.min(failure, schedule.length) - 1] ?? 0) * 1000;
        assert.ok(wait >= base / 2 && wait <= base, `failure ${failure}: waits ${wait} ms, base ${base}`);
        waits.push(wait);
        h.clock.advance(wait - 1);
        assert.equal((await fwd.runOnce()).claimed, 0, 'not due yet');
        assert.equal(calls - before, 1, 'no call while waiting');
        h.clock.advance(1);
      }
      assert.ok((waits[1] ?? 0) > (waits[0] ?? 0) && (waits[2] ?? 0) > (waits[1] ?? 0), `growing: ${waits.join(', ')}`);
      f.sim.service.configure({ outageRate: 0 });
      assert.equal((await fwd.runOnce()).approved, 2);
      await assertForwardedExactlyOnce(h.storage, f);
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('a failing deadline sweep is reported and does not stop forwarding', async () => {
    const { h, f } = await setup();
    try {
      const d = await h.enrollDevice('a');
      await offlineSales(h, d, [100]);
      // The real storage, but its deadline query fails (private fields: methods are bound to the target).
      const storage = new Proxy(h.storage, {
        get: (target, property) => {
          if (property === 'listDeadlineCandidates') return () => Promise.reject(new Error('disk on fire'));
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const events: ForwardEvent[] = [];
      const summary = await forwarder(h, f, { storage, onEvent: (e) => events.push(e) }).runOnce();
      assert.deepEqual([summary.approved, summary.deadlineExceptions], [1, 0]);
      assert.deepEqual(events[0], { kind: 'round_failed', error: 'deadline sweep: Error: disk on fire' });
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('deadline: a warning at 75 % of it and an alarm when missed, each once, while the processor is down', async () => {
    const { h, f } = await setup({ outageRate: 1 });
    try {
      const d = await h.enrollDevice('a');
      const [op] = (await offlineSales(h, d, [100])) as [string];
      const fwd = forwarder(h, f, { deadlineHours: 24 });
      const sweep = async (at: number) => {
        h.clock.set(at);
        return (await fwd.runOnce()).deadlineExceptions;
      };
      const t0 = h.clock.now();
      assert.equal(await sweep(t0 + 18 * HOUR - 1), 0);
      assert.equal(await sweep(t0 + 18 * HOUR), 1);
      assert.equal(await sweep(t0 + 18 * HOUR + 1), 0, 'once');
      assert.equal(await sweep(t0 + 24 * HOUR - 1), 0);
      assert.equal(await sweep(t0 + 24 * HOUR), 1);
      assert.equal(await sweep(t0 + 48 * HOUR), 0);
      const xs = (await h.storage.listExceptions(0, 10)).items.filter((x) => x.type !== 'policy_breach');
      assert.deepEqual(
        xs.map((x) => [x.type, x.severity, x.opId, x.detail.deadlineAt]),
        [
          ['forwarding_deadline', 'warning', op, t0 + 24 * HOUR],
          ['forwarding_deadline', 'alarm', op, t0 + 24 * HOUR],
        ],
      );
      assert.match(xs[1]?.message ?? '', /missed its forwarding deadline/);
    } finally {
      await h.close();
      await f.close();
    }
  });
});
