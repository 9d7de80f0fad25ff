/**
 * Test support for the browser till: one loopback origin that serves the
 * terminal-web bundle (and a test page at /) and forwards `/v1/...` to a
 * real Holdfast server, with a switch that makes the server unreachable
 * (every forwarded request's connection is destroyed unanswered, as a
 * network cut looks to `fetch`). Same origin, so no CORS is involved.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The browser journal's bundle (packages/terminal-web/scripts/build.mjs). */
export const BUNDLE_DIR = fileURLToPath(new URL('../../../terminal-web/dist/web', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.html': 'text/html',
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>till</title>
<script type="module">import * as hf from './client.js'; window.hf = hf; window.hfReady = true;</script>`;

export interface TillFront {
  origin: string;
  /** Whether /v1 requests reach the server. */
  reachable: boolean;
  /** Requests forwarded to the server so far, by path. */
  forwarded: string[];
  /** When set, rewrites the server's JSON answers (a hostile network on the path); null: answers pass untouched. */
  rewrite: ((path: string, body: Record<string, unknown>) => Record<string, unknown>) | null;
  close(): Promise<void>;
}

/** Serves the bundle on 127.0.0.1 and forwards /v1 to `upstream` (http://127.0.0.1:port) while reachable. */
export async function startTillFront(upstream: string): Promise<TillFront> {
  const target = new URL(upstream);
  const front: TillFront = {
    origin: '',
    reachable: true,
    forwarded: [],
    rewrite: null,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/v1/')) {
      if (!front.reachable) {
        req.socket.destroy();
        return;
      }
      front.forwarded.push(url.pathname);
      const out = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (answer) => {
          const rewrite = front.rewrite;
          if (rewrite === null) {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            return;
          }
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const body = JSON.stringify(rewrite(url.pathname, JSON.parse(Buffer.concat(chunks).toString('utf8'))));
            const { 'content-length': _, ...headers } = answer.headers;
            res.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': Buffer.byteLength(body) });
            res.end(body);
          });
        },
      );
      out.on('error', () => req.socket.destroy());
      req.pipe(out);
      return;
    }
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
  front.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  front.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return front;
}

export interface CutProxy {
  origin: string;
  /** Whether requests reach the server; when false every connection is cut unanswered. */
  reachable: boolean;
  /** When true, every API request (/v1/...) is answered 200 with an HTML page: a server (or portal) answering garbage. */
  garbage: boolean;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy for every path of `upstream`: the till app is served
 * by the server itself, so "the server is down" cuts its pages too (the
 * service worker must then serve them). Cutting also drops the connections
 * kept alive, so nothing reaches the server through an old socket.
 */
export async function startProxy(upstream: string): Promise<CutProxy> {
  const target = new URL(upstream);
  const proxy: CutProxy = { origin: '', reachable: true, garbage: false, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    if (!proxy.reachable) {
      req.socket.destroy();
      return;
    }
    if (proxy.garbage && (req.url ?? '').startsWith('/v1/')) {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to the hotel Wi-Fi</body></html>');
      return;
    }
    const out = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => req.socket.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let reachable = true;
  Object.defineProperty(proxy, 'reachable', {
    get: () => reachable,
    set: (value: boolean) => {
      reachable = value;
      if (!value) server.closeAllConnections();
    },
  });
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
