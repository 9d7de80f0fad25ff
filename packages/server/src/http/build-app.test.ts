/**
 * The HTTP API in-process (Fastify inject): every bad input is refused with
 * a stable code and a message naming the problem, nothing of it is applied,
 * and the server keeps serving; per-op outcomes; the operator API; status
 * queries; enrollment.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Batch,
  ChainBuilder,
  type CreateTokenResponse,
  type DeviceStatus,
  enrollmentMessage,
  GENESIS_HASH,
  generateDeviceKeys,
  importPrivateKey,
  type Op,
  type OpQueryResponse,
  type OpResult,
  queryMessage,
  sealOp,
  signBatch,
  signMessage,
  uuidv7,
  type WireError,
} from '@holdfast/protocol';
import type { StoredOp } from '../model/batch.js';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { StoreSummary } from '../model/summary.js';
import type { Page } from '../storage/storage.js';
import {
  type Answer,
  createHarness,
  type Harness,
  OPERATOR_TOKEN,
  saleBody,
  T0,
  type TestDevice,
} from '../testing/harness.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

const statuses = (results: readonly OpResult[]) => results.map((r) => r.status);
const randomId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));

/** A copy of `op` with some fields changed and its hash recomputed. */
function reseal(op: Op, changes: Partial<Omit<Op, 'hash'>>): Op {
  const { hash: _old, ...rest } = op;
  return sealOp({ ...rest, ...changes });
}

/** A mutable JSON copy of a batch, for breaking it in ways the types forbid. */
type RawBatch = Record<string, unknown> & { ops: Record<string, unknown>[] };
const raw = (batch: Batch): RawBatch => JSON.parse(JSON.stringify(batch)) as RawBatch;

interface World {
  h: Harness;
  d: TestDevice;
  shift: Op;
  /** Ops already accepted: the shift opening and two sales (seqs 1..3). */
  stored: Op[];
}

/** A harness with one device whose first three ops are accepted. */
async function world(bodyLimit?: number): Promise<World> {
  const h = await createHarness(bodyLimit !== undefined ? { bodyLimit } : {});
  const d = await h.enrollDevice('lane-1');
  const shift = d.openShift();
  const stored = [shift, d.sale(shift.id, 450), d.sale(shift.id, 300)];
  const res = await h.send(d.batch(stored));
  assert.deepEqual(statuses(res.body.results), ['accepted', 'accepted', 'accepted']);
  return { h, d, shift, stored };
}

async function withWorld(fn: (w: World) => Promise<void>, bodyLimit?: number): Promise<void> {
  const w = await world(bodyLimit);
  try {
    await fn(w);
  } finally {
    await w.h.close();
  }
}

/** Everything a request could have changed. */
async function snapshot(h: Harness) {
  return {
    summary: await h.storage.summary(),
    ledger: (await h.storage.listLedger(0, 1000)).items,
    exceptions: (await h.storage.listExceptions(0, 1000)).items,
    devices: await h.storage.listDeviceStatuses(),
    shifts: await h.storage.listShifts(null),
  };
}

interface Refusal {
  status: number;
  code: WireError['code'];
  field?: string;
  /** What the message must say. */
  message: RegExp;
  /** What the rule must say. */
  rule?: RegExp;
}

