/**
 * FakeServer parity: the terminal's in-memory FakeServer is a second
 * implementation of ingest, so one scenario set runs against it and against
 * the real HoldfastService (in-memory SQLite, reached through the
 * simulator's in-process transport). Each scenario asserts what a terminal
 * can see — result statuses, reasons, stored results, error codes and
 * statuses — never message wording. Where they disagree, the real server is
 * the truth and FakeServer is fixed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { ManualClock } from '@holdfast/domain/testing';
import {
  type Batch,
  ChainBuilder,
  type EnrollResponse,
  enrollmentMessage,
  feedRequestMessage,
  generateDeviceKeys,
  type IngestResponse,
  importPrivateKey,
  type Op,
  type OpResult,
  queryMessage,
  signMessage,
} from '@holdfast/protocol';
import { HoldfastService, SqliteStorage } from '@holdfast/server';
import type { Transport, TransportResult } from '@holdfast/terminal';
import { FakeServer } from '@holdfast/terminal/testing';
import { inProcessTransport } from './in-process-transport.js';

/** A server under test, as the scenarios drive it. */
interface IngestServer {
  transport: Transport;
  clock: ManualClock;
  /** A one-time enrollment token. */
  createToken(label: string): Promise<string>;
  /** Revokes a device, as an operator would. */
  revoke(deviceId: string): Promise<void>;
  close(): Promise<void>;
}

type ServerFactory = () => Promise<IngestServer>;

async function fakeServer(): Promise<IngestServer> {
  const clock = new ManualClock();
  const server = new FakeServer({ clock, random: new SeededRandom(1).fork('server') });
  return {
    transport: server,
    clock,
    createToken: async (label) => server.createToken(label),
    revoke: async (deviceId) => server.revoke(deviceId),
    close: async () => {},
  };
}

async function realServer(): Promise<IngestServer> {
  const clock = new ManualClock();
  const storage = new SqliteStorage({ path: ':memory:' });
  await storage.migrate();
  const service = new HoldfastService({ storage, clock, random: new SeededRandom(1).fork('server') });
  return {
    transport: inProcessTransport(service),
    clock,
    createToken: async (label) => (await service.createEnrollmentToken({ label })).token,
    revoke: async (deviceId) => {
      await storage.revokeDevice(deviceId, 'revoked by operator', clock.now());
    },
    close: () => storage.close(),
  };
}

/** An enrolled device with its chain. */
interface Device {
  id: string;
  chain: ChainBuilder;
  /** A signed batch of `ops` as the device would send it. */
  batch(ops: readonly Op[]): Batch;
  /** Ops the device never sent, built on a fresh chain from seq 0 (same key). */
  freshChain(): ChainBuilder;
  key: ReturnType<typeof importPrivateKey>;
}

async function enroll(server: IngestServer, label = 'till-1'): Promise<Device> {
  const token = await server.createToken(label);
  const keys = generateDeviceKeys();
  const key = importPrivateKey(keys.privateKey);
  const res = await server.transport.enroll(
    { token, publicKey: keys.publicKey, sig: signMessage(enrollmentMessage(token, keys.publicKey), key), label },
    1000,
  );
  const body = okBody(res);
  const ids = new SeededRandom(7).fork(`ids-${label}`);
  const builder = () =>
    new ChainBuilder(body.deviceId, key, { now: () => server.clock.now(), randomBytes: (n) => ids.bytes(n) });
  const chain = builder();
  return { id: body.deviceId, chain, key, batch: (ops) => chain.batch(ops), freshChain: builder };
}

function okBody<T>(res: TransportResult<T>): T {
  if (!res.ok) assert.fail(`expected 2xx, got ${res.status} ${res.error.code}: ${res.error.message}`);
  return res.body;
}

function errorOf<T>(res: TransportResult<T>): { status: number; code: string } {
  if (res.ok) assert.fail('expected an error answer');
  return { status: res.status, code: res.error.code };
}

const shiftOpened = { clerk: 'ana', currency: 'EUR', openingFloat: 10_000 };

