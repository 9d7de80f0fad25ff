/**
 * SimNetwork in front of a real HoldfastService on in-memory SQLite:
 * latency, partitions, lost requests, answers lost after the server
 * committed (the network that lies), error mapping identical to HTTP, the
 * JSON round trip, settle(), and the counters.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as realDelay } from 'node:timers/promises';
import { type Random, SeededRandom } from '@holdfast/domain';
import {
  type AuthorizeRequest,
  type Batch,
  batchMessage,
  ChainBuilder,
  type EnrollRequest,
  enrollmentMessage,
  type FeedRequest,
  generateDeviceKeys,
  type IngestResponse,
  importPrivateKey,
  type LoyaltyRequest,
  type Op,
  type OpQuery,
  type PolicyRequest,
  policyRequestMessage,
  queryMessage,
  signMessage,
  type WireError,
} from '@holdfast/protocol';
import { buildApp, HoldfastService, newEnrollmentToken, SqliteStorage } from '@holdfast/server';
import { type Transport, TransportError, type TransportResult } from '@holdfast/terminal';
import { storedPart } from './check/stored-part.js';
import { type FaultRates, SimNetwork } from './sim-network.js';
import { VirtualClock } from './virtual-clock.js';

const T0 = Date.UTC(2026, 10, 21, 18, 0, 0);
const OPERATOR_TOKEN = 'sim-network-test-operator-token';

/** A service that records what it was given and returned, and can be made slow or broken. */
class SpyService extends HoldfastService {
  readonly received: unknown[] = [];
  readonly answered: IngestResponse[] = [];
  /** Real milliseconds each ingest waits before working (an async server). */
  delayMs = 0;
  /** The next ingest throws this (an unexpected failure: a bug, a full disk). */
  failNext: Error | null = null;

  override async ingest(body: unknown): Promise<IngestResponse> {
    this.received.push(body);
    if (this.delayMs > 0) await realDelay(this.delayMs);
    const response = await super.ingest(body);
    this.answered.push(response);
    return response;
  }

  // The HTTP layer verifies first (rate limits are charged after the signature) and then applies:
  // the failure is injected where both paths apply a batch.
  override async ingestVerified(batch: Parameters<HoldfastService['ingestVerified']>[0]): Promise<IngestResponse> {
    const failure = this.failNext;
    if (failure) {
      this.failNext = null;
      throw failure;
    }
    return super.ingestVerified(batch);
  }
}

/** A device enrolled in the back office, building its chain by hand (one op per batch). */
interface Device {
  id: string;
  /** The next op of the chain (a shift first, then sales) in a signed batch of its own. */
  next(): { op: Op; batch: Batch };
  /** A batch of `ops` signed with another key. */
  forged(ops: Op[]): Batch;
}

interface Setup {
  clock: VirtualClock;
  storage: SqliteStorage;
  service: SpyService;
  network: SimNetwork;
  /** Runs virtual time forward by `ms`, settling the network after each event. */
  run(ms: number): Promise<void>;
  enroll(label: string): Promise<Device>;
}

const openStores: SqliteStorage[] = [];
after(async () => {
  for (const s of openStores) await s.close();
});

