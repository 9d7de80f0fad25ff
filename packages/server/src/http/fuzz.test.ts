/**
 * A bounded fuzz of every route (property-based, fast-check): hostile
 * methods, paths, headers and bodies — valid requests mutated at random,
 * random JSON, broken bytes, duplicate members, bad tokens.
 *
 * For every answer: never a 5xx but the deliberate, retryable 503s with a
 * retry time; every refusal in the documented `{code, message, retryable}`
 * shape; a refused request changes nothing stored. After the run: the
 * server's per-key maps are bounded (no state for devices that never
 * verified, sources within their bound). The seed is fixed, so a failure
 * replays; fast-check prints the counterexample.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES, generateDeviceKeys, type WireError } from '@holdfast/protocol';
import fc from 'fast-check';
import { createHarness, type Harness, OPERATOR_TOKEN } from '../testing/harness.js';

const ROUTES: readonly (readonly [method: string, path: string])[] = [
  ['GET', '/v1/health'],
  ['POST', '/v1/enroll'],
  ['POST', '/v1/batches'],
  ['POST', '/v1/ops/query'],
  ['POST', '/v1/policy'],
  ['POST', '/v1/feed'],
  ['POST', '/v1/authorize'],
  ['POST', '/v1/devices/rotate-key'],
  ['POST', '/v1/admin/enrollment-tokens'],
  ['GET', '/v1/admin/devices'],
  ['GET', '/v1/admin/devices/:id'],
  ['POST', '/v1/admin/devices/:id/revoke'],
  ['POST', '/v1/admin/devices/:id/placement'],
  ['POST', '/v1/admin/policies'],
  ['GET', '/v1/admin/policies'],
  ['PUT', '/v1/admin/betting'],
  ['GET', '/v1/admin/betting'],
  ['GET', '/v1/admin/exposure'],
  ['GET', '/v1/admin/ops/:id'],
  ['GET', '/v1/admin/ledger'],
  ['GET', '/v1/admin/exceptions'],
  ['POST', '/v1/admin/exceptions/:id/actions'],
  ['GET', '/v1/admin/reports/declines'],
  ['GET', '/v1/admin/shifts'],
  ['GET', '/v1/admin/wallets'],
  ['GET', '/v1/admin/wallets/:uid'],
  ['POST', '/v1/admin/wallets/:uid/unblock'],
  ['GET', '/v1/admin/load'],
  ['GET', '/v1/admin/summary'],
];

/** Everything a request could have changed. */
async function snapshot(h: Harness) {
  return JSON.stringify([
    await h.storage.summary(),
    (await h.storage.listLedger(0, 1000)).items,
    (await h.storage.listExceptions(0, 1000)).items,
    await h.storage.listDeviceStatuses(),
    await h.storage.listShifts(null),
  ]);
}

/** Replaces the value at a random place in `value` (objects and arrays, any depth) with `replacement`. */
function mutate(value: unknown, picks: number[], replacement: unknown): unknown {
  if (picks.length === 0 || typeof value !== 'object' || value === null) return replacement;
  const [pick, ...rest] = picks as [number, ...number[]];
  if (Array.isArray(value)) {
    if (value.length === 0) return replacement;
    const i = pick % value.length;
    return value.map((v, j) => (j === i ? mutate(v, rest, replacement) : v));
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const key = keys[pick % keys.length] as string;
  return {
    ...(value as Record<string, unknown>),
    [key]: mutate((value as Record<string, unknown>)[key], rest, replacement),
  };
}

const textMutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('none' as const) }),
);

