/**
 * The HTTP edges every answer shares: the request id (echoed, logged), W3C
 * trace context (parsed, its trace id logged), CORS for an allowlist of
 * origins, and security headers. Hand-written hooks, no dependency; see
 * docs/operations.md "CORS and headers".
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A request id a client may choose: short, printable, no spaces or quotes (anything else is replaced). */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The client's `X-Request-Id` if it is acceptable, else a fresh UUID. */
export function requestIdOf(raw: IncomingMessage): string {
  const header = raw.headers[REQUEST_ID_HEADER];
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}

export interface TraceContext {
  traceId: string;
  parentId: string;
  flags: string;
}

/**
 * A W3C `traceparent` header (version 00 or a later version read as 00),
 * or null if absent or invalid (all-zero ids are invalid).
 */
export function parseTraceparent(header: string | string[] | undefined): TraceContext | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return null;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/.exec(value.trim());
  if (!m) return null;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [string, string, string, string, string, string?];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  return { traceId, parentId, flags };
}

/** The log bindings of a request: its trace id when the client sent a valid traceparent. */
export function traceBindings(raw: IncomingMessage): Record<string, string> {
  const trace = parseTraceparent(raw.headers.traceparent);
  return trace ? { traceId: trace.traceId, spanParentId: trace.parentId } : {};
}

export interface EdgeOptions {
  /** Origins (scheme://host[:port]) whose browsers may call the API; empty: no cross-origin access. */
  corsOrigins?: readonly string[];
}

/** Checks an allowlist entry: an exact origin, no path, no wildcard. Throws a RangeError naming it. */
export function checkedOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new RangeError(`CORS origin "${origin}" is not a URL (give scheme://host[:port])`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
    throw new RangeError(`CORS origin "${origin}" must be exactly scheme://host[:port], e.g. ${url.origin}`);
  }
  return origin;
}

const ALLOWED_METHODS = 'GET, POST, PUT, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type, holdfast-lane, x-request-id, traceparent, tracestate';
const EXPOSED_HEADERS = 'x-request-id, retry-after';
/** JSON answers load nothing and may be framed by nobody. */
const JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Registers the edge hooks on `app` (before any route). */
export function registerEdges(app: FastifyInstance, options: EdgeOptions): void {
  const allowed = new Set((options.corsOrigins ?? []).map(checkedOrigin));

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    void reply.header('vary', 'Origin');
    if (!allowed.has(origin)) return; // no CORS headers: the browser keeps the answer from the page
    void reply.header('access-control-allow-origin', origin);
    void reply.header('access-control-allow-credentials', 'true');
    void reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      void reply.header('access-control-allow-methods', ALLOWED_METHODS);
      void reply.header('access-control-allow-headers', ALLOWED_HEADERS);
      void reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', JSON_CSP);
    if (request.protocol === 'https') void reply.header('strict-transport-security', 'max-age=31536000');
    return payload;
  });
}