async function assertHealthy(h: Harness): Promise<void> {
  const health = await h.request<{ status: string }>('GET', '/v1/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
}

/**
 * Sends a request and checks that it was refused as `expected`, that nothing
 * changed in storage and that the server still answers its health check.
 */
async function assertRefused(h: Harness, send: () => Promise<Answer<unknown>>, expected: Refusal): Promise<void> {
  const before = await snapshot(h);
  const res = await send();
  const context = JSON.stringify(res.body);
  assert.equal(res.status, expected.status, context);
  assert.equal(res.error.code, expected.code, context);
  assert.equal(res.error.retryable, false, `a bad input is never worth retrying: ${context}`);
  assert.match(res.error.message, expected.message, context);
  if (expected.field !== undefined) assert.equal(res.error.field, expected.field, context);
  if (expected.code === 'invalid_request' && expected.field !== undefined) {
    assert.ok(typeof res.error.rule === 'string' && res.error.rule.length > 0, `a rule is named: ${context}`);
  }
  if (expected.rule !== undefined) assert.match(res.error.rule ?? '', expected.rule, context);
  assert.deepEqual(await snapshot(h), before, 'nothing was applied');
  await assertHealthy(h);
}

const postBatch =
  (h: Harness, payload: unknown, headers: Record<string, string> = JSON_HEADERS) =>
  () =>
    h.request('POST', '/v1/batches', { payload, headers });

describe('POST /v1/batches: request-level refusals (nothing applied, server keeps serving)', () => {
  it('malformed JSON → 400 malformed_json', () =>
    withWorld(async ({ h }) => {
      await assertRefused(h, postBatch(h, '{"device": "x", "ops": ['), {
        status: 400,
        code: 'malformed_json',
        message: /not valid JSON/,
      });
    }));

  it('empty body → 400 malformed_json (JSON content type) or invalid_request (none)', () =>
    withWorld(async ({ h }) => {
      await assertRefused(h, postBatch(h, ''), { status: 400, code: 'malformed_json', message: /empty/ });
      await assertRefused(h, () => h.request('POST', '/v1/batches'), {
        status: 400,
        code: 'invalid_request',
        field: '(root)',
        message: /expected object/,
      });
    }));

  it('a JSON value that is not an object → 400 invalid_request', () =>
    withWorld(async ({ h }) => {
      for (const payload of ['null', '[]', '42', '"batch"']) {
        await assertRefused(h, postBatch(h, payload), {
          status: 400,
          code: 'invalid_request',
          field: '(root)',
          message: /expected object/,
        });
      }
    }));

  it('wrong types name the field and the rule (seq as a string, v as 2, at out of range)', () =>
    withWorld(async ({ h, d, shift }) => {
      const cases: [string, (b: RawBatch) => void, string, RegExp][] = [
        ['seq as string', (b) => Object.assign(b.ops[0] ?? {}, { seq: '4' }), 'ops[0].seq', /integer >= 1/],
        ['seq 0', (b) => Object.assign(b.ops[0] ?? {}, { seq: 0 }), 'ops[0].seq', /integer >= 1/],
        ['v 2', (b) => Object.assign(b.ops[0] ?? {}, { v: 2 }), 'ops[0].v', /exactly 1/],
        ['at in 1970', (b) => Object.assign(b.ops[0] ?? {}, { at: 5 }), 'ops[0].at', /integer/],
        ['kind pattern', (b) => Object.assign(b.ops[0] ?? {}, { kind: 'Sale' }), 'ops[0].kind', /op kind/],
        ['sentAt float', (b) => Object.assign(b, { sentAt: T0 + 0.5 }), 'sentAt', /integer/],
        ['ops not an array', (b) => Object.assign(b, { ops: {} }), 'ops', /array of 1\.\.500 items/],
        ['sig short', (b) => Object.assign(b, { sig: 'abc' }), 'sig', /86 characters/],
        [
          'decision mode',
          (b) => Object.assign(b.ops[0] ?? {}, { decision: { mode: 'x' } }),
          'ops[0].decision.mode',
          /one of/,
        ],
      ];
      for (const [name, mutate, field, rule] of cases) {
        const b = raw(d.batch([d.sale(shift.id, 100)]));
        mutate(b);
        await assertRefused(h, postBatch(h, b), {
          status: 400,
          code: 'invalid_request',
          field,
          rule,
          message: new RegExp(`^${field.replaceAll(/[.[\]]/g, '\\$&')}: expected`),
        }).catch((error: unknown) => {
          throw new Error(`${name}: ${String(error)}`);
        });
      }
      assert.equal((await h.storage.summary()).opsAccepted, 3);
    }));

  it('a missing field → 400 invalid_request naming it as required', () =>
    withWorld(async ({ h, d, shift }) => {
      const b = raw(d.batch([d.sale(shift.id, 100)]));
      delete b.sig;
      await assertRefused(h, postBatch(h, b), {
        status: 400,
        code: 'invalid_request',
        field: 'sig',
        message: /required/,
      });
      const c = raw(d.batch([d.sale(shift.id, 100)]));
      delete c.ops[0]?.prev;
      await assertRefused(h, postBatch(h, c), {
        status: 400,
        code: 'invalid_request',
        field: 'ops[0].prev',
        message: /required/,
      });
    }));

  it('an unknown extra field → 400 invalid_request naming its path', () =>
    withWorld(async ({ h, d, shift }) => {
      const b = raw(d.batch([d.sale(shift.id, 100)]));
      b.priority = 'high';
      await assertRefused(h, postBatch(h, b), {
        status: 400,
        code: 'invalid_request',
        field: 'priority',
        message: /no such field/,
      });
      const c = raw(d.batch([d.sale(shift.id, 100)]));
      Object.assign(c.ops[0] ?? {}, { note: 'hi' });
      await assertRefused(h, postBatch(h, c), {
        status: 400,
        code: 'invalid_request',
        field: 'ops[0].note',
        message: /no such field/,
      });
    }));

  it('a body over the limit → 413 body_too_large', () =>
    withWorld(async ({ h, d, shift }) => {
      const ops = Array.from({ length: 10 }, () => d.sale(shift.id, 100));
      const big = d.batch(ops);
      assert.ok(JSON.stringify(big).length > 4_096);
      await assertRefused(h, postBatch(h, big), { status: 413, code: 'body_too_large', message: /too large/i });
    }, 4_096));

  it('a content type other than JSON → 415 unsupported_media_type', () =>
    withWorld(async ({ h, d, shift }) => {
      const body = JSON.stringify(d.batch([d.sale(shift.id, 100)]));
      for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
        await assertRefused(h, postBatch(h, body, { 'content-type': type }), {
          status: 415,
          code: 'unsupported_media_type',
          message: /application\/json/,
        });
      }
    }));

  it('a "__proto__" or "constructor.prototype" key → 400 malformed_json saying so', () =>
    withWorld(async ({ h, d, shift }) => {
      const body = JSON.stringify(d.batch([d.sale(shift.id, 100)]));
      const poisoned = body.replace('{"device":', '{"__proto__":{"admin":true},"device":');
      await assertRefused(h, postBatch(h, poisoned), { status: 400, code: 'malformed_json', message: /__proto__/ });
      const ctor = body.replace('{"device":', '{"constructor":{"prototype":{"admin":true}},"device":');
      await assertRefused(h, postBatch(h, ctor), { status: 400, code: 'malformed_json', message: /constructor/ });
      assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted');
    }));

  it('an unknown device → 401 unknown_device (the one answer for an unverifiable signature)', () =>
    withWorld(async ({ h }) => {
      const keys = generateDeviceKeys();
      const stranger = new ChainBuilder(randomId(), keys.privateKey, { now: () => h.clock.now() });
      const op = stranger.next('shift.opened', { clerk: 'x', currency: 'EUR', openingFloat: 0 });
      await assertRefused(h, postBatch(h, stranger.batch([op])), {
        status: 401,
        code: 'unknown_device',
        field: 'sig',
        message: /not enrolled, or the signature does not verify/,
      });
    }));

  it('a revoked device → 403 device_revoked', () =>
    withWorld(async ({ h, d, shift }) => {
      const revoke = await h.request('POST', `/v1/admin/devices/${d.id}/revoke`, {
        admin: true,
        payload: { reason: 'reported stolen' },
      });
      assert.equal(revoke.status, 200);
      await assertRefused(h, postBatch(h, d.batch([d.sale(shift.id, 100)])), {
        status: 403,
        code: 'device_revoked',
        field: 'device',
        message: /revoked: reported stolen/,
      });
    }));

  it('a batch signed with another key, or a garbage signature → 401 unknown_device, as for an unknown id', () =>
    withWorld(async ({ h, d, shift }) => {
      const ops = [d.sale(shift.id, 100)];
      const other = importPrivateKey(generateDeviceKeys().privateKey);
      await assertRefused(h, postBatch(h, signBatch(d.id, ops, other, h.clock.now(), 4)), {
        status: 401,
        code: 'unknown_device',
        field: 'sig',
        message: /does not verify/,
      });
      await assertRefused(h, postBatch(h, { ...d.batch(ops), sig: 'A'.repeat(86) }), {
        status: 401,
        code: 'unknown_device',
        field: 'sig',
        message: /does not verify/,
      });
    }));

  it('a body changed after hashing (stale hash) → 400 hash_mismatch naming ops[i].hash', () =>
    withWorld(async ({ h, d, shift }) => {
      const a = d.sale(shift.id, 100);
      const b = d.sale(shift.id, 200);
      const tampered = { ...b, body: saleBody(shift.id, 20_000) };
      await assertRefused(h, postBatch(h, d.batch([a, tampered])), {
        status: 400,
        code: 'hash_mismatch',
        field: 'ops[1].hash',
        rule: /SHA-256/,
        message: /does not match its content/,
      });
    }));

  it('a broken link inside the batch → 400 chain_broken naming ops[i].prev', () =>
    withWorld(async ({ h, d, shift }) => {
      const a = d.sale(shift.id, 100);
      const b = reseal(d.sale(shift.id, 200), { prev: 'b'.repeat(64) });
      await assertRefused(h, postBatch(h, d.batch([a, b])), {
        status: 400,
        code: 'chain_broken',
        field: 'ops[1].prev',
        rule: /previous op hash/,
        message: /ops\[0\]\.hash/,
      });
    }));

  it('seq 1 whose prev is not the genesis hash → 400 chain_broken', async () => {
    const h = await createHarness();
    try {
      const d = await h.enrollDevice();
      const chain = new ChainBuilder(d.id, d.privateKey, { head: 'a'.repeat(64), now: () => h.clock.now() });
      const op = chain.next('shift.opened', { clerk: 'x', currency: 'EUR', openingFloat: 0 });
      assert.notEqual(op.prev, GENESIS_HASH);
      await assertRefused(h, postBatch(h, chain.batch([op])), {
        status: 400,
        code: 'chain_broken',
        field: 'ops[0].prev',
        rule: /genesis hash/,
        message: /genesis/,
      });
    } finally {
      await h.close();
    }
  });

  it('non-contiguous seqs → 400 seq_not_contiguous', () =>
    withWorld(async ({ h, d, shift }) => {
      const a = d.sale(shift.id, 100);
      d.sale(shift.id, 200);
      const c = d.sale(shift.id, 300);
      await assertRefused(h, postBatch(h, d.batch([a, c])), {
        status: 400,
        code: 'seq_not_contiguous',
        field: 'ops[1].seq',
        rule: /contiguous/,
        message: /expected 5/,
      });
      await assertRefused(h, postBatch(h, d.batch([c, a])), {
        status: 400,
        code: 'seq_not_contiguous',
        field: 'ops[1].seq',
        message: /expected 7/,
      });
    }));

  it('an op of another device → 400 device_mismatch', () =>
    withWorld(async ({ h, d, shift }) => {
      const other = await h.enrollDevice('lane-2');
      const foreign = other.openShift();
      await assertRefused(h, postBatch(h, d.batch([foreign], 1)), {
        status: 400,
        code: 'device_mismatch',
        field: 'ops[0].device',
        rule: /batch device/,
        message: /ops\[0\]\.device/,
      });
      const mine = d.sale(shift.id, 100);
      await assertRefused(
        h,
        postBatch(h, signBatch(d.id, [mine, reseal(mine, { device: other.id, seq: 5 })], d.privateKey, T0, 5)),
        {
          status: 400,
          code: 'device_mismatch',
          field: 'ops[1].device',
          message: /batch is from/,
        },
      );
    }));

  it('the same id twice in one batch → 400 duplicate_in_batch', () =>
    withWorld(async ({ h, d, shift }) => {
      const a = d.sale(shift.id, 100);
      const b = reseal(d.sale(shift.id, 200), { id: a.id, prev: a.hash });
      await assertRefused(h, postBatch(h, d.batch([a, b])), {
        status: 400,
        code: 'duplicate_in_batch',
        field: 'ops[1].id',
        rule: /unique/,
        message: /appears twice/,
      });
    }));

  it('latestSeq below the last op → 400 invalid_request naming latestSeq', () =>
    withWorld(async ({ h, d, shift }) => {
      const ops = [d.sale(shift.id, 100), d.sale(shift.id, 200)];
      await assertRefused(h, postBatch(h, d.batch(ops, 4)), {
        status: 400,
        code: 'invalid_request',
        field: 'latestSeq',
        rule: /at least the seq of the last op/,
        message: /below the last op's seq 5/,
      });
    }));

  it('0 ops and 501 ops → 400 invalid_request naming ops', () =>
    withWorld(async ({ h, d, shift }) => {
      const empty = { ...d.batch([d.sale(shift.id, 1)]), ops: [] };
      await assertRefused(h, postBatch(h, empty), {
        status: 400,
        code: 'invalid_request',
        field: 'ops',
        message: /array of 1\.\.500 items, got array\(0\)/,
      });
      const many = Array.from({ length: 501 }, () => d.sale(shift.id, 1));
      await assertRefused(h, postBatch(h, d.batch(many)), {
        status: 400,
        code: 'invalid_request',
        field: 'ops',
        message: /got array\(501\)/,
      });
    }));

  it('a body the server cannot hash (lone surrogate, absurd nesting) → 400, not a retryable 500', () =>
    withWorld(async ({ h, d, shift }) => {
      // Signed properly, so the request reaches the hash check; the hash itself is arbitrary.
      const template = d.sale(shift.id, 100);
      const badOp = (body: Record<string, unknown>): Op => ({
        ...template,
        kind: 'note.added',
        body,
        hash: 'e'.repeat(64),
      });
      const surrogate = d.batch([badOp({ text: '\ud800' })]);
      await assertRefused(h, postBatch(h, surrogate), {
        status: 400,
        code: 'invalid_request',
        field: 'ops[0].body',
        message: /cannot be hashed as canonical JSON: lone surrogate/,
      });
      const nested = JSON.stringify(d.batch([badOp({ deep: 0 })])).replace(
        '{"deep":0}',
        `{"deep":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
      );
      // Refused by the body parser, before any schema, naming the bound.
      await assertRefused(h, postBatch(h, nested), {
        status: 400,
        code: 'invalid_request',
        message: /nests deeper than 300 levels/,
      });
    }));
});

describe('POST /v1/batches: per-op outcomes', () => {
  it('a seq gap → 200 with rejected seq_gap and expectedSeq, nothing stored', () =>
    withWorld(async ({ h, d, shift }) => {
      d.sale(shift.id, 100); // seq 4 never sent
      const ahead = [d.sale(shift.id, 200), d.sale(shift.id, 300)];
      const before = await h.storage.summary();
      const res = await h.send(d.batch(ahead));
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.results.map((r) => [
          r.status,
          r.status === 'rejected' && r.reason,
          'expectedSeq' in r && r.expectedSeq,
        ]),
        [
          ['rejected', 'seq_gap', 4],
          ['rejected', 'seq_gap', 4],
        ],
      );
      assert.equal(res.body.highWater, 3);
      assert.deepEqual(await h.storage.summary(), before);
      const status = await h.request<DeviceStatus>('GET', `/v1/admin/devices/${d.id}`, { admin: true });
      assert.deepEqual(status.body.gap, { from: 4, to: 4 });
    }));

  it('a replay of an applied batch → duplicates whose original is exactly the first answer (id and seq too)', () =>
    withWorld(async ({ h, d, shift }) => {
      const batch = d.batch([d.sale(shift.id, 100), d.sale(shift.id, 200)]);
      const first = await h.send(batch);
      h.clock.advance(5_000);
      const again = await h.send(batch);
      assert.deepEqual(statuses(again.body.results), ['duplicate', 'duplicate']);
      assert.deepEqual(
        again.body.results.map((r) => r.status === 'duplicate' && r.original),
        first.body.results,
      );
      const third = await h.send(batch);
      assert.deepEqual(third.body.results, again.body.results);
      assert.equal((await h.storage.summary()).opsAccepted, 5);
    }));

  it('op ids of either layout: UUIDv7 (older terminals) and device-first UUIDv8 in one chain; an id another device used is a conflict', () =>
    withWorld(async ({ h, d, shift, stored }) => {
      // The harness's chain makes device-first ids, as terminals do (protocol.md §1.0).
      assert.equal(stored[1]?.id.charAt(14), '8');
      assert.equal(stored[1]?.id.slice(0, 8), d.id.slice(-8));
      const v7 = d.chain.next(
        'sale.recorded',
        saleBody(shift.id, 100),
        undefined,
        uuidv7(h.clock.now(), new Uint8Array(10).fill(7)),
      );
      const v8 = d.sale(shift.id, 200);
      const batch = d.batch([v7, v8]);
      assert.deepEqual(statuses((await h.send(batch)).body.results), ['accepted', 'accepted']);
      assert.deepEqual(statuses((await h.send(batch)).body.results), ['duplicate', 'duplicate']);
      // Another device naming its op with this device's id: the id is unique across devices.
      const other = await h.enrollDevice('lane-2');
      const theirs = other.chain.next(
        'shift.opened',
        { clerk: 'b', currency: 'EUR', openingFloat: 0 },
        undefined,
        v8.id,
      );
      const res = await h.send(other.batch([theirs]));
      assert.equal(res.status, 200);
      assert.deepEqual(statuses(res.body.results), ['conflict']);
      assert.equal((await h.storage.summary()).opsAccepted, 5);
    }));

  it('the same id with a different payload (re-sealed and signed) → 200 per-op conflict, nothing applied', () =>
    withWorld(async ({ h, d, stored, shift }) => {
      const original = stored[1] as Op;
      const tampered = reseal(original, { body: saleBody(shift.id, 45_000) });
      const before = await h.storage.summary();
      const res = await h.send(d.batch([tampered], 3));
      assert.equal(res.status, 200);
      assert.deepEqual(statuses(res.body.results), ['conflict']);
      assert.match(res.body.results[0]?.status === 'conflict' ? res.body.results[0].message : '', /different hash/);
      const after = await h.storage.summary();
      assert.deepEqual(after.sales, before.sales);
      assert.equal(after.opsAccepted, before.opsAccepted);
      assert.deepEqual(after.exceptions, { conflict: 1 });
      const op = await h.request<StoredOp>('GET', `/v1/admin/ops/${original.id}`, { admin: true });
      assert.deepEqual(op.body.op, original);
    }));

  it("another device reusing an op id → per-op conflict; the first device's op is untouched", () =>
    withWorld(async ({ h, stored }) => {
      const other = await h.enrollDevice('lane-2');
      const taken = stored[1] as Op;
      const shift = reseal(other.openShift(), { id: taken.id });
      const res = await h.send(signBatch(other.id, [shift], other.privateKey, h.clock.now(), 1));
      assert.equal(res.status, 200);
      assert.deepEqual(statuses(res.body.results), ['conflict']);
      // The answer goes to the other device: it must not learn whose op holds the id.
      assert.doesNotMatch(JSON.stringify(res.body), new RegExp(`${taken.device}|seq ${taken.seq}\\b`));
      assert.equal(res.body.highWater, 0);
      const op = await h.request<StoredOp>('GET', `/v1/admin/ops/${taken.id}`, { admin: true });
      assert.deepEqual(op.body.op, taken);
      const summary = await h.storage.summary();
      assert.deepEqual([summary.opsAccepted, summary.openShifts, summary.exceptions], [3, 1, { conflict: 1 }]);
    }));

  it('the same seq with a different id → 200 per-op fork', () =>
    withWorld(async ({ h, d, stored }) => {
      const clone = reseal(stored[2] as Op, { id: randomId() });
      const res = await h.send(d.batch([clone], 3));
      assert.deepEqual(statuses(res.body.results), ['fork']);
      assert.match(res.body.results[0]?.status === 'fork' ? res.body.results[0].message : '', /already holds op/);
      const status = await h.request<DeviceStatus>('GET', `/v1/admin/devices/${d.id}`, { admin: true });
      assert.deepEqual([status.body.forks, status.body.highWater], [1, 3]);
    }));

  it('an invalid body of a known kind → 200 per-op rejected invalid_body naming body.total, stored', () =>
    withWorld(async ({ h, d, shift }) => {
      const bad = d.chain.next('sale.recorded', { ...saleBody(shift.id, 450), total: 400 });
      const next = d.sale(shift.id, 50);
      const res = await h.send(d.batch([bad, next]));
      assert.equal(res.status, 200);
      const r = res.body.results[0];
      assert.ok(r?.status === 'rejected' && r.reason === 'invalid_body', JSON.stringify(r));
      assert.equal(r.field, 'body.total');
      assert.match(r.rule ?? '', /sum of the lines/);
      assert.equal(res.body.results[1]?.status, 'accepted');
      const summary = await h.storage.summary();
      assert.deepEqual([summary.opsAccepted, summary.opsRejected], [4, 1]);
    }));
});

describe('routing', () => {
  it('an unknown route or a wrong method → 404 not_found naming the route', async () => {
    const h = await createHarness();
    try {
      for (const [method, url] of [
        ['GET', '/v1/nothing'],
        ['GET', '/v1/batches'],
        ['PUT', '/v1/health'],
        ['DELETE', '/v1/admin/devices'],
      ] as const) {
        await assertRefused(h, () => h.request(method, url, { admin: true }), {
          status: 404,
          code: 'not_found',
          message: new RegExp(`no route ${method} ${url.replaceAll('/', '\\/')}`),
        });
      }
    } finally {
      await h.close();
    }
  });
});

describe('operator API', () => {
  const ADMIN_ROUTES: readonly ['GET' | 'POST', string][] = [
    ['POST', '/v1/admin/enrollment-tokens'],
    ['GET', '/v1/admin/devices'],
    ['GET', `/v1/admin/devices/${randomId()}`],
    ['POST', `/v1/admin/devices/${randomId()}/revoke`],
    ['GET', `/v1/admin/ops/${randomId()}`],
    ['GET', '/v1/admin/ledger'],
    ['GET', '/v1/admin/exceptions'],
    ['GET', '/v1/admin/shifts'],
    ['GET', '/v1/admin/summary'],
  ];

  it('refuses every operator route without a token or with a wrong one → 401 unauthorized', () =>
    withWorld(async ({ h }) => {
      const wrong = [
        {},
        { authorization: `Bearer ${OPERATOR_TOKEN}x` },
        { authorization: 'Bearer ' },
        { authorization: `Basic ${OPERATOR_TOKEN}` },
        { authorization: OPERATOR_TOKEN },
      ];
      for (const [method, url] of ADMIN_ROUTES) {
        for (const headers of wrong) {
          await assertRefused(h, () => h.request(method, url, { headers, payload: { reason: 'x' } }), {
            status: 401,
            code: 'unauthorized',
            message: /Bearer/,
          });
        }
      }
    }));

  it('issues enrollment tokens with a label and a TTL', () =>
    withWorld(async ({ h }) => {
      const res = await h.request<CreateTokenResponse>('POST', '/v1/admin/enrollment-tokens', {
        admin: true,
        payload: { label: 'bar-2', ttlSeconds: 600 },
      });
      assert.equal(res.status, 200);
      assert.match(res.body.token, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual([res.body.label, res.body.expiresAt], ['bar-2', h.clock.now() + 600_000]);
      const bare = await h.request<CreateTokenResponse>('POST', '/v1/admin/enrollment-tokens', { admin: true });
      assert.equal(bare.status, 200);
      assert.deepEqual([bare.body.label, bare.body.expiresAt], [null, h.clock.now() + 86_400_000]);
      await assertRefused(
        h,
        () => h.request('POST', '/v1/admin/enrollment-tokens', { admin: true, payload: { ttlSeconds: 10 } }),
        { status: 400, code: 'invalid_request', field: 'ttlSeconds', message: /ttlSeconds/ },
      );
    }));

  it('lists devices, shows one, revokes one', () =>
    withWorld(async ({ h, d }) => {
      const list = await h.request<{ devices: DeviceStatus[] }>('GET', '/v1/admin/devices', { admin: true });
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.devices.map((s) => [s.id, s.label, s.highWater]),
        [[d.id, 'lane-1', 3]],
      );
      const one = await h.request<DeviceStatus>('GET', `/v1/admin/devices/${d.id}`, { admin: true });
      assert.deepEqual(one.body, list.body.devices[0]);

      h.clock.advance(1_000);
      const revoked = await h.request<DeviceStatus>('POST', `/v1/admin/devices/${d.id}/revoke`, {
        admin: true,
        payload: { reason: 'cloned' },
      });
      assert.equal(revoked.status, 200);
      assert.deepEqual([revoked.body.revokedAt, revoked.body.revokeReason], [h.clock.now(), 'cloned']);
      const summary = await h.request<StoreSummary>('GET', '/v1/admin/summary', { admin: true });
      assert.equal(summary.body.revokedDevices, 1);
    }));

  it('shows a stored op, pages the ledger and exceptions, lists shifts, sums up', () =>
    withWorld(async ({ h, d, stored, shift }) => {
      const op = await h.request<StoredOp>('GET', `/v1/admin/ops/${stored[1]?.id}`, { admin: true });
      assert.equal(op.status, 200);
      assert.deepEqual(op.body, { op: stored[1], result: { status: 'accepted', at: T0 }, receivedAt: T0 });

      const first = await h.request<Page<LedgerEvent & { pos: number }>>('GET', '/v1/admin/ledger?limit=2', {
        admin: true,
      });
      assert.deepEqual(
        first.body.items.map((e) => e.opId),
        [stored[0]?.id, stored[1]?.id],
      );
      assert.equal(first.body.next, first.body.items[1]?.pos);
      const rest = await h.request<Page<LedgerEvent>>('GET', `/v1/admin/ledger?after=${first.body.next}&limit=2`, {
        admin: true,
      });
      assert.deepEqual(
        rest.body.items.map((e) => e.opId),
        [stored[2]?.id],
      );
      assert.equal(rest.body.next, null);

      await h.send(d.batch([d.chain.next('mystery.kind', {})]));
      const exceptions = await h.request<Page<{ type: string }>>('GET', '/v1/admin/exceptions', { admin: true });
      assert.deepEqual(
        exceptions.body.items.map((x) => x.type),
        ['op_rejected'],
      );

      const shifts = await h.request<{ shifts: { id: string; salesTotal: number }[] }>(
        'GET',
        `/v1/admin/shifts?device=${d.id}`,
        { admin: true },
      );
      assert.deepEqual(
        shifts.body.shifts.map((s) => [s.id, s.salesTotal]),
        [[shift.id, 750]],
      );
      const none = await h.request<{ shifts: unknown[] }>('GET', `/v1/admin/shifts?device=${randomId()}`, {
        admin: true,
      });
      assert.deepEqual(none.body.shifts, []);

      const summary = await h.request<StoreSummary & { ingest: Record<string, number> }>('GET', '/v1/admin/summary', {
        admin: true,
      });
      assert.deepEqual(summary.body.sales, [{ currency: 'EUR', sales: 2, total: 750, cash: 750, card: 0 }]);
      assert.deepEqual([summary.body.opsAccepted, summary.body.opsRejected], [3, 1]);
      assert.deepEqual(summary.body.ingest, {
        batches: 2,
        accepted: 3,
        duplicate: 0,
        conflict: 0,
        fork: 0,
        rejected: 1,
      });
    }));

  it('refuses bad path and query parameters with 400 naming them, and unknown ids with 404', () =>
    withWorld(async ({ h }) => {
      const bad: [string, string, string | undefined, RegExp][] = [
        ['GET', '/v1/admin/devices/not-a-uuid', 'id', /UUID \(version 7 or 8\)/],
        ['GET', `/v1/admin/devices/${randomId().toUpperCase()}`, 'id', /UUID \(version 7 or 8\)/],
        ['POST', '/v1/admin/devices/123/revoke', 'id', /UUID \(version 7 or 8\)/],
        ['GET', '/v1/admin/ops/xyz', 'id', /UUID \(version 7 or 8\)/],
        ['GET', '/v1/admin/ledger?limit=0', 'query.limit', /limit/],
        ['GET', '/v1/admin/ledger?limit=abc', 'query.limit', /limit/],
        ['GET', '/v1/admin/ledger?limit=1001', 'query.limit', /limit/],
        ['GET', '/v1/admin/ledger?limit=2.5', 'query.limit', /limit/],
        ['GET', '/v1/admin/ledger?after=-1', 'query.after', /after/],
        ['GET', '/v1/admin/exceptions?limit=abc', 'query.limit', /limit/],
        ['GET', '/v1/admin/shifts?device=lane-1', 'query.device', /UUID \(version 7 or 8\)/],
      ];
      for (const [method, url, field, message] of bad) {
        await assertRefused(h, () => h.request(method as 'GET', url, { admin: true, payload: { reason: 'x' } }), {
          status: 400,
          code: 'invalid_request',
          ...(field ? { field } : {}),
          message,
        });
      }
      for (const url of [`/v1/admin/devices/${randomId()}`, `/v1/admin/ops/${randomId()}`]) {
        await assertRefused(h, () => h.request('GET', url, { admin: true }), {
          status: 404,
          code: 'not_found',
          message: /^no (device|op) /,
        });
      }
      await assertRefused(
        h,
        () => h.request('POST', `/v1/admin/devices/${randomId()}/revoke`, { admin: true, payload: { reason: 'x' } }),
        { status: 404, code: 'not_found', message: /no device/ },
      );
    }));

  it('refuses a revoke without a reason → 400 naming reason', () =>
    withWorld(async ({ h, d }) => {
      await assertRefused(
        h,
        () => h.request('POST', `/v1/admin/devices/${d.id}/revoke`, { admin: true, payload: {} }),
        { status: 400, code: 'invalid_request', field: 'reason', message: /required/ },
      );
      await assertRefused(
        h,
        () => h.request('POST', `/v1/admin/devices/${d.id}/revoke`, { admin: true, payload: { reason: '' } }),
        { status: 400, code: 'invalid_request', field: 'reason', message: /reason/ },
      );
    }));
});

describe('POST /v1/ops/query', () => {
  const query = (d: TestDevice, ids: string[], at = T0) => ({
    device: d.id,
    ids,
    at,
    sig: signMessage(queryMessage(d.id, ids, at), d.privateKey),
  });

  it("answers a signed query with the device's own ops found and others not found", () =>
    withWorld(async ({ h, d, stored }) => {
      const other = await h.enrollDevice('lane-2');
      const foreign = other.openShift();
      await h.send(other.batch([foreign]));
      const unknown = randomId();
      const ids = [stored[1]?.id ?? '', unknown, foreign.id];
      const res = await h.request<OpQueryResponse>('POST', '/v1/ops/query', { payload: query(d, ids) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.results, [
        {
          id: stored[1]?.id,
          found: true,
          seq: 2,
          hash: stored[1]?.hash,
          result: { id: stored[1]?.id, seq: 2, status: 'accepted', at: T0 },
        },
        { id: unknown, found: false },
        { id: foreign.id, found: false },
      ]);
      assert.equal(res.body.highWater, 3);
    }));

  it('refuses a bad signature or an unknown device alike (401), a revoked device (403) and bad input (400)', () =>
    withWorld(async ({ h, d, stored }) => {
      const ids = [stored[0]?.id ?? ''];
      const forged = { ...query(d, ids), at: T0 + 1 };
      await assertRefused(h, () => h.request('POST', '/v1/ops/query', { payload: forged }), {
        status: 401,
        code: 'unknown_device',
        field: 'sig',
        message: /does not verify/,
      });
      await assertRefused(
        h,
        () => h.request('POST', '/v1/ops/query', { payload: { ...query(d, ids), device: randomId() } }),
        { status: 401, code: 'unknown_device', field: 'sig', message: /not enrolled/ },
      );
      await assertRefused(h, () => h.request('POST', '/v1/ops/query', { payload: { ...query(d, ids), ids: [] } }), {
        status: 400,
        code: 'invalid_request',
        field: 'ids',
        message: /array of 1\.\.500/,
      });
      await h.request('POST', `/v1/admin/devices/${d.id}/revoke`, { admin: true, payload: { reason: 'gone' } });
      await assertRefused(h, () => h.request('POST', '/v1/ops/query', { payload: query(d, ids) }), {
        status: 403,
        code: 'device_revoked',
        message: /revoked/,
      });
    }));
});

describe('POST /v1/enroll', () => {
  it('enrolls, and a retry with the same token and key returns the same device', async () => {
    const h = await createHarness();
    try {
      const token = await h.newToken('till-1');
      const keys = generateDeviceKeys();
      const first = await h.enroll(token, keys);
      assert.equal(first.status, 200);
      assert.deepEqual([first.body.label, first.body.enrolledAt, first.body.serverTime], ['till-1', T0, T0]);
      h.clock.advance(48 * 3_600_000);
      const retry = await h.enroll(token, keys);
      assert.equal(retry.status, 200);
      assert.equal(retry.body.deviceId, first.body.deviceId);
      assert.equal((await h.storage.listDevices()).length, 1);
    } finally {
      await h.close();
    }
  });

  it('refuses bad signatures, malformed keys, and invalid, expired or used tokens with their codes', async () => {
    const h = await createHarness();
    try {
      const keys = generateDeviceKeys();
      const token = await h.newToken(undefined, 60);
      const otherSig = signMessage(
        enrollmentMessage(token, keys.publicKey),
        importPrivateKey(generateDeviceKeys().privateKey),
      );
      await assertRefused(h, () => h.enroll(token, keys, { sig: otherSig }), {
        status: 401,
        code: 'bad_signature',
        field: 'sig',
        message: /does not verify/,
      });
      await assertRefused(h, () => h.enroll(token, { ...keys, publicKey: 'not-a-key' }), {
        status: 400,
        code: 'invalid_request',
        field: 'publicKey',
        message: /publicKey/,
      });
      await assertRefused(h, () => h.enroll(token, { ...keys, publicKey: 'A'.repeat(43) }), {
        status: 400,
        code: 'invalid_request',
        field: 'publicKey',
        message: /not a valid Ed25519 public key/,
      });
      await assertRefused(h, () => h.enroll('x'.repeat(43), keys), {
        status: 403,
        code: 'token_invalid',
        field: 'token',
        message: /not known/,
      });
      await assertRefused(h, () => h.enroll('short', keys), {
        status: 400,
        code: 'invalid_request',
        field: 'token',
        message: /token/,
      });

      h.clock.advance(61_000);
      await assertRefused(h, () => h.enroll(token, keys), {
        status: 403,
        code: 'token_expired',
        field: 'token',
        message: /expired/,
      });

      const fresh = await h.newToken();
      assert.equal((await h.enroll(fresh, keys)).status, 200);
      await assertRefused(h, () => h.enroll(fresh, generateDeviceKeys()), {
        status: 409,
        code: 'token_used',
        field: 'token',
        message: /another key/,
      });
      const second = await h.newToken();
      await assertRefused(h, () => h.enroll(second, keys), {
        status: 409,
        code: 'key_already_enrolled',
        field: 'publicKey',
        message: /already enrolled/,
      });
    } finally {
      await h.close();
    }
  });
});