function applyText(text: string, m: TextMutation): Buffer {
  const bytes = Buffer.from(text);
  switch (m.kind) {
    case 'none':
      return bytes;
    case 'truncate':
      return bytes.subarray(0, m.at % (bytes.length + 1));
    case 'byte': {
      const copy = Buffer.from(bytes);
      if (copy.length > 0) copy[m.at % copy.length] = m.byte;
      return copy;
    }
    case 'duplicate': {
      // Repeat one member of the first object: `{"a":1,` → `{"a":1,"a":1,`.
      const match = /\{("[^"\\]*":(?:"[^"\\]*"|-?\d+|true|false|null)),/.exec(text);
      if (!match) return bytes;
      return Buffer.from(text.replace(match[0], `{${match[1]},${match[1]},`));
    }
  }
}
type TextMutation =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'byte'; at: number; byte: number }
  | { kind: 'duplicate'; at: number };

/**
 * The fuzz's checks on one answer (throws AssertionError naming the broken
 * one): no 5xx but a retryable 503 with a retry time; every refusal in the
 * documented shape with the status its code has; a refusal changed nothing.
 */
function checkAnswer(status: number, body: string, before: string, after: string, context: string): void {
  if (status >= 500) {
    assert.equal(status, 503, `no 5xx but the deliberate 503: ${context}`);
    const wire = JSON.parse(body) as WireError;
    assert.ok(wire.code === 'overloaded' || wire.code === 'online_unavailable', context);
    assert.ok((wire.retryAfterMs ?? 0) > 0, `a 503 carries its retry time: ${context}`);
  }
  if (status >= 400) {
    const wire = JSON.parse(body) as WireError;
    assert.ok(wire.code in ERROR_CODES, `a documented code: ${context}`);
    assert.equal(ERROR_CODES[wire.code].status, status, context);
    assert.equal(typeof wire.message, 'string', context);
    assert.equal(typeof wire.retryable, 'boolean', context);
    assert.equal(after, before, `a refused request changed nothing: ${context}`);
  }
}

describe('fuzz checks catch violations (tamper)', () => {
  const ok = JSON.stringify({ code: 'invalid_request', message: 'm', retryable: false });
  it('accepts a good refusal and a deliberate 503', () => {
    checkAnswer(400, ok, 's', 's', 'good');
    checkAnswer(200, '{}', 's', 't', 'a 2xx may change state');
    checkAnswer(
      503,
      JSON.stringify({ code: 'overloaded', message: 'm', retryable: true, retryAfterMs: 5 }),
      's',
      's',
      '',
    );
  });
  it('catches a 500, a 503 without retry time, a foreign shape, a wrong status, a state change', () => {
    const internal = JSON.stringify({ code: 'internal', message: 'm', retryable: true });
    assert.throws(() => checkAnswer(500, internal, 's', 's', ''), /no 5xx/);
    const bare503 = JSON.stringify({ code: 'overloaded', message: 'm', retryable: true });
    assert.throws(() => checkAnswer(503, bare503, 's', 's', ''), /retry time/);
    const fastify = JSON.stringify({ error: 'Bad Request', message: 'x', statusCode: 400 });
    assert.throws(() => checkAnswer(400, fastify, 's', 's', ''), /documented code/);
    assert.throws(() => checkAnswer(404, ok, 's', 's', ''));
    assert.throws(() => checkAnswer(400, ok, 's', 'changed', ''), /changed nothing/);
  });
});

