import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { fetchJson } from './fetch-json.js';

const answering = (status: number, body: string, seen: RequestInit[] = []) =>
  (async (_url: string, init: RequestInit) => {
    seen.push(init);
    return new Response(body, { status });
  }) as unknown as typeof fetch;

const failing = (error: Error) =>
  (async () => {
    throw error;
  }) as unknown as typeof fetch;

describe('fetchJson', () => {
  it('sends JSON with accept and content-type, and reads a JSON answer of any status', async () => {
    const seen: RequestInit[] = [];
    const result = await fetchJson(answering(409, '{"code":"x"}', seen), {
      method: 'POST',
      url: 'http://server.test/v1/x',
      headers: { authorization: 'Bearer k' },
      body: { a: 1 },
      timeoutMs: 1_000,
    });
    assert.equal(result.kind, 'answer');
    assert.ok(result.kind === 'answer');
    assert.deepEqual([result.status, result.ok, result.json], [409, false, { code: 'x' }]);
    assert.deepEqual(seen[0]?.headers, {
      accept: 'application/json',
      authorization: 'Bearer k',
      'content-type': 'application/json',
    });
    assert.equal(seen[0]?.body, '{"a":1}');
  });

  it('tells a body that is not JSON, a failed request and a timeout apart', async () => {
    const get = { method: 'GET', url: 'http://server.test/', timeoutMs: 1_000 } as const;
    const html = await fetchJson(answering(502, '<html>bad gateway</html>'), get);
    assert.deepEqual([html.kind, html.kind === 'not_json' && html.status], ['not_json', 502]);
    const reset = await fetchJson(failing(new TypeError('fetch failed')), get);
    assert.deepEqual([reset.kind, reset.kind === 'network' && reset.message], ['network', 'fetch failed']);
    const timeout = new Error('signal timed out');
    timeout.name = 'TimeoutError';
    assert.equal((await fetchJson(failing(timeout), get)).kind, 'timeout');
  });

  it('settles by its deadline even when fetch never settles (as Node 20 fetch can after a reset)', {
    timeout: 20_000,
  }, async () => {
    let aborted: unknown = null;
    const hanging = ((_url: string, init: RequestInit) => {
      init.signal?.addEventListener('abort', () => {
        aborted = init.signal?.reason;
      });
      return new Promise<Response>(() => undefined); // ignores the abort, like the stuck fetch
    }) as unknown as typeof fetch;
    const result = await fetchJson(hanging, { method: 'GET', url: 'http://server.test/', timeoutMs: 50 });
    assert.equal(result.kind, 'timeout');
    assert.ok(aborted instanceof Error, 'the request was aborted when the deadline passed');
  });

  describe('against real TCP servers', () => {
    const servers: Server[] = [];
    const sockets = new Set<Socket>();
    after(() => {
      for (const s of sockets) s.destroy();
      for (const s of servers) s.close();
    });
    async function listen(onConnection: (socket: Socket) => void): Promise<string> {
      const server = createServer((socket) => {
        sockets.add(socket);
        onConnection(socket);
      });
      servers.push(server);
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const address = server.address();
      assert.ok(address && typeof address === 'object');
      return `http://127.0.0.1:${address.port}/v1/health`;
    }

    it('a server that accepts and says nothing: timeout', { timeout: 20_000 }, async () => {
      const url = await listen(() => undefined);
      const result = await fetchJson(fetch, { method: 'GET', url, timeoutMs: 200 });
      assert.equal(result.kind, 'timeout');
    });

    it('a server that accepts and resets every connection: a network error (or timeout), never a hang', {
      timeout: 20_000,
    }, async () => {
      const url = await listen((socket) => {
        socket.once('data', () => socket.resetAndDestroy());
      });
      for (let i = 0; i < 20; i++) {
        const result = await fetchJson(fetch, { method: 'POST', url, body: { i }, timeoutMs: 2_000 });
        assert.ok(result.kind === 'network' || result.kind === 'timeout', `got ${result.kind}`);
      }
    });
  });
});
