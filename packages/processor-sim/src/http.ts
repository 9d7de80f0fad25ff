/**
 * The processor simulator's HTTP API (Fastify). Routes, bodies and errors
 * are listed in docs/processor-sim.md.
 *
 * Every route but /v1/health needs `Authorization: Bearer <api key>`.
 * Errors, including Fastify's own (bad JSON, wrong content type, oversized
 * body), are mapped in one place to `{ code, message, field?, rule?, retryable }`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { PROCESSOR_ERROR_CODES, type ProcessorWireError, REPLAYED_HEADER } from '@holdfast/processor-client';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { ProcessorError } from './errors.js';
import type { AfterCommit, ProcessorService } from './processor-service.js';
import type { StoredAuthorization } from './storage.js';

/** Largest request body: an authorization is a few hundred bytes; a config with many cards more. */
export const BODY_LIMIT = 1024 * 1024;

export interface ProcessorAppOptions {
  service: ProcessorService;
  apiKey: string;
  logger?: FastifyServerOptions['logger'];
  /** Timeouts and connection cap (defaults DEFAULT_PROCESSOR_TIMEOUTS, the Holdfast server's). */
  timeouts?: Partial<ProcessorHttpTimeouts>;
}

/** As the Holdfast server's edge (server/src/http/edge.ts): a slow client holds nothing for long. */
export interface ProcessorHttpTimeouts {
  /** The whole request (headers and body) must arrive within this many ms. */
  requestTimeoutMs: number;
  /** The headers must arrive within this many ms (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /** A socket with no traffic for this many ms is closed (0: never). */
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are closed as they arrive. */
  maxConnections: number;
}

export const DEFAULT_PROCESSOR_TIMEOUTS: ProcessorHttpTimeouts = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 4096,
};

function timeoutOptions(overrides: Partial<ProcessorHttpTimeouts> = {}) {
  const t = { ...DEFAULT_PROCESSOR_TIMEOUTS, ...overrides };
  if (t.headersTimeoutMs > t.requestTimeoutMs) throw new RangeError('headersTimeoutMs must be <= requestTimeoutMs');
  // Node checks these timeouts on an interval (30 s by default): often enough to enforce them within a quarter.
  const interval = Math.max(10, Math.min(1000, Math.floor(t.headersTimeoutMs / 4)));
  return {
    maxConnections: t.maxConnections,
    fastify: {
      requestTimeout: t.requestTimeoutMs,
      connectionTimeout: t.idleTimeoutMs,
      keepAliveTimeout: t.keepAliveTimeoutMs,
      http: { headersTimeout: t.headersTimeoutMs, connectionsCheckingInterval: interval },
    } as Partial<FastifyServerOptions>,
  };
}

const FASTIFY_CODES: Record<string, { code: ProcessorWireError['code']; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', message: 'content-type must be application/json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'malformed_json', message: 'request body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'malformed_json', message: 'request body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_request', message: 'content-length does not match the body' },
};

export function toProcessorWireError(error: unknown): ProcessorWireError {
  if (error instanceof ProcessorError) return error.toWire();
  const e = error as Partial<FastifyError>;
  const known = e.code ? FASTIFY_CODES[e.code] : undefined;
  const wire = (code: ProcessorWireError['code'], message: string): ProcessorWireError => ({
    code,
    message,
    retryable: PROCESSOR_ERROR_CODES[code].retryable,
  });
  if (known) return wire(known.code, known.message ?? e.message ?? known.code);
  if (error instanceof SyntaxError) return wire('malformed_json', `request body is not valid JSON: ${e.message}`);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return wire('invalid_request', e.message ?? 'invalid request');
  }
  return wire('internal', 'internal error');
}

function apiKeyGuard(apiKey: string) {
  if (apiKey.length < 16) throw new RangeError('the API key must be at least 16 characters');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const expected = digest(apiKey);
  return async (request: FastifyRequest): Promise<void> => {
    if (request.url.split('?')[0] === '/v1/health') return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new ProcessorError('unauthorized', 'needs "Authorization: Bearer <api key>"');
    }
  };
}

function intQuery(query: Record<string, unknown>, name: string, min: number, max: number, fallback: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ProcessorError('invalid_request', `query parameter ${name} must be an integer ${min}..${max}`, {
      field: `query.${name}`,
      rule: `integer ${min}..${max}`,
    });
  }
  return value;
}

const listed = (s: StoredAuthorization) => ({
  seq: s.seq,
  idempotencyKey: s.idempotencyKey,
  authorization: s.authorization,
});

