/**
 * TcpFaultProxy against a tiny local HTTP server over real sockets, with the
 * global fetch (undici, keep-alive) as the client: each mode does what it
 * says, per request even on a reused connection, and the test hooks fire at
 * the moments they name.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { type ProxyFault, type ProxyMode, TcpFaultProxy } from './tcp-fault-proxy.js';

/** A server that counts the requests it handled and answers `size` bytes of 'x' (default 64). */
class TinyServer {
  handled = 0;
  readonly #server = http.createServer((req, res) => {
    this.handled++;
    const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size') ?? 64);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': size });
      res.end('x'.repeat(size));
    });
  });

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const proxies: TcpFaultProxy[] = [];
async function proxyTo(port: number, mode: ProxyMode = 'pass', seed = 1): Promise<TcpFaultProxy> {
  const proxy = await TcpFaultProxy.start({
    targetPort: port,
    random: new SeededRandom(seed),
    mode,
    delay: { minMs: 150, maxMs: 200 },
  });
  proxies.push(proxy);
  return proxy;
}

/** GET or POST through the proxy: the body, or the error's name. */
async function call(proxy: TcpFaultProxy, path = '/', timeoutMs = 5000, method = 'GET'): Promise<string> {
  try {
    const res = await fetch(`${proxy.url}${path}`, {
      method,
      ...(method === 'POST' ? { body: 'payload' } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return await res.text();
  } catch (error) {
    return `error:${(error as Error).name}`;
  }
}

const only = (fault: ProxyFault, n: number) => ({
  pass: 0,
  drop: 0,
  delay: 0,
  'cut-response': 0,
  blackhole: 0,
  [fault]: n,
});

describe('TcpFaultProxy', () => {
  const target = new TinyServer();
  before(() => target.listen());
  after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await target.close();
  });

  it('pass forwards both ways', async () => {
    const proxy = await proxyTo(target.port);
    const before = target.handled;
    assert.equal(await call(proxy), 'x'.repeat(64));
    assert.equal(await call(proxy, '/?size=100000', 5000, 'POST'), 'x'.repeat(100_000));
    assert.equal(target.handled - before, 2);
    assert.equal(proxy.counters.requests, 2);
    assert.deepEqual(proxy.counters.faults, only('pass', 2));
  });

  it('drop closes the connection unforwarded', async () => {
    const proxy = await proxyTo(target.port, 'drop');
    const before = target.handled;
    assert.equal(await call(proxy, '/', 5000, 'POST'), 'error:TypeError');
    assert.equal(await call(proxy), 'error:TypeError');
    assert.equal(target.handled, before, 'the server never saw a dropped request');
    assert.deepEqual(proxy.counters.faults, only('drop', 2));
  });

  it('decides per request: a mode switch reaches the next request on a kept-alive connection', async () => {
    const proxy = await proxyTo(target.port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<string>((resolve) => {
        const req = http.get(`${proxy.url}/`, { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (text: string) => {
            body += text;
          });
          res.on('end', () => resolve(body));
          res.on('error', () => resolve('error'));
        });
        req.on('error', () => resolve('error'));
      });
    try {
      assert.equal(await get(), 'x'.repeat(64));
      assert.equal(await get(), 'x'.repeat(64));
      assert.equal(proxy.counters.connections, 1, 'one kept-alive connection');
      proxy.setMode('drop');
      assert.equal(await get(), 'error');
      assert.deepEqual(proxy.counters.faults, { ...only('pass', 2), drop: 1 });
      assert.equal(proxy.counters.connections, 1, 'the drop hit the kept-alive connection');
    } finally {
      agent.destroy();
    }
  });

  it('delay adds latency to each chunk and delivers everything in order', async () => {
    const proxy = await proxyTo(target.port, 'delay');
    const started = performance.now();
    assert.equal(await call(proxy, '/?size=300000', 10_000), 'x'.repeat(300_000));
    // The request and the answer each waited at least 150 ms.
    assert.ok(performance.now() - started >= 290, `took ${performance.now() - started} ms`);
    assert.deepEqual(proxy.counters.faults, only('delay', 1));
  });

  it('cut-response lets the server answer, then cuts the client mid-response', async () => {
    const proxy = await proxyTo(target.port, 'cut-response');
    const before = target.handled;
    assert.equal(await call(proxy, '/?size=5000', 5000, 'POST'), 'error:TypeError');
    assert.equal(target.handled - before, 1, 'the server handled (committed) the request');
    assert.deepEqual(proxy.counters.faults, only('cut-response', 1));
  });

  it('blackhole never forwards and never answers: the client times out', async () => {
    const proxy = await proxyTo(target.port, 'blackhole');
    const before = target.handled;
    const started = performance.now();
    assert.equal(await call(proxy, '/', 400, 'POST'), 'error:TimeoutError');
    assert.ok(performance.now() - started >= 390);
    assert.equal(target.handled, before);
    assert.deepEqual(proxy.counters.faults, only('blackhole', 1));
    proxy.setMode('pass');
    assert.equal(await call(proxy), 'x'.repeat(64), 'a new request gets the new mode');
  });

  it('mix draws each request from its weights, replayably from the seed', async () => {
    const outcomes = async (seed: number) => {
      const proxy = await proxyTo(target.port, 'mix', seed);
      proxy.setMode('mix', { mix: { pass: 2, drop: 1, 'cut-response': 1 } });
      const seen: string[] = [];
      for (let i = 0; i < 40; i++) seen.push((await call(proxy, '/?size=2000')).slice(0, 10));
      return { seen, faults: proxy.counters.faults };
    };
    const first = await outcomes(7);
    assert.deepEqual(await outcomes(7), first, 'same seed, same decisions');
    const { pass, drop, 'cut-response': cut, delay, blackhole } = first.faults;
    assert.ok(pass > 0 && drop > 0 && cut > 0, JSON.stringify(first.faults));
    assert.equal(delay + blackhole, 0);
    assert.equal(pass + drop + cut, 40);
    assert.equal(first.seen.filter((s) => s.startsWith('error')).length, drop + cut);
  });

  it('counts connections it could not forward while the target is down', async () => {
    const gone = new TinyServer();
    await gone.listen();
    const proxy = await proxyTo(gone.port);
    await gone.close();
    assert.equal(await call(proxy), 'error:TypeError');
    assert.equal(proxy.counters.targetUnreachable, 1);
  });

  it('tells when a request reached the target and its answer the client, and can hold an answer back', async () => {
    const proxy = await proxyTo(target.port);
    let inFlightThen = -1;
    const sent = proxy.nextRequest('POST /batch', 5000, () => {
      inFlightThen = proxy.inFlight('POST /batch');
    });
    const delivered = proxy.nextResponse('POST /batch', 5000);
    assert.equal(await call(proxy, '/', 5000, 'GET'), 'x'.repeat(64), 'other requests do not match');
    const answered = call(proxy, '/batch', 5000, 'POST');
    await sent;
    await delivered;
    assert.equal(await answered, 'x'.repeat(64));
    assert.equal(inFlightThen, 1);
    assert.equal(proxy.inFlight('POST /batch'), 0);

    const before = target.handled;
    const held = proxy.holdNextResponse('POST /batch', 5000);
    const waiting = call(proxy, '/batch', 600, 'POST');
    await held;
    assert.equal(await waiting, 'error:TimeoutError', 'the client never heard the answer');
    assert.equal(target.handled - before, 1);
    assert.equal(proxy.counters.held, 1);
    await assert.rejects(proxy.nextResponse('POST /batch', 50), /no delivered/);
  });

  it('close() cuts held connections and fails pending waits', async () => {
    const proxy = await proxyTo(target.port, 'blackhole');
    const waiting = call(proxy, '/', 10_000, 'POST');
    const waitFails = assert.rejects(proxy.nextResponse('POST /', 10_000), /closed/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await proxy.close();
    assert.equal(await waiting, 'error:TypeError');
    await waitFails;
    assert.ok(performance.now() - started < 2000);
  });

  it('refuses a bad mode, delay or mix', async () => {
    const proxy = await proxyTo(target.port);
    assert.throws(() => proxy.setMode('flaky' as ProxyMode), /mode must be one of/);
    assert.throws(() => proxy.setMode('delay', { delay: { minMs: 10, maxMs: 5 } }), /delay/);
    assert.throws(() => proxy.setMode('mix', { mix: { pass: 0 } }), /mix/);
    assert.equal(proxy.mode, 'pass');
  });
});