async function setup(
  options: { latencyMs?: readonly [number, number]; faults?: (now: number) => FaultRates; seed?: number } = {},
): Promise<Setup> {
  const root = new SeededRandom(options.seed ?? 1);
  const clock = new VirtualClock(T0);
  const storage = new SqliteStorage({ path: ':memory:' });
  openStores.push(storage);
  await storage.migrate();
  const service = new SpyService({ storage, clock, random: root.fork('server') });
  const network = new SimNetwork({
    clock,
    random: root.fork('network'),
    service,
    ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const idRandom: Random = root.fork('ids');
  return {
    clock,
    storage,
    service,
    network,
    run: (ms) => clock.runUntil(clock.now() + ms, () => network.settle()),
    async enroll(label) {
      const { token } = await service.createEnrollmentToken({ label });
      const keys = generateDeviceKeys();
      const key = importPrivateKey(keys.privateKey);
      const res = await service.enroll({
        token,
        publicKey: keys.publicKey,
        sig: signMessage(enrollmentMessage(token, keys.publicKey), key),
        label,
      });
      const chain = new ChainBuilder(res.deviceId, key, {
        now: () => clock.now(),
        randomBytes: (n) => idRandom.bytes(n),
      });
      const otherKey = importPrivateKey(generateDeviceKeys().privateKey);
      let shift: string | null = null;
      return {
        id: res.deviceId,
        next() {
          const op: Op = shift
            ? chain.next('sale.recorded', {
                shift,
                currency: 'EUR',
                lines: [{ sku: 'BEER-05', name: 'Beer 0.5l', qty: 1, unitPrice: 650 }],
                total: 650,
                tenders: [{ type: 'cash', amount: 650, tendered: 1000 }],
              })
            : chain.next('shift.opened', { clerk: label, currency: 'EUR', openingFloat: 10_000 });
          shift ??= op.id;
          return { op, batch: chain.batch([op]) };
        },
        forged(ops) {
          const last = ops.at(-1) as Op;
          return {
            device: res.deviceId,
            ops,
            sig: signMessage(
              batchMessage({ device: res.deviceId, ops, sentAt: clock.now(), latestSeq: last.seq }),
              otherKey,
            ),
            sentAt: clock.now(),
            latestSeq: last.seq,
          };
        },
      };
    },
  };
}

type Outcome<T> =
  | { state: 'pending' }
  | { state: 'answered'; at: number; result: TransportResult<T> }
  | { state: 'thrown'; at: number; error: unknown };

/** Watches a transport call without leaving a rejection unhandled; `at` is the virtual time it settled. */
function watch<T>(clock: VirtualClock, promise: Promise<TransportResult<T>>): { readonly current: Outcome<T> } {
  const box: { current: Outcome<T> } = { current: { state: 'pending' } };
  void promise.then(
    (result) => {
      box.current = { state: 'answered', at: clock.now(), result };
    },
    (error: unknown) => {
      box.current = { state: 'thrown', at: clock.now(), error };
    },
  );
  return box;
}

function answeredOk<T>(outcome: Outcome<T>): { at: number; body: T } {
  assert.equal(outcome.state, 'answered', `expected an answer, got ${JSON.stringify(outcome)}`);
  if (outcome.state !== 'answered' || !outcome.result.ok) {
    assert.fail(`expected a 2xx answer, got ${JSON.stringify(outcome)}`);
  }
  return { at: outcome.at, body: outcome.result.body };
}

function timedOut<T>(outcome: Outcome<T>): number {
  if (outcome.state !== 'thrown') assert.fail(`expected a timeout, got ${JSON.stringify(outcome)}`);
  assert.ok(outcome.error instanceof TransportError, 'a TransportError');
  assert.equal(outcome.error.code, 'timeout');
  return outcome.at;
}

async function storedCount(storage: SqliteStorage): Promise<{ ops: number; ledger: number }> {
  const summary = await storage.summary();
  return { ops: summary.opsAccepted + summary.opsRejected, ledger: summary.ledgerEvents };
}

describe('SimNetwork', () => {
  it('delivers each way after a latency drawn from the range', async () => {
    const net = await setup({ latencyMs: [40, 90] });
    const transport = net.network.transport('upper');
    // Pings: the server's answer carries the virtual time it handled the request.
    const pings = Array.from({ length: 60 }, () => watch(net.clock, transport.ping(10_000)));
    const sentAt = net.clock.now();
    await net.run(1_000);
    const there: number[] = [];
    const back: number[] = [];
    for (const ping of pings) {
      const { at, body } = answeredOk(ping.current);
      there.push(body.time - sentAt);
      back.push(at - body.time);
    }
    for (const ms of [...there, ...back]) assert.ok(ms >= 40 && ms <= 90, `latency ${ms} ms outside [40, 90]`);
    assert.ok(new Set(there).size > 10, 'latencies vary across the range');
    assert.ok(Math.min(...there, ...back) <= 50 && Math.max(...there, ...back) >= 80, 'both ends of the range occur');

    // A batch: the server stores the instant it arrived.
    const device = await net.enroll('lane-01');
    const { op, batch } = device.next();
    const sent = net.clock.now();
    const call = watch(net.clock, transport.sendBatch(batch, 10_000));
    await net.run(1_000);
    const { at, body } = answeredOk(call.current);
    assert.equal(body.results[0]?.status, 'accepted');
    const stored = await net.storage.getOp(op.id);
    assert.ok(stored);
    assert.ok(stored.receivedAt - sent >= 40 && stored.receivedAt - sent <= 90);
    assert.ok(at - stored.receivedAt >= 40 && at - stored.receivedAt <= 90);
    assert.equal(net.network.stats.timeouts, 0);
  });

  it('delivers at the same virtual instant with zero latency', async () => {
    const net = await setup({ latencyMs: [0, 0] });
    const call = watch(net.clock, net.network.transport('z').ping(1_000));
    await net.run(0);
    assert.equal(answeredOk(call.current).at, T0);
  });

  it('times out requests from a partitioned zone while another zone works, and recovers after it', async () => {
    const net = await setup({ latencyMs: [10, 10] });
    const field = await net.enroll('field-01');
    const upper = await net.enroll('upper-01');
    net.network.partition('field', T0 + 1_000, T0 + 61_000);
    assert.equal(net.network.isUp('field', T0 + 999), true);
    assert.equal(net.network.isUp('field', T0 + 1_000), false);
    assert.equal(net.network.isUp('field', T0 + 60_999), false);
    assert.equal(net.network.isUp('field', T0 + 61_000), true, 'the end of a partition is exclusive');
    assert.equal(net.network.isUp('upper', T0 + 30_000), true);

    await net.run(1_000);
    const f = field.next();
    const u = upper.next();
    const sentAt = net.clock.now();
    const fieldCall = watch(net.clock, net.network.transport('field').sendBatch(f.batch, 2_000));
    const upperCall = watch(net.clock, net.network.transport('upper').sendBatch(u.batch, 2_000));
    await net.run(5_000);

    assert.equal(timedOut(fieldCall.current), sentAt + 2_000, 'the client gives up at its own timeout');
    assert.equal(await net.storage.getOp(f.op.id), null, 'the partitioned request never reached the server');
    assert.equal((await net.storage.getDevice(field.id))?.lastSeenAt, null);
    const ok = answeredOk(upperCall.current);
    assert.equal(ok.at, sentAt + 20);
    assert.equal(ok.body.results[0]?.status, 'accepted');
    assert.equal(net.network.stats.partitioned, 1);

    // After the partition the very same batch goes through.
    await net.clock.runUntil(T0 + 61_000, () => net.network.settle());
    const retry = watch(net.clock, net.network.transport('field').sendBatch(f.batch, 2_000));
    await net.run(1_000);
    assert.equal(answeredOk(retry.current).body.results[0]?.status, 'accepted');
    assert.ok(await net.storage.getOp(f.op.id));
  });

  it('drops the answer when a partition starts while the request is in flight (server committed)', async () => {
    const net = await setup({ latencyMs: [100, 100] });
    const device = await net.enroll('field-01');
    net.network.partition('field', T0 + 150, T0 + 10_000);
    const { op, batch } = device.next();
    const call = watch(net.clock, net.network.transport('field').sendBatch(batch, 500));
    await net.run(1_000);
    assert.equal(timedOut(call.current), T0 + 500);
    const stored = await net.storage.getOp(op.id);
    assert.equal(stored?.result.status, 'accepted', 'the request arrived at T0+100, before the partition');
    assert.deepEqual(
      { delivered: net.network.stats.delivered, partitioned: net.network.stats.partitioned },
      { delivered: 1, partitioned: 1 },
    );
  });

  it('loses requests before the server: it never saw them and nothing changed', async () => {
    const net = await setup({ latencyMs: [10, 50], faults: () => ({ requestLoss: 1, responseLoss: 0 }) });
    const device = await net.enroll('lane-01');
    const before = await storedCount(net.storage);
    const { op, batch } = device.next();
    const call = watch(net.clock, net.network.transport('z').sendBatch(batch, 1_000));
    await net.run(2_000);
    assert.equal(timedOut(call.current), T0 + 1_000);
    assert.equal(await net.storage.getOp(op.id), null);
    assert.deepEqual(await storedCount(net.storage), before);
    const stored = await net.storage.getDevice(device.id);
    assert.equal(stored?.highWater, 0);
    assert.equal(stored?.lastSeenAt, null, 'the server never heard from the device');
    assert.equal(net.service.received.length, 0);
    assert.equal(net.service.counters.batches, 0);
    assert.equal(net.network.stats.requestsLost, 1);
    assert.equal(net.network.stats.delivered, 0);
  });

  it('lies: the server commits, the answer is lost, the client times out; the resend is a duplicate', async () => {
    let faults: FaultRates = { requestLoss: 0, responseLoss: 1 };
    const net = await setup({ latencyMs: [10, 50], faults: () => faults });
    const device = await net.enroll('lane-01');
    const { op, batch } = device.next();
    const call = watch(net.clock, net.network.transport('z').sendBatch(batch, 1_000));
    await net.run(2_000);

    assert.equal(timedOut(call.current), T0 + 1_000, 'the client sees the same timeout as a lost request');
    const stored = await net.storage.getOp(op.id);
    assert.ok(stored, 'but the server committed the op');
    assert.equal(stored.result.status, 'accepted');
    assert.equal(stored.op.hash, op.hash);
    assert.equal((await net.storage.getDevice(device.id))?.highWater, 1);
    assert.deepEqual(await storedCount(net.storage), { ops: 1, ledger: 1 });
    assert.equal(net.network.stats.responsesLost, 1);
    assert.equal(net.network.stats.delivered, 1);

    // The network heals; the client resends the same bytes and learns the original outcome.
    faults = { requestLoss: 0, responseLoss: 0 };
    const resend = watch(net.clock, net.network.transport('z').sendBatch(batch, 1_000));
    await net.run(2_000);
    const result = answeredOk(resend.current).body.results[0];
    assert.equal(result?.status, 'duplicate');
    assert.deepEqual(result.status === 'duplicate' ? storedPart(result) : null, stored.result);
    assert.deepEqual(await storedCount(net.storage), { ops: 1, ledger: 1 }, 'nothing applied twice');
  });

  it('drops an answer that arrives after the client gave up (late, not lost)', async () => {
    const net = await setup({ latencyMs: [300, 300] });
    const device = await net.enroll('lane-01');
    const { op, batch } = device.next();
    const call = watch(net.clock, net.network.transport('z').sendBatch(batch, 500));
    await net.run(2_000);
    assert.equal(timedOut(call.current), T0 + 500);
    assert.equal((await net.storage.getOp(op.id))?.result.status, 'accepted');
    const { stats } = net.network;
    assert.deepEqual([stats.delivered, stats.timeouts, stats.responsesLost], [1, 1, 0]);
    assert.equal(net.clock.pendingTimers, 0, 'the late answer does not linger');
  });

  it('answers server errors as { ok: false, status, error } exactly as the HTTP layer does', async () => {
    const net = await setup({ latencyMs: [5, 5] });
    const app = buildApp({ service: net.service, operatorToken: OPERATOR_TOKEN });
    try {
      const device = await net.enroll('lane-01');
      const revoked = await net.enroll('lane-02');
      const { op, batch } = device.next();
      const r = revoked.next();
      await net.storage.revokeDevice(revoked.id, 'stolen', net.clock.now());
      const keys = generateDeviceKeys();
      const key = importPrivateKey(keys.privateKey);
      const stranger = new ChainBuilder('0192f1e4-0000-7000-8000-000000000000', key, { now: () => net.clock.now() });
      const strangerOp = stranger.next('shift.opened', { clerk: 'x', currency: 'EUR', openingFloat: 0 });
      const tampered = structuredClone(batch);
      (tampered.ops[0] as Op).body.openingFloat = 1;
      const token = newEnrollmentToken();
      const at = net.clock.now();

      const cases: { name: string; route: keyof Transport; url: string; body: unknown; code: WireError['code'] }[] = [
        { name: 'schema', route: 'sendBatch', url: '/v1/batches', body: { device: 'nope' }, code: 'invalid_request' },
        {
          name: 'unknown device',
          route: 'sendBatch',
          url: '/v1/batches',
          body: stranger.batch([strangerOp]),
          code: 'unknown_device',
        },
        {
          name: 'bad signature',
          route: 'sendBatch',
          url: '/v1/batches',
          body: device.forged([op]),
          code: 'unknown_device',
        },
        { name: 'hash', route: 'sendBatch', url: '/v1/batches', body: tampered, code: 'hash_mismatch' },
        { name: 'revoked', route: 'sendBatch', url: '/v1/batches', body: r.batch, code: 'device_revoked' },
        {
          name: 'unknown token',
          route: 'enroll',
          url: '/v1/enroll',
          body: { token, publicKey: keys.publicKey, sig: signMessage(enrollmentMessage(token, keys.publicKey), key) },
          code: 'token_invalid',
        },
        {
          name: 'query signed by another key',
          route: 'queryOps',
          url: '/v1/ops/query',
          body: { device: device.id, ids: [op.id], at, sig: signMessage(queryMessage(device.id, [op.id], at), key) },
          code: 'unknown_device',
        },
        {
          name: 'policy request signed by another key',
          route: 'fetchPolicy',
          url: '/v1/policy',
          body: { device: device.id, at, sig: signMessage(policyRequestMessage(device.id, at), key) },
          code: 'unknown_device',
        },
        {
          name: 'authorize with an unknown kind',
          route: 'authorize',
          url: '/v1/authorize',
          body: { device: device.id, opId: op.id, request: { kind: 'lottery' }, at, sig: 'x' },
          code: 'invalid_request',
        },
      ];
      const transport = net.network.transport('z');
      // The bodies are deliberately wrong, so they go out untyped, as a broken client would send them.
      const send = (route: keyof Transport, body: unknown): Promise<TransportResult<unknown>> => {
        switch (route) {
          case 'sendBatch':
            return transport.sendBatch(body as Batch, 1_000);
          case 'enroll':
            return transport.enroll(body as EnrollRequest, 1_000);
          case 'queryOps':
            return transport.queryOps(body as OpQuery, 1_000);
          case 'fetchPolicy':
            return transport.fetchPolicy(body as PolicyRequest, 1_000);
          case 'fetchFeed':
            return transport.fetchFeed(body as FeedRequest, 1_000);
          case 'ping':
            return transport.ping(1_000);
          case 'authorize':
            if (!transport.authorize) throw new Error('the simulated network routes POST /v1/authorize');
            return transport.authorize(body as AuthorizeRequest, 1_000);
          case 'rotateKey':
            throw new Error('POST /v1/devices/rotate-key is not routed by the simulated network');
          case 'fetchShiftReport':
            throw new Error('POST /v1/shifts/z-report is not routed by the simulated network');
          case 'loyalty':
            if (!transport.loyalty) throw new Error('the simulated network routes POST /v1/loyalty');
            return transport.loyalty(body as LoyaltyRequest, 1_000);
        }
      };
      for (const c of cases) {
        const call = watch(net.clock, send(c.route, c.body));
        await net.run(100);
        assert.equal(call.current.state, 'answered', `${c.name}: an error answer resolves, it does not throw`);
        if (call.current.state !== 'answered') continue;
        const sim = call.current.result;
        const http = await app.inject({ method: 'POST', url: c.url, payload: c.body as object });
        assert.equal(sim.ok, false, c.name);
        assert.equal(sim.status, http.statusCode, `${c.name}: same status as HTTP`);
        assert.deepEqual(sim.ok ? null : sim.error, http.json(), `${c.name}: same wire error as HTTP`);
        assert.equal(sim.ok ? null : sim.error.code, c.code, c.name);
      }
      assert.deepEqual(await storedCount(net.storage), { ops: 0, ledger: 0 }, 'nothing was applied');
      assert.equal(net.network.stats.serverErrors, 0, 'client errors are not server errors');
      assert.equal(net.network.stats.timeouts, 0);

      // An unexpected failure becomes a retryable 500 (as over HTTP) and is kept for the report.
      const boom = new Error('disk on fire');
      net.service.failNext = boom;
      const call = watch(net.clock, net.network.transport('z').sendBatch(batch, 1_000));
      await net.run(100);
      net.service.failNext = new Error('disk on fire');
      const http = await app.inject({ method: 'POST', url: '/v1/batches', payload: batch });
      const outcome = call.current;
      assert.equal(outcome.state, 'answered');
      assert.deepEqual(outcome.state === 'answered' ? outcome.result : null, {
        ok: false,
        status: http.statusCode,
        error: http.json(),
      });
      assert.equal(http.statusCode, 500);
      assert.equal(net.network.stats.serverErrors, 1);
      assert.deepEqual(net.network.internalErrors, [boom]);
    } finally {
      await app.close();
    }
  });

  it('JSON round-trips messages: the server gets what was sent, whatever the sender does afterwards', async () => {
    const net = await setup({ latencyMs: [20, 20] });
    const device = await net.enroll('lane-01');
    const { op, batch } = device.next();
    const original = structuredClone(batch);
    const call = watch(net.clock, net.network.transport('z').sendBatch(batch, 1_000));
    // The sender reuses its objects before the request has even left.
    (batch.ops[0] as Op).body.openingFloat = 1;
    batch.sig = 'scribbled';
    batch.ops.push(op);
    await net.run(100);

    const { body } = answeredOk(call.current);
    assert.equal(body.results.length, 1);
    assert.equal(body.results[0]?.status, 'accepted');
    assert.deepEqual(net.service.received, [original]);
    assert.notEqual(net.service.received[0], batch, 'the server never holds the sender’s object');
    assert.deepEqual((await net.storage.getOp(op.id))?.op, original.ops[0]);
    // Nor does the client hold the server's.
    assert.deepEqual(body, net.service.answered[0]);
    assert.notEqual(body, net.service.answered[0]);
    assert.notEqual(body.results, net.service.answered[0]?.results);
  });

  it('settle() waits for server work still in flight, and the answer timer it arms', async () => {
    const net = await setup({ latencyMs: [10, 10] });
    net.service.delayMs = 30; // real milliseconds: the server is slow in wall time, not virtual time
    const device = await net.enroll('lane-01');
    const { op, batch } = device.next();
    const call = watch(net.clock, net.network.transport('z').sendBatch(batch, 1_000));
    await net.clock.runUntil(T0 + 10, async () => {}); // the request arrives; nothing settled
    assert.equal(net.network.stats.delivered, 1);
    assert.equal(await net.storage.getOp(op.id), null, 'the server is still working');
    const timeoutOnly = net.clock.pendingTimers;

    await net.network.settle();
    assert.ok(await net.storage.getOp(op.id), 'settle() returned after the server committed');
    assert.equal(net.clock.pendingTimers, timeoutOnly + 1, 'and after it armed the answer');
    assert.equal(net.clock.nextAt(), T0 + 20);
    assert.equal(call.current.state, 'pending');

    await net.run(100);
    assert.equal(answeredOk(call.current).at, T0 + 20, 'a slow server costs no virtual time');
  });

  it('counts every case in stats', async () => {
    let faults: FaultRates = { requestLoss: 0, responseLoss: 0 };
    const net = await setup({ latencyMs: [10, 10], faults: () => faults });
    const device = await net.enroll('lane-01');
    const transport = net.network.transport('z');
    const send = async (batch: unknown) => {
      const call = watch(net.clock, transport.sendBatch(batch as Batch, 100));
      await net.run(1_000);
      return call.current;
    };
    const snapshot = () => ({ ...net.network.stats });

    answeredOk(await send(device.next().batch));
    assert.deepEqual(snapshot(), { ...zero(), requests: 1, delivered: 1 });

    faults = { requestLoss: 1, responseLoss: 0 };
    timedOut(await send(device.next().batch));
    assert.deepEqual(snapshot(), { ...zero(), requests: 2, delivered: 1, requestsLost: 1, timeouts: 1 });

    faults = { requestLoss: 0, responseLoss: 1 };
    const lied = device.next();
    timedOut(await send(lied.batch)); // seq 2 was lost above: this one is answered seq_gap, and the answer lost
    assert.deepEqual(snapshot(), {
      ...zero(),
      requests: 3,
      delivered: 2,
      requestsLost: 1,
      responsesLost: 1,
      timeouts: 2,
    });

    faults = { requestLoss: 0, responseLoss: 0 };
    net.network.partition('z', net.clock.now(), net.clock.now() + 50);
    timedOut(await send(device.next().batch));
    assert.deepEqual(snapshot(), {
      ...zero(),
      requests: 4,
      delivered: 2,
      requestsLost: 1,
      responsesLost: 1,
      partitioned: 1,
      timeouts: 3,
    });

    const rejected = await send({ device: 'nope' });
    assert.equal(rejected.state === 'answered' && !rejected.result.ok && rejected.result.status, 400);
    net.service.failNext = new Error('bug');
    const failed = await send(device.next().batch);
    assert.equal(failed.state === 'answered' && !failed.result.ok && failed.result.status, 500);
    assert.deepEqual(snapshot(), {
      requests: 6,
      delivered: 4,
      requestsLost: 1,
      responsesLost: 1,
      partitioned: 1,
      timeouts: 3,
      serverErrors: 1,
    });
  });

  it('replays the same faults and timings for the same seed, and others for another seed', async () => {
    const trace = async (seed: number) => {
      const net = await setup({ seed, latencyMs: [10, 500], faults: () => ({ requestLoss: 0.3, responseLoss: 0.3 }) });
      const transport = net.network.transport('z');
      const calls = Array.from({ length: 40 }, () => watch(net.clock, transport.ping(800)));
      await net.run(2_000);
      return {
        outcomes: calls.map((c) => `${c.current.state}@${c.current.state === 'pending' ? '' : c.current.at}`),
        stats: { ...net.network.stats },
      };
    };
    const a = await trace(5);
    assert.deepEqual(await trace(5), a);
    assert.notDeepEqual(await trace(6), a);
    assert.ok(a.stats.requestsLost > 0 && a.stats.responsesLost > 0 && a.stats.delivered > 0);
  });
});

function zero() {
  return { requests: 0, delivered: 0, requestsLost: 0, responsesLost: 0, partitioned: 0, timeouts: 0, serverErrors: 0 };
}