export function buildProcessorApp(options: ProcessorAppOptions): FastifyInstance {
  const { service } = options;
  const timeouts = timeoutOptions(options.timeouts);
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    ...timeouts.fastify,
  });
  app.server.maxConnections = timeouts.maxConnections;
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error, request, reply) => {
    const wire = toProcessorWireError(error);
    const status = PROCESSOR_ERROR_CODES[wire.code].status;
    if (status >= 500 && wire.code !== 'processor_unavailable') request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: wire.code, field: wire.field }, wire.message);
    void reply.status(status).send(wire);
  });
  app.setNotFoundHandler((request) => {
    throw new ProcessorError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
  });
  app.addHook('onRequest', apiKeyGuard(options.apiKey));

  /** Connections held open by a timeout after commit; dropped when the app closes. */
  const held = new Set<Socket>();
  app.addHook('preClose', async () => {
    for (const socket of held) socket.destroy();
  });
  /** The network that lies: the authorization is stored, its answer never arrives. */
  function neverAnswer(request: FastifyRequest, reply: FastifyReply, mode: Exclude<AfterCommit, 'answer'>): void {
    void reply.hijack();
    const socket = request.raw.socket;
    request.log.warn({ mode }, 'timeout after commit: not answering');
    if (mode === 'destroy') {
      socket.destroy();
      return;
    }
    held.add(socket);
    const timer = service.clock.setTimer(service.knobs.hangMs, () => socket.destroy());
    socket.once('close', () => {
      timer.cancel();
      held.delete(socket);
    });
  }

  const sendJson = (reply: FastifyReply, status: number, json: string) =>
    reply.status(status).type('application/json; charset=utf-8').send(json);

  app.get('/v1/health', async () => {
    service.storage.ping();
    return { status: 'ok', time: service.clock.now() };
  });

  app.post('/v1/authorizations', async (request, reply) => {
    const result = await service.authorize(request.headers['idempotency-key'], request.body);
    request.log.info(
      { id: result.authorization.id, status: result.authorization.status, outcome: result.outcome },
      'authorization',
    );
    if (result.afterCommit !== 'answer') {
      neverAnswer(request, reply, result.afterCommit);
      return reply;
    }
    void reply.header(REPLAYED_HEADER, String(result.outcome === 'replayed'));
    return sendJson(reply, result.outcome === 'created' ? 201 : 200, result.json);
  });

  app.get('/v1/authorizations', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (query.idempotencyKey !== undefined) {
      if (query.after !== undefined || query.limit !== undefined) {
        throw new ProcessorError('invalid_request', 'give idempotencyKey, or after and limit, not both', {
          field: 'query.idempotencyKey',
          rule: 'not with after or limit',
        });
      }
      const stored = service.findByKey(query.idempotencyKey);
      if (!stored) throw new ProcessorError('not_found', 'no authorization under that idempotency key');
      return sendJson(reply, 200, stored.json);
    }
    const after = intQuery(query, 'after', 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = intQuery(query, 'limit', 1, 1000, 100);
    const page = service.list(after, limit);
    return { items: page.items.map(listed), next: page.next };
  });

  app.get('/v1/authorizations/:id', async (request, reply) => {
    const stored = service.findById((request.params as { id?: unknown }).id);
    if (!stored) throw new ProcessorError('not_found', 'no such authorization');
    return sendJson(reply, 200, stored.json);
  });

  app.post('/v1/refunds', async (request, reply) => {
    const result = await service.refund(request.headers['idempotency-key'], request.body);
    request.log.info({ id: result.refund.id, outcome: result.outcome }, 'refund');
    if (result.afterCommit !== 'answer') {
      neverAnswer(request, reply, result.afterCommit);
      return reply;
    }
    void reply.header(REPLAYED_HEADER, String(result.outcome === 'replayed'));
    return reply.status(result.outcome === 'created' ? 201 : 200).send(result.refund);
  });

  app.get('/v1/refunds', async (request) => {
    const query = request.query as Record<string, unknown>;
    const found = service.findRefundByKey(query.idempotencyKey);
    if (!found) throw new ProcessorError('not_found', 'no refund under that idempotency key');
    return found;
  });

  app.get('/v1/stats', async () => service.stats());

  app.get('/v1/admin/config', async () => service.knobs);
  app.post('/v1/admin/config', async (request) => {
    const knobs = service.configure(request.body);
    request.log.warn({ knobs }, 'configuration changed');
    return knobs;
  });
  app.get('/v1/admin/cards/:token', async (request) => {
    const token = (request.params as { token: string }).token;
    const card = service.card(token);
    if (!card) throw new ProcessorError('not_found', 'no such card profile');
    return card;
  });

  return app;
}
