/**
 * The operator console's static files (built by packages/web into its
 * dist/console/), served at `/console/` without a static-files plugin: the
 * directory is listed once at startup and only those names are ever
 * served, so no request path reaches the file system.
 *
 *   GET /console          → 301 to /console/
 *   GET /console/         index.html
 *   GET /console/:file    one of the built files (console.js, console.css…)
 *
 * Every answer carries a Content-Security-Policy that allows no inline
 * script and no other origin, and `nosniff`; index.html is never cached
 * (it names the bundle), the bundle is revalidated by its ETag.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` puts the console: packages/web/dist/console, next to this package. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../web/dist/console/', import.meta.url));

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

interface ConsoleFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** The servable files of `dir` (flat; unknown extensions left out), or null when the console was not built. */
function loadFiles(dir: string): Map<string, ConsoleFile> | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const files = new Map<string, ConsoleFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    const path = join(dir, name);
    if (type === undefined || !statSync(path).isFile()) continue;
    const body = readFileSync(path);
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return files;
}

export function registerConsole(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): void {
  const files = loadFiles(dir);

  function send(reply: FastifyReply, name: string, ifNoneMatch: string | undefined) {
    if (files === null) {
      throw new ProtocolError(
        'not_found',
        `the console was not built (no ${join(dir, 'index.html')}): run npm run build`,
      );
    }
    const file = files.get(name);
    if (!file) throw new ProtocolError('not_found', `no console file ${name.slice(0, 100)}`);
    void reply
      .header('content-type', file.type)
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('cache-control', name === 'index.html' ? 'no-store' : 'no-cache')
      .header('etag', file.etag);
    if (ifNoneMatch === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  }

  app.get('/console', async (_request, reply) => reply.redirect('/console/', 301));
  app.get('/console/', async (request, reply) => send(reply, 'index.html', request.headers['if-none-match']));
  app.get('/console/:file', async (request, reply) => {
    const { file } = request.params as { file?: unknown };
    return send(reply, typeof file === 'string' ? file : '', request.headers['if-none-match']);
  });
}
