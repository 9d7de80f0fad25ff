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
 * Served by web-app-files.ts. Every answer carries a Content-Security-Policy that allows no inline
 * script and no other origin, and `nosniff`; index.html is never cached
 * (it names the bundle), the bundle is revalidated by its ETag.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { registerWebApp } from './web-app-files.js';

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

export function registerConsole(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): void {
  registerWebApp(app, { mount: 'console', name: 'console', dir, csp: CONSOLE_CSP, indexCache: 'no-store' });
}
