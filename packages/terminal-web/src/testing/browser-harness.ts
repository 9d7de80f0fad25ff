/**
 * Test support for the browser journal: builds the bundle, serves it from a
 * loopback HTTP server (http://127.0.0.1 is a secure context, so OPFS and
 * Web Locks work without TLS), and launches Debian's chromium through
 * playwright-core with a persistent profile (so a restart of the browser
 * process finds the same OPFS). Same binary and flags as
 * packages/e2e/src/browser/chromium.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.HOLDFAST_CHROMIUM ?? '/usr/bin/chromium';
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE_DIR = join(PACKAGE_DIR, 'dist', 'web');

/** Builds dist/web (scripts/build.mjs). */
export function buildBundle(): void {
  execFileSync(process.execPath, [join(PACKAGE_DIR, 'scripts', 'build.mjs')], { stdio: 'pipe' });
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.html': 'text/html',
};

/** The test page: loads client.js and exposes it as window.hf. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>journal</title>
<script type="module">import * as hf from './client.js'; window.hf = hf; window.hfReady = true;</script>`;

/** Serves the bundle (and the test page at /) on 127.0.0.1; resolves with its origin. */
export async function serveBundle(): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    const file = normalize(join(BUNDLE_DIR, url.pathname));
    if (!file.startsWith(BUNDLE_DIR) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Launches headless Chromium on `userDataDir` (kept across launches: same OPFS). */
export async function launchPersistent(userDataDir: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no browser at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install chromium) or set HOLDFAST_CHROMIUM`,
    );
  }
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** Pids of the Chromium processes running on `userDataDir` (this test's own browser, found by its unique profile). */
export function browserPids(userDataDir: string): number[] {
  const out: number[] = [];
  for (const entry of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
    const match = /^\s*(\d+)\s+(.*)$/.exec(entry);
    if (match && (match[2] as string).includes(`--user-data-dir=${userDataDir}`)) out.push(Number(match[1]));
  }
  return out;
}
