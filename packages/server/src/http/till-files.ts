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
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { registerWebApp } from './web-app-files.js';

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

export function registerTill(app: FastifyInstance, dir: string = DEFAULT_TILL_DIR): void {
  // index.html is revalidated like the rest: a new build must reach the till (its service worker serves it offline).
  registerWebApp(app, { mount: 'till', name: 'till', dir, csp: TILL_CSP, indexCache: 'no-cache' });
}
