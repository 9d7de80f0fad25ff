/**
 * A built web app's static files (the console and the till, built by
 * packages/web into its dist/), served under one mount point without a
 * static-files plugin: the directory is listed once at startup and only
 * those names are ever served, so no request path reaches the file system.
 *
 *   GET /<mount>          → 301 to /<mount>/
 *   GET /<mount>/         index.html
 *   GET /<mount>/:file    one of the built files
 *
 * Every answer carries the app's Content-Security-Policy, `nosniff`, no
 * referrer and no framing, and an ETag to revalidate by.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

export interface WebApp {
  /** The path it is served under, without slashes (`console`, `till`). */
  mount: string;
  /** How errors name it ("the console was not built"). */
  name: string;
  dir: string;
  csp: string;
  /** The Cache-Control of index.html (the other files: `no-cache`, revalidated by ETag). */
  indexCache: 'no-store' | 'no-cache';
}

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** The servable files of `dir` (flat; unknown extensions left out), or null when the app was not built. */
function loadFiles(dir: string): Map<string, WebFile> | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const files = new Map<string, WebFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    const path = join(dir, name);
    if (type === undefined || !statSync(path).isFile()) continue;
    const body = readFileSync(path);
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return files;
}

export function registerWebApp(app: FastifyInstance, web: WebApp): void {
  const files = loadFiles(web.dir);

  function send(reply: FastifyReply, name: string, ifNoneMatch: string | undefined) {
    if (files === null) {
      throw new ProtocolError(
        'not_found',
        `the ${web.name} was not built (no ${join(web.dir, 'index.html')}): run npm run build`,
      );
    }
    const file = files.get(name);
    if (!file) throw new ProtocolError('not_found', `no ${web.name} file ${name.slice(0, 100)}`);
    void reply
      .header('content-type', file.type)
      .header('content-security-policy', web.csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('cache-control', name === 'index.html' ? web.indexCache : 'no-cache')
      .header('etag', file.etag);
    if (ifNoneMatch === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  }

  app.get(`/${web.mount}`, async (_request, reply) => reply.redirect(`/${web.mount}/`, 301));
  app.get(`/${web.mount}/`, async (request, reply) => send(reply, 'index.html', request.headers['if-none-match']));
  app.get(`/${web.mount}/:file`, async (request, reply) => {
    const { file } = request.params as { file?: unknown };
    return send(reply, typeof file === 'string' ? file : '', request.headers['if-none-match']);
  });
}