describe('fuzz: every route, hostile input', () => {
  it('never a 5xx, always the error shape, refused input changes nothing, maps stay bounded', async () => {
    const h = await createHarness({ sourceLimit: { rate: 20, maxSources: 50 } });
    try {
      const d = await h.enrollDevice('till');
      const shift = d.openShift();
      const sale = d.sale(shift.id, 450);
      const validBatch = d.batch([shift, sale]);
      const token = await h.newToken('fuzz');
      const samples: Record<string, unknown> = {
        '/v1/batches': validBatch,
        '/v1/enroll': { token, publicKey: d.keys.publicKey, sig: 'A'.repeat(86), label: 'x' },
        '/v1/ops/query': { device: d.id, ids: [sale.id], at: Date.now(), sig: 'A'.repeat(86) },
        '/v1/policy': { device: d.id, at: Date.now(), sig: 'A'.repeat(86) },
        '/v1/feed': { device: d.id, at: Date.now(), sig: 'A'.repeat(86), after: 0 },
        '/v1/authorize': { device: d.id, opId: sale.id, sig: 'A'.repeat(86) },
        '/v1/devices/rotate-key': {
          device: d.id,
          publicKey: generateDeviceKeys().publicKey,
          at: Date.now(),
          sig: 'A'.repeat(86),
          newSig: 'A'.repeat(86),
        },
      };
      let before = await snapshot(h);
      let requests = 0;
      const request = fc.record({
        route: fc.constantFrom(...ROUTES),
        method: fc.option(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), { nil: undefined }),
        param: fc.oneof(fc.constant(d.id), fc.uuid(), fc.string({ maxLength: 200 }), fc.constant('%zz')),
        query: fc.option(
          fc.dictionary(
            fc.constantFrom('after', 'limit', 'at', 'device', 'status', 'type', 'from', 'to'),
            fc.string({ maxLength: 20 }),
            { maxKeys: 3 },
          ),
          { nil: undefined },
        ),
        auth: fc.constantFrom('none', 'wrong', 'valid'),
        source: fc.oneof(fc.constant('127.0.0.1'), fc.ipV4()),
        contentType: fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          '',
        ),
        body: fc.oneof(
          fc.record({
            kind: fc.constant('sample' as const),
            picks: fc.array(fc.nat(), { maxLength: 5 }),
            value: fc.jsonValue({ maxDepth: 3 }),
          }),
          fc.record({ kind: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 4 }) }),
          fc.record({ kind: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 300 }) }),
          fc.record({ kind: fc.constant('none' as const) }),
        ),
        text: textMutation,
      });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          requests++;
          const [routeMethod, routePath] = r.route;
          const method = r.method ?? routeMethod;
          const path = routePath.replace(/:id|:uid/, encodeURIComponent(r.param).replace('%25zz', '%zz'));
          const query = r.query ? `?${new URLSearchParams(r.query).toString()}` : '';
          let payload: Buffer | undefined;
          if (r.body.kind === 'sample') {
            const sample = samples[routePath] ?? {};
            payload = applyText(JSON.stringify(mutate(sample, r.body.picks, r.body.value)), r.text as TextMutation);
          } else if (r.body.kind === 'json') {
            payload = applyText(JSON.stringify(r.body.value) ?? 'null', r.text as TextMutation);
          } else if (r.body.kind === 'bytes') payload = Buffer.from(r.body.value);
          const headers: Record<string, string> = {};
          if (r.contentType) headers['content-type'] = r.contentType;
          if (r.auth === 'valid') headers.authorization = `Bearer ${OPERATOR_TOKEN}`;
          if (r.auth === 'wrong') headers.authorization = 'Bearer wrong-token-wrong-token';
          const res = await h.app.inject({
            method: method as 'GET',
            url: path + query,
            headers,
            remoteAddress: r.source,
            ...(payload !== undefined && method !== 'GET' ? { payload } : {}),
          });
          const context = `${method} ${path}${query} → ${res.statusCode} ${res.body.slice(0, 300)}`;
          const after = await snapshot(h);
          checkAnswer(res.statusCode, res.body, before, after, context);
          before = after;
        }),
        { numRuns: 3000, seed: 15, endOnFailure: true },
      );
      assert.ok(requests >= 3000);
      const load = await h.request<{ tracked: { devices: number; sources: number } }>('GET', '/v1/admin/load', {
        admin: true,
      });
      assert.ok(load.body.tracked.devices <= 1, `only the verified device has state: ${JSON.stringify(load.body)}`);
      assert.ok(load.body.tracked.sources <= 50, 'sources bounded');
    } finally {
      await h.close();
    }
  });
});
