/**
 * The HTTP edge against hostile clients, over real sockets (issue 15, items
 * 1, 2, 3, 6 and 10b/10d): slow bodies, unauthenticated floods, malformed
 * HTTP, duplicate JSON members, invalid UTF-8.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import {
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  signMessage,
  type WireError,
} from '@holdfast/protocol';
import { createHarness, type Harness, type HarnessOptions } from '../testing/harness.js';

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

function parseRaw(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, headers: head, body: end < 0 ? '' : text.slice(end + 4) };
}

/** Opens a socket to `port` (from `localAddress`, a loopback address). */
function open(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends on `socket` until it closes it. */
function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Sends raw bytes on a fresh connection and reads the answer up to the close. */
async function raw(port: number, bytes: string | Buffer): Promise<RawAnswer> {
  const socket = await open(port);
  const answer = readAll(socket);
  socket.write(bytes);
  return parseRaw(await answer);
}

/** A request with a JSON body (bytes as given), on a fresh connection closed after the answer. */
function rawPost(port: number, path: string, body: Buffer | string, headers: Record<string, string> = {}) {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    `Content-Length: ${bytes.length}\r\n\r\n`;
  return raw(port, Buffer.concat([Buffer.from(head), bytes]));
}

/** POST from a given loopback source address (node:http, so the connection is real). */
function postFrom(
  port: number,
  localAddress: string,
  path: string,
  body: string,
): Promise<{ status: number; body: WireError & Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', connection: 'close' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
        );
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

async function listening(options: HarnessOptions): Promise<{ h: Harness; port: number }> {
  const h = await createHarness(options);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { h, port };
}

function assertWireShape(answer: RawAnswer, status: number, code: WireError['code']): WireError {
  assert.equal(answer.status, status, answer.headers + answer.body);
  assert.match(answer.headers, /content-type: application\/json/i);
  const body = JSON.parse(answer.body) as WireError;
  assert.equal(body.code, code, answer.body);
  assert.equal(typeof body.message, 'string');
  assert.equal(typeof body.retryable, 'boolean');
  assert.deepEqual(
    Object.keys(body).filter((k) => !['code', 'message', 'retryable', 'field', 'rule', 'retryAfterMs'].includes(k)),
    [],
    `only the documented members: ${answer.body}`,
  );
  return body;
}

describe('slow bodies (issue 15 #1)', () => {
  it('a socket dribbling its body holds no admission slot and is cut by the request timeout', async () => {
    const { h, port } = await listening({
      admission: { maxBacklog: 1, maxLive: 1 },
      edge: { requestTimeoutMs: 1500, headersTimeoutMs: 1000 },
    });
    const slow: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      const d = await h.enrollDevice('till');
      const shift = d.openShift();
      // Three clients announce a 1000-byte body on both lanes and send one byte at a time.
      const cut: Promise<string>[] = [];
      for (const lane of ['live', 'backlog', 'backlog']) {
        const socket = await open(port);
        slow.push(socket);
        cut.push(readAll(socket));
        socket.write(
          `POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nholdfast-lane: ${lane}\r\n` +
            'Content-Length: 1000\r\n\r\n{',
        );
        timers.push(setInterval(() => socket.writable && socket.write(' '), 100));
      }
      // Meanwhile a valid batch is admitted (before the fix: 503 overloaded, the slots were held).
      const res = await fetch(`http://127.0.0.1:${port}/v1/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(d.batch([shift])),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(((await res.json()) as { results: { status: string }[] }).results[0]?.status, 'accepted');
      // The slow ones are cut by the request timeout with the documented 408.
      for (const answer of await Promise.all(cut)) {
        const wire = assertWireShape(parseRaw(answer), 408, 'request_timeout');
        assert.equal(wire.retryable, true);
      }
      const load = await h.request<{ admitted: Record<string, number> }>('GET', '/v1/admin/load', { admin: true });
      assert.deepEqual(load.body.admitted, { live: 0, backlog: 0 });
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of slow) s.destroy();
      await h.close();
    }
  });

  it('a batch whose lane filled while its body arrived is refused 503 before its body is parsed', async () => {
    const { h, port } = await listening({ admission: { maxBacklog: 1 } });
    const ingest = h.service.ingestVerified.bind(h.service);
    let entered!: () => void;
    const holding = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The first batch holds the one backlog slot until released.
    h.service.ingestVerified = async (verified) => {
      entered();
      await held;
      return ingest(verified);
    };
    const socket = await open(port);
    try {
      const d = await h.enrollDevice('till');
      // Headers arrive while the lane is empty: the request passes; its body (not JSON) is still on its way.
      const body = '{"device": 1';
      const answer = readAll(socket);
      socket.write(
        'POST /v1/batches HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 1)}`,
      );
      const first = fetch(`http://127.0.0.1:${port}/v1/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(d.batch([d.openShift()])),
      });
      await holding;
      socket.write(body.slice(1));
      // Refused as the lane is full (before the fix, parsed first: 400 malformed JSON).
      const refused = parseRaw(await answer);
      const wire = assertWireShape(refused, 503, 'overloaded');
      assert.equal(wire.retryable, true);
      assert.match(refused.headers, /retry-after: \d+/i);
      release();
      assert.equal((await first).status, 200);
    } finally {
      release();
      socket.destroy();
      await h.close();
    }
  });

  it('slow headers are cut with 408 in the documented shape', async () => {
    const { h, port } = await listening({ edge: { requestTimeoutMs: 1000, headersTimeoutMs: 500 } });
    try {
      const socket = await open(port);
      const answer = readAll(socket);
      socket.write('GET /v1/health HTTP/1.1\r\nHost: x\r\n');
      assertWireShape(parseRaw(await answer), 408, 'request_timeout');
    } finally {
      await h.close();
    }
  });

  it('refuses connections beyond the cap', async () => {
    const { h, port } = await listening({ edge: { maxConnections: 2 } });
    const held: Socket[] = [];
    try {
      held.push(await open(port), await open(port));
      // Let the server accept both before the third arrives.
      await new Promise((r) => setTimeout(r, 50));
      const third = await open(port);
      const answer = await readAll(third);
      assert.equal(answer, '', 'the third connection was closed without an answer');
      for (const s of held) s.destroy();
    } finally {
      for (const s of held) s.destroy();
      await h.close();
    }
  });

  it('refuses bad timeout options naming them', async () => {
    await assert.rejects(
      createHarness({ edge: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }),
      /headersTimeoutMs/,
    );
    await assert.rejects(createHarness({ edge: { maxConnections: 0 } }), /maxConnections/);
  });
});

describe('unauthenticated traffic (issue 15 #2, #3)', () => {
  it('huge fresh device strings in refused bodies leave no per-device state', async () => {
    const { h, port } = await listening({ sourceLimit: { rate: 20 } });
    try {
      for (let i = 0; i < 40; i++) {
        const body = JSON.stringify({ device: `${i}-${'x'.repeat(256 * 1024)}`, ops: [], sig: 'a' });
        const answer = await postFrom(port, '127.0.0.1', '/v1/batches', body);
        assert.equal(answer.status, 400);
      }
      const load = await h.request<{ tracked: { devices: number; sources: number } }>('GET', '/v1/admin/load', {
        admin: true,
      });
      assert.deepEqual(load.body.tracked, { devices: 0, sources: 1 });
    } finally {
      await h.close();
    }
  });

  it("200 unsigned bodies naming a victim do not spend the victim's budget; their source is limited", async () => {
    const { h, port } = await listening({ sourceLimit: { burst: 50, rate: 1 } });
    try {
      const victim = await h.enrollDevice('victim');
      const shift = victim.openShift();
      const valid = victim.batch([shift]);
      const forged = JSON.stringify({ ...valid, sig: 'A'.repeat(86) });
      const unsigned = JSON.stringify({ ...valid, sig: undefined });
      const codes = new Map<string, number>();
      for (let i = 0; i < 200; i++) {
        const answer = await postFrom(port, '127.0.0.2', '/v1/batches', i % 2 ? forged : unsigned);
        codes.set(answer.body.code, (codes.get(answer.body.code) ?? 0) + 1);
      }
      const answer = await postFrom(port, '127.0.0.1', '/v1/batches', JSON.stringify(valid));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal((answer.body.results as { status: string }[])[0]?.status, 'accepted');
      assert.equal(codes.get('rate_limited'), 150, `the attacker's address is limited after its burst: ${[...codes]}`);
    } finally {
      await h.close();
    }
  });
});

describe('errors in the documented shape (issue 15 #6)', () => {
  it('malformed HTTP, oversized headers, long URLs and path params, bad URL encoding', async () => {
    const { h, port } = await listening({});
    try {
      assertWireShape(await raw(port, 'GARBAGE\r\n\r\n'), 400, 'malformed_http');
      assertWireShape(
        await raw(port, 'GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n'),
        400,
        'malformed_http',
      );
      const bigHeader = `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
      assertWireShape(await raw(port, bigHeader), 431, 'headers_too_large');
      const longUrl = `/v1/${'u'.repeat(20_000)}`;
      const url = await raw(port, `GET ${longUrl} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.ok(url.status === 414 || url.status === 431, url.headers);
      assert.ok(!url.body.includes('uuuuuuuu'), 'the URL is not echoed');
      const param = `/v1/admin/devices/${'p'.repeat(500)}`;
      const long = await raw(port, `GET ${param} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assertWireShape(long, 414, 'uri_too_long');
      assert.ok(!long.body.includes('pppppppp'), `the URL is not echoed: ${long.body}`);
      const notFound = await raw(port, `GET /v1/${'n'.repeat(5000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assertWireShape(notFound, 404, 'not_found');
      assert.ok(notFound.body.length < 400, `a long unknown path is not echoed whole: ${notFound.body.length}`);
      const bad = await raw(port, 'GET /v1/admin/devices/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(JSON.parse(bad.body).retryable, false);
      assert.ok(['malformed_http', 'unauthorized', 'invalid_request'].includes(JSON.parse(bad.body).code), bad.body);
    } finally {
      await h.close();
    }
  });

  it("Fastify's own 4xx (content type, length, parse errors) answer the documented shape", async () => {
    const { h, port } = await listening({});
    try {
      assertWireShape(await rawPost(port, '/v1/batches', '{"a":', {}), 400, 'malformed_json');
      assertWireShape(await rawPost(port, '/v1/batches', ''), 400, 'malformed_json');
      const text = await raw(
        port,
        'POST /v1/batches HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi',
      );
      assertWireShape(text, 415, 'unsupported_media_type');
      const chunkedBad = await raw(
        port,
        'POST /v1/batches HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      );
      assertWireShape(chunkedBad, 400, 'malformed_http');
      const wrongVerb = await raw(port, 'DELETE /v1/batches HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assertWireShape(wrongVerb, 404, 'not_found');
    } finally {
      await h.close();
    }
  });
});

describe('I-JSON bodies (issue 15 #10b, #10d)', () => {
  it('refuses duplicate member names naming the member, at any depth, and applies nothing', async () => {
    const { h, port } = await listening({});
    try {
      const d = await h.enrollDevice('till');
      const shift = d.openShift();
      const text = JSON.stringify(d.batch([shift]));
      const top = text.replace('{"device":', `{"device":"${d.id}","device":`);
      const topAnswer = assertWireShape(await rawPost(port, '/v1/batches', top), 400, 'duplicate_member');
      assert.match(topAnswer.message, /"device"/);
      const deep = text.replace('"openingFloat":10000', '"openingFloat":999999,"openingFloat":10000');
      const deepAnswer = assertWireShape(await rawPost(port, '/v1/batches', deep), 400, 'duplicate_member');
      assert.equal(deepAnswer.field, 'ops[0].body.openingFloat');
      assert.match(deepAnswer.message, /"openingFloat"/);
      const escaped = text.replace('"openingFloat":10000', '"openingFloat":1,"\\u006fpeningFloat":10000');
      assertWireShape(await rawPost(port, '/v1/batches', escaped), 400, 'duplicate_member');
      assert.equal((await h.storage.summary()).opsAccepted, 0, 'nothing applied');
      // The same members in sibling objects are not duplicates.
      const ok = await rawPost(port, '/v1/batches', text);
      assert.equal(ok.status, 200, ok.body);
    } finally {
      await h.close();
    }
  });

  it('refuses invalid UTF-8 instead of storing U+FFFD', async () => {
    const { h, port } = await listening({});
    try {
      const token = await h.newToken();
      const keys = generateDeviceKeys();
      const sig = signMessage(enrollmentMessage(token, keys.publicKey), importPrivateKey(keys.privateKey));
      const json = JSON.stringify({ token, publicKey: keys.publicKey, sig, label: 'A@Z' });
      const at = json.indexOf('A@Z') + 1;
      const bytes = Buffer.from(json);
      bytes[at] = 0xff; // not a UTF-8 byte
      assertWireShape(await rawPost(port, '/v1/enroll', bytes), 400, 'invalid_utf8');
      assert.deepEqual(await h.storage.listDeviceStatuses(), [], 'nobody enrolled');
      const fine = await rawPost(port, '/v1/enroll', Buffer.from(json.replace('A@Z', 'A\u00e9Z')));
      assert.equal(fine.status, 200, fine.body);
      assert.equal(JSON.parse(fine.body).label, 'A\u00e9Z');
    } finally {
      await h.close();
    }
  });
});
