/**
 * The HTTP edge: what the server does before a route runs, against clients
 * that are slow, broken or hostile (docs/security.md, "The HTTP edge").
 *
 * - Timeouts: the headers must arrive within `headersTimeoutMs`, the whole
 *   request (headers and body) within `requestTimeoutMs`, and a connection
 *   that sends nothing for `idleTimeoutMs` is closed. A request cut by a
 *   timeout never held a batch admission slot: admission is taken only once
 *   the body has arrived (build-app.ts).
 * - A connection cap: beyond `maxConnections` open sockets, new ones are
 *   closed at once.
 * - Errors Node's HTTP parser raises before Fastify sees a request
 *   (malformed HTTP, 431, 408) and Fastify's router errors (414, bad URL)
 *   answer the documented `{code, message, retryable}`, never echoing the URL.
 */
import type { Socket } from 'node:net';
import { ERROR_CODES, type ErrorCode, ProtocolError, type WireError } from '@holdfast/protocol';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

export interface EdgeOptions {
  /** The whole request (headers and body) must have arrived this many ms after the connection's request began. */
  requestTimeoutMs: number;
  /** The request headers must have arrived within this many ms. */
  headersTimeoutMs: number;
  /** A socket with no traffic for this many ms is closed (0: never). */
  idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this many ms. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are closed as they arrive. */
  maxConnections: number;
}

export const DEFAULT_EDGE: EdgeOptions = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 4096,
};

/** Checks edge options given by an operator; throws an Error naming the bad one. */
export function edgeOptions(overrides: Partial<EdgeOptions> = {}): EdgeOptions {
  const o = { ...DEFAULT_EDGE, ...overrides };
  for (const key of ['requestTimeoutMs', 'headersTimeoutMs', 'keepAliveTimeoutMs', 'maxConnections'] as const) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 1) throw new Error(`edge.${key} must be an integer >= 1`);
  }
  if (!Number.isSafeInteger(o.idleTimeoutMs) || o.idleTimeoutMs < 0) {
    throw new Error('edge.idleTimeoutMs must be an integer >= 0');
  }
  // Node refuses a headers timeout above the request timeout.
  if (o.headersTimeoutMs > o.requestTimeoutMs) throw new Error('edge.headersTimeoutMs must be <= requestTimeoutMs');
  return o;
}

/** The Fastify server options carrying `edge`'s timeouts (the connection cap is set on the server after). */
export function edgeServerOptions(edge: EdgeOptions): Partial<FastifyServerOptions> {
  // Node checks the request and headers timeouts on an interval (30 s by default): check often enough
  // that a timeout is enforced within a quarter of itself (and at most a second late).
  const interval = Math.max(10, Math.min(1000, Math.floor(Math.min(edge.headersTimeoutMs, edge.requestTimeoutMs) / 4)));
  return {
    requestTimeout: edge.requestTimeoutMs,
    connectionTimeout: edge.idleTimeoutMs,
    keepAliveTimeout: edge.keepAliveTimeoutMs,
    http: { headersTimeout: edge.headersTimeoutMs, connectionsCheckingInterval: interval },
    clientErrorHandler: rawClientError,
    frameworkErrors: frameworkError,
  } as Partial<FastifyServerOptions>;
}

/** The WireError for an error Node's HTTP parser raised on a socket (no request object exists). */
export function clientErrorWire(error: { code?: string }): WireError {
  const wire = (code: ErrorCode, message: string): WireError => ({
    code,
    message,
    retryable: ERROR_CODES[code].retryable,
  });
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return wire('request_timeout', 'the request did not arrive within the server request timeout');
    case 'HPE_HEADER_OVERFLOW':
      return wire('headers_too_large', 'the request headers are larger than the server reads');
    case 'HPE_URI_TOO_LONG':
      return wire('uri_too_long', 'the request URL is longer than the server reads');
    default:
      return wire('malformed_http', 'the request is not well-formed HTTP/1.1');
  }
}

/** Node's 'clientError' listener: answers the documented error shape on the raw socket, then closes it. */
function rawClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const wire = clientErrorWire(error);
  const status = ERROR_CODES[wire.code].status;
  const body = JSON.stringify(wire);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${statusText(status)}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

function statusText(status: number): string {
  switch (status) {
    case 408:
      return 'Request Timeout';
    case 414:
      return 'URI Too Long';
    case 431:
      return 'Request Header Fields Too Large';
    default:
      return 'Bad Request';
  }
}

/** Fastify's router errors (a path parameter too long, a URL that does not decode): the documented shape. */
function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const wire =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ProtocolError('uri_too_long', 'a path parameter of the URL is longer than the server reads').toWire()
      : new ProtocolError('malformed_http', 'the request URL does not decode as a path').toWire();
  void reply.status(ERROR_CODES[wire.code].status).send(wire);
}
