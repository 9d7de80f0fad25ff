/**
 * The clerk's till app (built by packages/web into its dist/till/, with the
 * browser journal's worker and sqlite3.wasm copied beside it), served at
 * `/till/` as the console is (console-files.ts): the directory is listed
 * once at startup and only those names are ever served.
 *
 *   GET /till          → 301 to /till/
 *   GET /till/         index.html
 *   GET /till/:file    one of the built files (till.js, journal-worker.js, sqlite3.wasm, sw.js…)
 *
 * Its Content-Security-Policy is the console's plus what the till needs and
 * nothing more: `worker-src 'self'` (the journal's dedicated worker and the
 * service worker) and `'wasm-unsafe-eval'` (compiling SQLite's WebAssembly;
 * it allows no JavaScript eval). `manifest-src 'self'` for the PWA manifest.
 * The service worker's scope is /till/ (it is served from there).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` puts the till: packages/web/dist/till, next to this package. */
export const DEFAULT_TILL_DIR = fileURLToPath(new URL('../../../web/dist/till/', import.meta.url));

export const TILL_CSP = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface TillFile {
  body: Buffer;
  type: string;
  etag: string;
}

function loadFiles(dir: string): Map<string, TillFile> | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const files = new Map<string, TillFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    const path = join(dir, name);
    if (type === undefined || !statSync(path).isFile()) continue;
    const body = readFileSync(path);
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return files;
}

export function registerTill(app: FastifyInstance, dir: string = DEFAULT_TILL_DIR): void {
  const files = loadFiles(dir);

  function send(reply: FastifyReply, name: string, ifNoneMatch: string | undefined) {
    if (files === null) {
      throw new ProtocolError('not_found', `the till was not built (no ${join(dir, 'index.html')}): run npm run build`);
    }
    const file = files.get(name);
    if (!file) throw new ProtocolError('not_found', `no till file ${name.slice(0, 100)}`);
    void reply
      .header('content-type', file.type)
      .header('content-security-policy', TILL_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      // Always revalidated by ETag: a new build must reach the till (the service worker serves it offline).
      .header('cache-control', 'no-cache')
      .header('etag', file.etag);
    if (ifNoneMatch === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  }

  app.get('/till', async (_request, reply) => reply.redirect('/till/', 301));
  app.get('/till/', async (request, reply) => send(reply, 'index.html', request.headers['if-none-match']));
  app.get('/till/:file', async (request, reply) => {
    const { file } = request.params as { file?: unknown };
    return send(reply, typeof file === 'string' ? file : '', request.headers['if-none-match']);
  });
}
