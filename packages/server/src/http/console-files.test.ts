/**
 * The console's static files at /console/ (console-files.ts): only the
 * files the build left, with their content types, a CSP forbidding inline
 * script, ETag revalidation; nothing else of the file system; a clear
 * not_found when the console was not built. And GET /v1/admin/live: an
 * operator's server-sent `sample` events; nobody else's.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HoldfastService } from '../holdfast-service.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createHarness, OPERATOR_TOKEN } from '../testing/harness.js';
import { buildApp } from './build-app.js';
import { CONSOLE_CSP } from './console-files.js';
import type { LiveSample } from './live-routes.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-console-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function appWith(dir: string) {
  const storage = new SqliteStorage({ path: ':memory:' });
  await storage.migrate();
  const app = buildApp({ service: new HoldfastService({ storage }), operatorToken: OPERATOR_TOKEN, consoleDir: dir });
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await storage.close();
    },
  };
}

describe('GET /console/', () => {
  const dir = join(root, 'built');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(dir, 'console.js'), 'console.log(1)');
  writeFileSync(join(dir, 'console.css'), 'body{}');
  writeFileSync(join(dir, 'secret.txt'), 'not served');
  writeFileSync(join(dir, 'sub', 'x.js'), 'not served');
  writeFileSync(join(root, 'outside.js'), 'not served');

  it('serves the built files with their types, the CSP and cache headers; revalidates by ETag', async () => {
    const s = await appWith(dir);
    try {
      const page = await s.app.inject({ method: 'GET', url: '/console/' });
      assert.equal(page.statusCode, 200);
      assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(page.headers['content-security-policy'], CONSOLE_CSP);
      assert.match(CONSOLE_CSP, /script-src 'self'(;|$)/);
      assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval/);
      assert.equal(page.headers['cache-control'], 'no-store');
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
      assert.equal(page.body, '<!doctype html><title>console</title>');

      const js = await s.app.inject({ method: 'GET', url: '/console/console.js' });
      assert.equal(js.statusCode, 200);
      assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(js.headers['cache-control'], 'no-cache');
      const etag = js.headers.etag;
      assert.equal(typeof etag, 'string');
      const again = await s.app.inject({
        method: 'GET',
        url: '/console/console.js',
        headers: { 'if-none-match': String(etag) },
      });
      assert.equal(again.statusCode, 304);
      assert.equal(again.body, '');
      const css = await s.app.inject({ method: 'GET', url: '/console/console.css' });
      assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');

      const bare = await s.app.inject({ method: 'GET', url: '/console' });
      assert.equal(bare.statusCode, 301);
      assert.equal(bare.headers.location, '/console/');
    } finally {
      await s.close();
    }
  });

  it('serves nothing else: other extensions, subdirectories, paths out of the directory', async () => {
    const s = await appWith(dir);
    try {
      for (const url of [
        '/console/secret.txt',
        '/console/sub/x.js',
        '/console/sub%2Fx.js',
        '/console/..%2Foutside.js',
        '/console/../outside.js',
        '/console/nope.js',
      ]) {
        const res = await s.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 404, url);
        assert.equal(res.json().code, 'not_found', url);
        assert.doesNotMatch(res.body, /not served/, url);
      }
    } finally {
      await s.close();
    }
  });

  it('answers not_found naming the build when the console was not built', async () => {
    const s = await appWith(join(root, 'missing'));
    try {
      const res = await s.app.inject({ method: 'GET', url: '/console/' });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'not_found');
      assert.match(res.json().message, /console was not built.*npm run build/);
    } finally {
      await s.close();
    }
  });
});

/** The first `sample` event of GET /v1/admin/live, or the status and body of a refusal. */
function firstEvent(
  port: number,
  headers: Record<string, string>,
  query = '',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: `/v1/admin/live${query}`, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (res.statusCode === 200 && text.includes('\n\n')) {
          resolve({ status: 200, text });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /v1/admin/live', () => {
  it('streams samples to any operator who may read; refuses the unauthenticated and a bad interval', async () => {
    const h = await createHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (h.app.server.address() as AddressInfo).port;
    try {
      const d = await h.enrollDevice('till-1');
      const open = d.openShift();
      assert.equal((await h.send(d.batch([open, d.sale(open.id, 1_250)]))).status, 200);
      const viewer = await h.operator('vera', 'viewer');

      const got = await firstEvent(port, viewer);
      assert.equal(got.status, 200);
      const [event, data] = got.text.split('\n');
      assert.equal(event, 'event: sample');
      const sample = JSON.parse((data ?? '').replace(/^data: /, '')) as LiveSample;
      assert.equal(sample.at, h.clock.now());
      assert.deepEqual(
        [sample.ingest.batches, sample.ingest.accepted, sample.devices.active, sample.devices.behind],
        [1, 2, 1, 0],
      );
      assert.equal(typeof sample.storageQueueDepth, 'number');
      assert.equal(sample.forwarding.pending, 0);

      const anonymous = await firstEvent(port, {});
      assert.equal(anonymous.status, 401);
      assert.equal(JSON.parse(anonymous.text).code, 'unauthorized');
      const bad = await firstEvent(port, viewer, '?every=10');
      assert.equal(bad.status, 400);
      assert.equal(JSON.parse(bad.text).field, 'query.every');
    } finally {
      await h.close();
    }
  });

  it('ends open streams when the server closes', async () => {
    const h = await createHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (h.app.server.address() as AddressInfo).port;
    let started: () => void = () => undefined;
    const streaming = new Promise<void>((resolve) => {
      started = resolve;
    });
    const ended = new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/v1/admin/live?every=250', headers: h.adminHeaders },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
            started();
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    // Closing must not hang on the open stream: the server's preClose hook ends it.
    await streaming;
    await h.close();
    assert.match(await ended, /^event: sample\n/);
  });
});