/** A valid cash movement in shift `shift`. */
function cashMoved(shift: string, amount = 500): Record<string, unknown> {
  return { shift, currency: 'EUR', direction: 'in', reason: 'float_in', amount };
}

async function send(server: IngestServer, device: Device, ops: readonly Op[]): Promise<IngestResponse> {
  return okBody(await server.transport.sendBatch(device.batch(ops), 1000, 'live'));
}

/** What a result stored for an op looks like when the server answers a resend with it: the first answer itself. */
function stored(result: OpResult): Record<string, unknown> {
  return { ...result };
}

function ingestScenarios(name: string, make: ServerFactory): void {
  describe(`ingest scenarios: ${name}`, () => {
    const withServer = (fn: (server: IngestServer) => Promise<void>) => async () => {
      const server = await make();
      try {
        await fn(server);
      } finally {
        await server.close();
      }
    };

    it(
      'enrollment: the same token and key get the same device; another key is refused; an unknown token too',
      withServer(async (server) => {
        const token = await server.createToken('till-1');
        const keys = generateDeviceKeys();
        const key = importPrivateKey(keys.privateKey);
        const request = {
          token,
          publicKey: keys.publicKey,
          sig: signMessage(enrollmentMessage(token, keys.publicKey), key),
          label: 'till-1',
        };
        const first = okBody<EnrollResponse>(await server.transport.enroll(request, 1000));
        const again = okBody<EnrollResponse>(await server.transport.enroll(request, 1000));
        assert.equal(again.deviceId, first.deviceId);
        const other = generateDeviceKeys();
        const otherKey = importPrivateKey(other.privateKey);
        const stolen = await server.transport.enroll(
          { token, publicKey: other.publicKey, sig: signMessage(enrollmentMessage(token, other.publicKey), otherKey) },
          1000,
        );
        assert.equal(errorOf(stolen).code, 'token_used');
        const unknownToken = 'x'.repeat(43);
        const unknown = await server.transport.enroll(
          {
            token: unknownToken,
            publicKey: other.publicKey,
            sig: signMessage(enrollmentMessage(unknownToken, other.publicKey), otherKey),
          },
          1000,
        );
        assert.equal(errorOf(unknown).code, 'token_invalid');
      }),
    );

    it(
      'accepted: new ops in order are accepted and raise the high-water mark',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        const ops = [
          open,
          d.chain.next('cash.moved', cashMoved(open.id)),
          d.chain.next('cash.moved', cashMoved(open.id)),
        ];
        const res = await send(server, d, ops);
        assert.deepEqual(
          res.results.map((r) => [r.id, r.seq, r.status]),
          ops.map((op) => [op.id, op.seq, 'accepted']),
        );
        assert.equal(res.highWater, 3);
        assert.equal(res.device, d.id);
      }),
    );

    it(
      'duplicate: a resend is answered duplicate, carrying the result stored the first time',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        const ops = [open, d.chain.next('cash.moved', cashMoved(open.id))];
        const first = await send(server, d, ops);
        server.clock.advance(5_000);
        const again = await send(server, d, ops);
        assert.deepEqual(
          again.results.map((r) => [r.id, r.seq, r.status]),
          ops.map((op) => [op.id, op.seq, 'duplicate']),
        );
        for (const [i, r] of again.results.entries()) {
          assert.ok(r.status === 'duplicate');
          assert.deepEqual(r.original, stored(first.results[i] as OpResult), 'the stored result, not a new one');
        }
        assert.equal(again.highWater, 2);
      }),
    );

    it(
      'conflict: an id already stored, sent with another hash',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        await send(server, d, [open]);
        const reused = d.chain.next('cash.moved', cashMoved(open.id), undefined, open.id);
        const res = await send(server, d, [reused]);
        assert.deepEqual(
          res.results.map((r) => [r.id, r.seq, r.status]),
          [[open.id, 2, 'conflict']],
        );
      }),
    );

    it(
      'fork: another op at a seq the server already holds',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        await send(server, d, [open]);
        const other = d.freshChain().next('shift.opened', { ...shiftOpened, clerk: 'bo' });
        const res = await send(server, d, [other]);
        assert.deepEqual(
          res.results.map((r) => [r.id, r.seq, r.status]),
          [[other.id, 1, 'fork']],
        );
        assert.equal(res.highWater, 1);
      }),
    );

    it(
      'seq_gap: an op past the next expected seq is rejected with the seq to send first',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        await send(server, d, [open]);
        d.chain.next('cash.moved', cashMoved(open.id));
        const third = d.chain.next('cash.moved', cashMoved(open.id));
        const res = await send(server, d, [third]);
        const [r] = res.results;
        assert.ok(r?.status === 'rejected');
        assert.equal(r.reason, 'seq_gap');
        assert.equal(r.expectedSeq, 2);
        assert.equal(res.highWater, 1);
      }),
    );

    it(
      'invalid body: rejected, but stored and counted in the chain; a resend gets the stored rejection',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        const bad = d.chain.next('cash.moved', cashMoved(open.id, -5));
        const res = await send(server, d, [open, bad]);
        const r = res.results[1];
        assert.ok(r?.status === 'rejected');
        assert.equal(r.reason, 'invalid_body');
        assert.equal(r.field, 'body.amount');
        assert.equal(res.highWater, 2, 'the chain moves past it');
        const again = await send(server, d, [bad]);
        const dup = again.results[0];
        assert.ok(dup?.status === 'duplicate');
        assert.deepEqual(dup.original, stored(r));
        const next = await send(server, d, [d.chain.next('cash.moved', cashMoved(open.id))]);
        assert.equal(next.results[0]?.status, 'accepted');
      }),
    );

    it(
      'ops query: stored ops with their seq, hash and result; unknown ids not found',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        const bad = d.chain.next('cash.moved', cashMoved(open.id, -5));
        const sent = await send(server, d, [open, bad]);
        const missing = d.freshChain().next('shift.opened', shiftOpened).id;
        const ids = [open.id, bad.id, missing];
        const at = server.clock.now();
        const res = okBody(
          await server.transport.queryOps(
            { device: d.id, ids, at, sig: signMessage(queryMessage(d.id, ids, at), d.key) },
            1000,
          ),
        );
        assert.equal(res.highWater, 2);
        assert.deepEqual(res.results, [
          { id: open.id, found: true, seq: 1, hash: open.hash, result: stored(sent.results[0] as OpResult) },
          { id: bad.id, found: true, seq: 2, hash: bad.hash, result: stored(sent.results[1] as OpResult) },
          { id: missing, found: false },
        ]);
      }),
    );

    it(
      'revoked device: batches and queries are refused with device_revoked',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        await send(server, d, [open]);
        await server.revoke(d.id);
        const batch = await server.transport.sendBatch(
          d.batch([d.chain.next('cash.moved', cashMoved(open.id))]),
          1000,
          'live',
        );
        const at = server.clock.now();
        const query = await server.transport.queryOps(
          { device: d.id, ids: [open.id], at, sig: signMessage(queryMessage(d.id, [open.id], at), d.key) },
          1000,
        );
        assert.deepEqual(errorOf(batch), { status: 403, code: 'device_revoked' });
        assert.deepEqual(errorOf(query), { status: 403, code: 'device_revoked' });
      }),
    );

    it(
      'refused batches: an unknown device or a bad signature (one answer), a broken chain',
      withServer(async (server) => {
        const d = await enroll(server);
        const other = await enroll(server, 'till-2');
        const open = d.chain.next('shift.opened', shiftOpened);
        const forged = { ...d.batch([open]), sig: other.batch([open]).sig };
        assert.equal(errorOf(await server.transport.sendBatch(forged, 1000, 'live')).code, 'unknown_device');
        const stranger = { ...d.batch([open]), device: '01940000-0000-7000-8000-0000000000ff' };
        const strangerOps = { ...stranger, ops: stranger.ops.map((op) => ({ ...op, device: stranger.device })) };
        assert.equal(errorOf(await server.transport.sendBatch(strangerOps, 1000, 'live')).code, 'unknown_device');
        const second = d.chain.next('cash.moved', cashMoved(open.id));
        const tampered = d.batch([open, { ...second, prev: open.prev }]);
        assert.equal(errorOf(await server.transport.sendBatch(tampered, 1000, 'live')).code, 'hash_mismatch');
        // Sealed properly, but linked to something other than the op before it.
        const unlinked = new ChainBuilder(d.id, d.key, { seq: 1, head: open.prev, now: () => server.clock.now() });
        const broken = d.batch([open, unlinked.next('cash.moved', cashMoved(open.id))]);
        assert.equal(errorOf(await server.transport.sendBatch(broken, 1000, 'live')).code, 'chain_broken');
        const twice = d.batch([open, { ...open, seq: 2 }]);
        assert.equal(errorOf(await server.transport.sendBatch(twice, 1000, 'live')).code, 'duplicate_in_batch');
        const gap = d.batch([open, d.chain.next('cash.moved', cashMoved(open.id))]);
        assert.equal(errorOf(await server.transport.sendBatch(gap, 1000, 'live')).code, 'seq_not_contiguous');
        const behind = d.chain.batch([open], 0);
        assert.deepEqual(errorOf(await server.transport.sendBatch(behind, 1000, 'live')), {
          status: 400,
          code: 'invalid_request',
        });
      }),
    );

    it(
      'fork: the next seq linked to something other than the op the server holds before it',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        await send(server, d, [open]);
        const elsewhere = new ChainBuilder(d.id, d.key, { seq: 1, head: open.prev, now: () => server.clock.now() });
        const op = elsewhere.next('cash.moved', cashMoved(open.id));
        const res = okBody(await server.transport.sendBatch(elsewhere.batch([op]), 1000, 'live'));
        assert.deepEqual(
          res.results.map((r) => [r.id, r.seq, r.status]),
          [[op.id, 2, 'fork']],
        );
        assert.equal(res.highWater, 1);
      }),
    );

    it(
      'unknown kind: rejected and stored like an invalid body',
      withServer(async (server) => {
        const d = await enroll(server);
        const op = d.chain.next('loyalty.points_added', { points: 5 });
        const res = await send(server, d, [op]);
        const r = res.results[0];
        assert.ok(r?.status === 'rejected');
        assert.equal(r.reason, 'unknown_kind');
        assert.equal(res.highWater, 1);
        const again = await send(server, d, [op]);
        assert.ok(again.results[0]?.status === 'duplicate');
        assert.deepEqual(again.results[0].original, stored(r));
      }),
    );

    it(
      'device feed: nothing for a new device; a cursor past the end is refused; a revoked device is refused',
      withServer(async (server) => {
        const d = await enroll(server);
        const open = d.chain.next('shift.opened', shiftOpened);
        await send(server, d, [open]);
        const feed = async (after: number) => {
          const at = server.clock.now();
          return server.transport.fetchFeed(
            { device: d.id, after, at, sig: signMessage(feedRequestMessage(d.id, after, at), d.key) },
            1000,
          );
        };
        const first = okBody(await feed(0));
        assert.deepEqual(
          { items: first.items, more: first.more, placement: first.placement, policy: first.policy },
          { items: [], more: false, placement: null, policy: null },
        );
        const again = okBody(await feed(first.next));
        assert.deepEqual([again.items, again.next], [[], first.next], 'the cursor stays put');
        assert.deepEqual(errorOf(await feed(first.next + 1)), { status: 400, code: 'invalid_request' });
        await server.revoke(d.id);
        assert.deepEqual(errorOf(await feed(first.next)), { status: 403, code: 'device_revoked' });
      }),
    );
  });
}

ingestScenarios('FakeServer', fakeServer);
ingestScenarios('HoldfastService', realServer);
