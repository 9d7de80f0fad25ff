/**
 * The one place where errors become HTTP responses.
 *
 * Every non-2xx answer carries a WireError `{ code, message, field?, rule?,
 * retryable, retryAfterMs? }` with a stable code, including the errors
 * Fastify raises itself before our handlers run (bad JSON, oversized body,
 * wrong content type). A request body or parameter that breaks a protocol
 * schema throws ValidationError wherever it is parsed; it is answered here,
 * as invalid_request naming the field and the rule.
 */
import { ERROR_CODES, type ErrorCode, ProtocolError, ValidationError, type WireError } from '@holdfast/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { refusalSignature } from '../signed-refusal.js';

const FASTIFY_CODES: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', message: 'content-type must be application/json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'malformed_json', message: 'request body is empty' },
  // Fastify drops the parser's reason; this also covers the poisoning keys it refuses.
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: 'malformed_json',
    message: 'request body is not valid JSON, or contains a "__proto__" or "constructor.prototype" key',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_request', message: 'content-length does not match the body' },
};

/** The WireError answering `error` (also used by the simulator's in-process transports). */
export function toWireError(error: unknown): WireError {
  if (error instanceof ProtocolError) return { ...error.toWire(), ...refusalSignature(error) };
  if (error instanceof ValidationError) return ProtocolError.fromValidation(error).toWire();
  const e = error as Partial<FastifyError> & { message?: string };
  const known = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (known) {
    return {
      code: known.code,
      message: known.message ?? e.message ?? known.code,
      retryable: ERROR_CODES[known.code].retryable,
    };
  }
  if (error instanceof SyntaxError || (e.statusCode === 400 && /JSON|prototype/i.test(e.message ?? ''))) {
    return { code: 'malformed_json', message: `request body is not valid JSON: ${e.message}`, retryable: false };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { code: 'invalid_request', message: e.message ?? 'invalid request', retryable: false };
  }
  return { code: 'internal', message: 'internal server error', retryable: true };
}

/** The retry time of a 429 or 503 whose error named none: every such answer carries one (docs/protocol.md 4.5). */
export const DEFAULT_RETRY_AFTER_MS = 5_000;

/**
 * Fastify's error handler: logs the error (5xx as errors, but the deliberate
 * `overloaded` 503 as a warning without a stack: in a reconnection storm the
 * server answers thousands of them a minute, as designed) and answers its
 * WireError with its status.
 */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const wire = toWireError(error);
  const status = ERROR_CODES[wire.code].status;
  if ((status === 429 || status === 503) && wire.retryAfterMs === undefined) wire.retryAfterMs = DEFAULT_RETRY_AFTER_MS;
  if (wire.code === 'overloaded') request.log.warn({ code: wire.code, retryAfterMs: wire.retryAfterMs }, wire.message);
  else if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: wire.code, field: wire.field }, wire.message);
  if (wire.retryAfterMs !== undefined) void reply.header('retry-after', Math.ceil(wire.retryAfterMs / 1000));
  void reply.status(status).send(wire);
}
