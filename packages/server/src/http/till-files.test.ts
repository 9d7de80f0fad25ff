/**
 * The till app's static files at /till/ (till-files.ts): the built files
 * only, with their types (sqlite3.wasm as application/wasm, the manifest),
 * a CSP that allows the journal's worker and WebAssembly but no inline or
 * evaluated script and no other origin; a clear not_found when not built.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HoldfastService } from '../holdfast-service.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { OPERATOR_TOKEN } from '../testing/harness.js';
import { buildApp } from './build-app.js';
import { TILL_CSP } from './till-files.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-till-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function appWith(dir: string) {
  const storage = new SqliteStorage({ path: ':memory:' });
  await storage.migrate();
  const app = buildApp({ service: new HoldfastService({ storage }), operatorToken: OPERATOR_TOKEN, tillDir: dir });
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await storage.close();
    },
  };
}

describe('GET /till/', () => {
  const dir = join(root, 'built');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>till</title>');
  writeFileSync(join(dir, 'till.js'), 'console.log(1)');
  writeFileSync(join(dir, 'sqlite3.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
  writeFileSync(join(dir, 'manifest.webmanifest'), '{}');
  writeFileSync(join(dir, 'secret.txt'), 'not served');
  writeFileSync(join(dir, 'sub', 'x.js'), 'not served');

  it('serves the built files with their types and the till CSP; revalidates by ETag', async () => {
    const s = await appWith(dir);
    try {
      const page = await s.app.inject({ method: 'GET', url: '/till/' });
      assert.equal(page.statusCode, 200);
      assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(page.headers['content-security-policy'], TILL_CSP);
      assert.match(TILL_CSP, /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
      assert.match(TILL_CSP, /worker-src 'self'(;|$)/);
      assert.match(TILL_CSP, /connect-src 'self'(;|$)/);
      assert.doesNotMatch(TILL_CSP, /unsafe-inline|'unsafe-eval'/);
      const wasm = await s.app.inject({ method: 'GET', url: '/till/sqlite3.wasm' });
      assert.equal(wasm.statusCode, 200);
      assert.equal(wasm.headers['content-type'], 'application/wasm');
      const manifest = await s.app.inject({ method: 'GET', url: '/till/manifest.webmanifest' });
      assert.equal(manifest.headers['content-type'], 'application/manifest+json');
      const js = await s.app.inject({ method: 'GET', url: '/till/till.js' });
      assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
      const again = await s.app.inject({
        method: 'GET',
        url: '/till/till.js',
        headers: { 'if-none-match': String(js.headers.etag) },
      });
      assert.equal(again.statusCode, 304);
      const bare = await s.app.inject({ method: 'GET', url: '/till' });
      assert.equal(bare.statusCode, 301);
      assert.equal(bare.headers.location, '/till/');
      for (const url of ['/till/secret.txt', '/till/sub/x.js', '/till/..%2Findex.html', '/till/nope.js']) {
        const res = await s.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 404, url);
        assert.equal(res.json().code, 'not_found', url);
      }
    } finally {
      await s.close();
    }
  });

  it('answers not_found naming the build when the till was not built', async () => {
    const s = await appWith(join(root, 'missing'));
    try {
      const res = await s.app.inject({ method: 'GET', url: '/till/' });
      assert.equal(res.statusCode, 404);
      assert.match(res.json().message, /till was not built.*npm run build/);
    } finally {
      await s.close();
    }
  });
});
