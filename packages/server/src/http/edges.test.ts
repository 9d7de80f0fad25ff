/**
 * The HTTP edges: request ids echoed and logged, trace context parsed and
 * logged, CORS only for allowlisted origins, security headers on every
 * answer (errors and 404s included), and error answers unchanged.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { HoldfastService } from '../holdfast-service.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createHarness, OPERATOR_TOKEN } from '../testing/harness.js';
import { buildApp } from './build-app.js';
import { checkedOrigin, parseTraceparent } from './edges.js';

const ALLOWED = 'https://pos.example.com';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

/** An app logging JSON lines into an array. */
async function loggingApp() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  const storage = new SqliteStorage({ path: ':memory:' });
  await storage.migrate();
  const app = buildApp({
    service: new HoldfastService({ storage }),
    operatorToken: OPERATOR_TOKEN,
    logger: { level: 'info', stream },
  });
  return {
    app,
    lines,
    async close() {
      await app.close();
      await storage.close();
    },
  };
}

describe('request ids and trace context', () => {
  it('echoes an acceptable X-Request-Id, logs it as reqId, and logs the traceparent trace id', async () => {
    const s = await loggingApp();
    try {
      const res = await s.app.inject({
        method: 'GET',
        url: '/v1/health',
        headers: { 'x-request-id': 'till-7:abc.123', traceparent: TRACEPARENT },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-request-id'], 'till-7:abc.123');
      const logged = s.lines.filter((l) => l.reqId === 'till-7:abc.123');
      assert.ok(logged.length >= 2, 'incoming request and completion are logged with the id');
      assert.ok(logged.every((l) => l.traceId === TRACE_ID));
    } finally {
      await s.close();
    }
  });

  it('replaces a missing, overlong or unsafe request id with a fresh UUID, also on errors', async () => {
    const s = await loggingApp();
    try {
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
      const bad = ['x'.repeat(129), 'has space', 'quote"d', ''];
      const seen = new Set<string>();
      for (const id of [undefined, ...bad]) {
        const res = await s.app.inject({
          method: 'POST',
          url: '/v1/enroll',
          headers: { 'content-type': 'application/json', ...(id !== undefined ? { 'x-request-id': id } : {}) },
          payload: '{"token":1}',
        });
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().code, 'invalid_request', 'the coded error is unchanged');
        const echoed = res.headers['x-request-id'] as string;
        assert.match(echoed, uuid);
        seen.add(echoed);
      }
      assert.equal(seen.size, 5, 'a fresh id each time');
      assert.ok(
        s.lines.every((l) => l.traceId === undefined),
        'no trace id without a traceparent',
      );
    } finally {
      await s.close();
    }
  });

  it('parses W3C traceparent and refuses malformed or all-zero ids', () => {
    assert.deepEqual(parseTraceparent(TRACEPARENT), { traceId: TRACE_ID, parentId: '00f067aa0ba902b7', flags: '01' });
    assert.equal(parseTraceparent(`01-${TRACE_ID}-00f067aa0ba902b7-01-future`)?.traceId, TRACE_ID);
    for (const bad of [
      undefined,
      '',
      `00-${TRACE_ID}-00f067aa0ba902b7-01-extra`,
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-00f067aa0ba902b7`,
    ]) {
      assert.equal(parseTraceparent(bad), null, String(bad));
    }
  });
});

describe('CORS and security headers', () => {
  it('answers a preflight from an allowlisted origin, with credentials, and only that origin', async () => {
    const h = await createHarness({ corsOrigins: [ALLOWED, 'http://127.0.0.1:5173'] });
    try {
      const pre = await h.app.inject({
        method: 'OPTIONS',
        url: '/v1/batches',
        headers: {
          origin: ALLOWED,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, holdfast-lane',
        },
      });
      assert.equal(pre.statusCode, 204);
      assert.equal(pre.headers['access-control-allow-origin'], ALLOWED);
      assert.equal(pre.headers['access-control-allow-credentials'], 'true');
      assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
      assert.match(String(pre.headers['access-control-allow-headers']), /holdfast-lane/);
      assert.match(String(pre.headers.vary), /Origin/);

      const get = await h.request('GET', '/v1/admin/devices', { admin: true, headers: { origin: ALLOWED } });
      assert.equal(get.status, 200);
      const raw = await h.app.inject({ method: 'GET', url: '/v1/health', headers: { origin: ALLOWED } });
      assert.equal(raw.headers['access-control-allow-origin'], ALLOWED);
      assert.match(String(raw.headers['access-control-expose-headers']), /x-request-id/);

      for (const origin of ['https://evil.example.com', 'https://pos.example.com.evil.io', 'null']) {
        const other = await h.app.inject({
          method: 'OPTIONS',
          url: '/v1/batches',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
        assert.equal(other.headers['access-control-allow-origin'], undefined, origin);
        assert.equal(other.headers['access-control-allow-credentials'], undefined, origin);
        assert.equal(other.statusCode, 404, 'no preflight answer: the browser refuses the call');
        assert.equal(other.json().code, 'not_found');
      }
    } finally {
      await h.close();
    }
  });

  it('allows no cross-origin access by default', async () => {
    const h = await createHarness();
    try {
      const res = await h.app.inject({ method: 'GET', url: '/v1/health', headers: { origin: ALLOWED } });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    } finally {
      await h.close();
    }
  });

  it('puts the security headers on every answer: success, coded error, 404; HSTS only over TLS', async () => {
    const h = await createHarness();
    try {
      for (const [method, url, status] of [
        ['GET', '/v1/health', 200],
        ['GET', '/v1/admin/devices', 401],
        ['GET', '/nowhere', 404],
        ['POST', '/v1/batches', 415],
      ] as const) {
        const res = await h.app.inject({ method, url, headers: { 'content-type': 'text/plain' }, payload: 'x' });
        assert.equal(res.statusCode, status, url);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
        assert.equal(res.headers['x-frame-options'], 'DENY', url);
        assert.equal(res.headers['referrer-policy'], 'no-referrer', url);
        assert.match(String(res.headers['content-security-policy']), /default-src 'none'.*frame-ancestors 'none'/, url);
        assert.equal(res.headers['strict-transport-security'], undefined, 'plain HTTP: no HSTS');
      }
      const tls = await h.app.inject({ method: 'GET', url: '/v1/health', headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(tls.headers['strict-transport-security'], undefined, 'a client header does not turn HSTS on');
    } finally {
      await h.close();
    }
  });

  it('refuses allowlist entries that are not exact origins', () => {
    assert.equal(checkedOrigin('https://pos.example.com:8443'), 'https://pos.example.com:8443');
    for (const bad of ['*', 'pos.example.com', 'https://pos.example.com/', 'https://pos.example.com/app', 'ftp://x']) {
      assert.throws(() => checkedOrigin(bad), RangeError, bad);
    }
  });
});
