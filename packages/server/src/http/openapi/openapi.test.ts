/**
 * The OpenAPI document: structurally OpenAPI 3.1, every route the app
 * registers is in it (with its parameters, request body and the shared
 * error answer), every $ref resolves; and documenting the routes changed
 * no answer (the protocol's coded errors still come from the handlers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '@holdfast/protocol';
import { HoldfastService } from '../../holdfast-service.js';
import { SqliteStorage } from '../../storage/sqlite/sqlite-storage.js';
import { createHarness, OPERATOR_TOKEN } from '../../testing/harness.js';
import { buildApp } from '../build-app.js';
import { OPENAPI_PATH } from './route-docs.js';

type Json = Record<string, unknown>;

/** Every `$ref` in `node`, with where it was found. */
function refs(node: unknown, path: string, out: [string, string][] = []): [string, string][] {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) refs(n, `${path}[${i}]`, out);
  } else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push([path, v]);
      else refs(v, `${path}.${k}`, out);
    }
  }
  return out;
}

/** The value a local JSON pointer ("#/a/b") names in `doc`, or undefined. */
function resolve(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    node = node !== null && typeof node === 'object' ? (node as Json)[key] : undefined;
  }
  return node;
}

/** Every (method, path) in Fastify's own route tree (`printRoutes`), HEAD twins aside. */
function printedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    stack[depth] = m[2] as string;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) {
      out.push(`${method} ${stack.join('')}`);
    }
  }
  return out;
}

/** An app with /metrics on. */
async function appWithMetrics() {
  const storage = new SqliteStorage({ path: ':memory:' });
  await storage.migrate();
  const app = buildApp({
    service: new HoldfastService({ storage }),
    operatorToken: OPERATOR_TOKEN,
    metrics: { token: 'test-metrics-token-0123456789' },
  });
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await storage.close();
    },
  };
}

describe('GET /v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document covering every route, with parameters, bodies and errors; every $ref resolves', async () => {
    const s = await appWithMetrics();
    try {
      const res = await s.app.inject({ method: 'GET', url: OPENAPI_PATH });
      assert.equal(res.statusCode, 200);
      const doc = res.json() as Json;
      assert.equal(doc.openapi, '3.1.0');
      const info = doc.info as Json;
      assert.equal(typeof info.title, 'string');
      assert.equal(typeof info.version, 'string');
      const paths = doc.paths as Record<string, Record<string, Json>>;
      assert.ok(paths && typeof paths === 'object');

      // Every route the app registered (HEAD twins of GET routes aside) is documented, and nothing else.
      const registered = printedRoutes(s.app.printRoutes({ commonPrefix: false }));
      assert.ok(registered.length >= 30, `${registered.length} routes`);
      const documented = new Set<string>();
      for (const [path, item] of Object.entries(paths)) {
        for (const method of Object.keys(item)) {
          if (method !== 'head') documented.add(`${method.toUpperCase()} ${path}`);
        }
      }
      const expected = new Set(registered.map((r) => r.replace(/:(\w+)/g, '{$1}')));
      assert.deepEqual([...documented].sort(), [...expected].sort());

      for (const [path, item] of Object.entries(paths)) {
        for (const [method, op] of Object.entries(item)) {
          const where = `${method.toUpperCase()} ${path}`;
          assert.equal(typeof op.summary, 'string', `${where}: summary`);
          const responses = op.responses as Record<string, Json>;
          assert.ok(responses['200'], `${where}: 200`);
          for (const status of ['4XX', '5XX']) {
            const content = (responses[status]?.content as Record<string, Json> | undefined)?.['application/json'];
            assert.deepEqual(content?.schema, { $ref: '#/components/schemas/WireError' }, `${where}: ${status}`);
          }
          const params = ((op.parameters ?? []) as Json[]).filter((p) => p.in === 'path').map((p) => p.name);
          const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
          assert.deepEqual(params.sort(), inPath.sort(), `${where}: path parameters`);
          if (method === 'post' || method === 'put') {
            const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
            assert.ok(body?.['application/json']?.schema, `${where}: request body`);
          }
        }
      }
      const batch = paths['/v1/batches']?.post?.requestBody as Json;
      const batchSchema = (batch.content as Record<string, Json>)['application/json']?.schema as Json;
      assert.deepEqual(batchSchema.required, ['device', 'ops', 'sig', 'sentAt', 'latestSeq']);
      const exceptions = (paths['/v1/admin/exceptions']?.get?.parameters ?? []) as Json[];
      assert.deepEqual(exceptions.map((p) => p.name).sort(), ['after', 'lang', 'limit', 'status', 'type']);
      assert.deepEqual(paths['/v1/admin/devices']?.get?.security, [{ operatorToken: [] }]);

      const wireError = resolve(doc, '#/components/schemas/WireError') as Json;
      assert.deepEqual(
        ((wireError.properties as Json).code as Json).enum,
        Object.keys(ERROR_CODES),
        'every error code is listed',
      );
      const all = refs(doc, '$');
      assert.ok(all.length > 0);
      for (const [where, ref] of all) assert.notEqual(resolve(doc, ref), undefined, `${where}: ${ref}`);
    } finally {
      await s.close();
    }
  });

  it('leaves the coded errors as they were: the protocol schemas, not Fastify, refuse bad input', async () => {
    const h = await createHarness();
    try {
      const cases: [string, string, unknown, string, string | undefined][] = [
        ['POST', '/v1/enroll', { token: 'short', publicKey: 'x', sig: 'y' }, 'invalid_request', 'token'],
        ['POST', '/v1/batches', { device: 'nope' }, 'invalid_request', 'device'],
        ['POST', '/v1/admin/enrollment-tokens', { ttlSeconds: -1 }, 'invalid_request', 'ttlSeconds'],
        ['GET', '/v1/admin/devices/not-a-uuid', undefined, 'invalid_request', 'id'],
        ['GET', '/v1/admin/ledger?limit=0', undefined, 'invalid_request', 'query.limit'],
        ['GET', '/v1/admin/exceptions?status=closed', undefined, 'invalid_request', 'query.status'],
        ['POST', '/v1/admin/devices/not-a-uuid/revoke', { reason: 'x' }, 'invalid_request', 'id'],
      ];
      for (const [method, url, payload, code, field] of cases) {
        const res = await h.request(method as 'GET' | 'POST', url, { admin: true, payload });
        assert.equal(res.error.code, code, `${method} ${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.error.field, field, `${method} ${url}`);
        assert.equal(typeof res.error.rule, 'string', `${method} ${url}: rule`);
      }
      // An answer keeps every field (no response schema strips any).
      const health = await h.request<Json>('GET', '/v1/health');
      assert.deepEqual(Object.keys(health.body).sort(), ['limits', 'protocol', 'status', 'storage', 'time']);
    } finally {
      await h.close();
    }
  });
});
