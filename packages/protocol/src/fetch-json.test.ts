import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
});
