/**
 * errorHandler's logging: the deliberate `503 overloaded` of backpressure is a
 * warning without a stack (a reconnection storm answers thousands), every
 * other 5xx an error with its stack, a refusal of the request (4xx) info.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorHandler } from './error-handler.js';

function handle(error: unknown) {
  const logged: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, message: string) =>
    logged.push({ level, fields, message });
  const request = { log: { warn: log('warn'), error: log('error'), info: log('info') } } as unknown as FastifyRequest;
  const answer: { status?: number; headers: Record<string, unknown>; body?: unknown } = { headers: {} };
  const reply = {
    header(name: string, value: unknown) {
      answer.headers[name] = value;
      return reply;
    },
    status(code: number) {
      answer.status = code;
      return reply;
    },
    send(body: unknown) {
      answer.body = body;
      return reply;
    },
  } as unknown as FastifyReply;
  errorHandler(error, request, reply);
  return { logged, answer };
}

describe('errorHandler: what is logged, at which level', () => {
  it('logs 503 overloaded as a warning with its retry time and no error object, and still answers it whole', () => {
    const { logged, answer } = handle(
      new ProtocolError('overloaded', 'the server is at capacity', { retryAfterMs: 1_500 }),
    );
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.level, 'warn');
    assert.deepEqual(logged[0]?.fields, { code: 'overloaded', retryAfterMs: 1_500 });
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['retry-after'], 2);
    assert.equal((answer.body as { code: string }).code, 'overloaded');
  });

  it('logs any other 5xx as an error carrying the error itself (its stack)', () => {
    const boom = new Error('disk on fire');
    const { logged, answer } = handle(boom);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.level, 'error');
    assert.equal(logged[0]?.fields.err, boom);
    assert.equal(answer.status, 500);
  });

  it('logs a refused request (4xx) as info, naming its code', () => {
    const { logged, answer } = handle(new ProtocolError('invalid_request', 'no such field', { field: 'x' }));
    assert.equal(logged[0]?.level, 'info');
    assert.equal(logged[0]?.fields.code, 'invalid_request');
    assert.equal(answer.status, 400);
  });
});
