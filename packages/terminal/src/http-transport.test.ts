import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Batch } from '@holdfast/protocol';
import { TransportError } from './errors.js';
import { HttpTransport, parseRetryAfter } from './http-transport.js';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  lane: string | string[] | undefined;
  body: string;
}

type Reply = { status: number; body: string; headers?: Record<string, string> } | 'hang' | 'destroy';

describe('HttpTransport', () => {
  const seen: Seen[] = [];
  let reply: Reply = { status: 200, body: '{}' };
  let server: http.Server;
  let base: string;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          contentType: req.headers['content-type'],
          lane: req.headers['holdfast-lane'],
          body,
        });
        if (reply === 'hang') return;
        if (reply === 'destroy') {
          req.socket.destroy();
          return;
        }
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
    status,
    body: JSON.stringify(body),
    ...(headers ? { headers } : {}),
  });

  test('routes, methods and JSON bodies', async () => {
    const transport = new HttpTransport(base);
    seen.length = 0;
    reply = json(200, { deviceId: 'd', label: 'l', enrolledAt: 1, serverTime: 2 });
    const enroll = { token: 't', publicKey: 'k', sig: 's' };
    const enrolled = await transport.enroll(enroll, 1000);
    assert.deepEqual(enrolled, {
      ok: true,
      status: 200,
      body: { deviceId: 'd', label: 'l', enrolledAt: 1, serverTime: 2 },
    });
    reply = json(200, { device: 'd', results: [], highWater: 0, serverTime: 2 });
    const batch = { device: 'd', ops: [], sig: 's', sentAt: 1, latestSeq: 1 } as unknown as Batch;
    assert.equal((await transport.sendBatch(batch, 1000)).ok, true);
    assert.equal((await transport.sendBatch(batch, 1000, 'live')).ok, true);
    reply = json(200, { results: [], highWater: 0, serverTime: 2 });
    assert.equal((await transport.queryOps({ device: 'd', ids: ['x'], at: 1, sig: 's' }, 1000)).ok, true);
    reply = json(200, { status: 'ok', protocol: 1, time: 5 });
    const pong = await transport.ping(1000);
    assert.ok(pong.ok && pong.body.time === 5);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.contentType]),
      [
        ['POST', '/v1/enroll', 'application/json'],
        ['POST', '/v1/batches', 'application/json'],
        ['POST', '/v1/batches', 'application/json'],
        ['POST', '/v1/ops/query', 'application/json'],
        ['GET', '/v1/health', undefined],
      ],
    );
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), enroll);
    assert.deepEqual(JSON.parse(seen[1]?.body ?? ''), batch);
    assert.deepEqual(
      seen.map((s) => s.lane),
      [undefined, undefined, 'live', undefined, undefined],
      'only a live batch carries the lane header',
    );
  });

  test('an error answer is a result with the wire error and Retry-After', async () => {
    const transport = new HttpTransport(base);
    reply = json(429, { code: 'rate_limited', message: 'slow down', retryable: true }, { 'retry-after': '7' });
    assert.deepEqual(await transport.ping(1000), {
      ok: false,
      status: 429,
      error: { code: 'rate_limited', message: 'slow down', retryable: true },
      retryAfterMs: 7000,
    });
    reply = json(
      503,
      { code: 'overloaded', message: 'busy', retryable: true, retryAfterMs: 9000 },
      { 'retry-after': '2' },
    );
    const busy = await transport.ping(1000);
    assert.ok(!busy.ok && busy.retryAfterMs === 9000, 'the body (precise ms) wins over the header');
    reply = json(
      503,
      { code: 'overloaded', message: 'busy', retryable: true, retryAfterMs: 1250 },
      { 'retry-after': '2' },
    );
    const precise = await transport.ping(1000);
    assert.ok(!precise.ok && precise.retryAfterMs === 1250, 'even when shorter: the header is it rounded up');
    reply = json(400, {
      code: 'invalid_request',
      message: 'bad',
      field: 'ops[0].seq',
      rule: 'integer >= 1',
      retryable: false,
    });
    const bad = await transport.ping(1000);
    assert.ok(!bad.ok && bad.error.field === 'ops[0].seq' && bad.error.rule === 'integer >= 1');
  });

  const failsWith = (code: string) => (error: unknown) => error instanceof TransportError && error.code === code;

  test('unreadable answers are bad_response (outcome unknown)', async () => {
    const transport = new HttpTransport(base);
    reply = { status: 502, body: '<html>Bad Gateway</html>' };
    await assert.rejects(transport.ping(1000), failsWith('bad_response'));
    reply = json(200, { hello: 'world' });
    await assert.rejects(transport.sendBatch({} as Batch, 1000), failsWith('bad_response'));
    reply = json(200, [1, 2]);
    await assert.rejects(transport.ping(1000), failsWith('bad_response'));
    reply = json(500, { nope: true });
    await assert.rejects(transport.ping(1000), failsWith('bad_response'));
  });

  test('no answer in time is a timeout; a dropped connection is a network error', async () => {
    const transport = new HttpTransport(base);
    reply = 'hang';
    await assert.rejects(transport.ping(50), failsWith('timeout'));
    reply = 'destroy';
    await assert.rejects(transport.ping(1000), failsWith('network'));
    const nowhere = new HttpTransport('http://127.0.0.1:1');
    await assert.rejects(nowhere.ping(1000), failsWith('network'));
  });

  test('parseRetryAfter reads delta-seconds only', () => {
    assert.equal(parseRetryAfter('120'), 120_000);
    assert.equal(parseRetryAfter(' 3 '), 3000);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT'), undefined);
    assert.equal(parseRetryAfter('-1'), undefined);
  });
});
