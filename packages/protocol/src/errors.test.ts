import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES, type ErrorCode, isErrorCode, ProtocolError, ValidationError } from './errors.js';
import * as s from './schema.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe('ProtocolError', () => {
  it('takes status and retryable from ERROR_CODES, for every code', () => {
    for (const code of CODES) {
      const error = new ProtocolError(code, `m-${code}`);
      assert.equal(error.status, ERROR_CODES[code].status, code);
      assert.equal(error.retryable, ERROR_CODES[code].retryable, code);
      assert.deepEqual(error.toWire(), { code, message: `m-${code}`, retryable: ERROR_CODES[code].retryable });
    }
  });

  it('only overload, rate limiting, request timeouts, internal errors, online_unavailable, not_ready, storage_unwritable and a login lock-out are retryable; all are 4xx/5xx', () => {
    assert.deepEqual(CODES.filter((c) => ERROR_CODES[c].retryable).sort(), [
      'internal',
      'login_locked',
      'not_ready',
      'online_unavailable',
      'overloaded',
      'rate_limited',
      'request_timeout',
      'storage_unwritable',
    ]);
    for (const code of CODES) {
      const { status } = ERROR_CODES[code];
      assert.ok(status >= 400 && status < 600, code);
    }
    assert.equal(ERROR_CODES.rate_limited.status, 429);
    assert.equal(ERROR_CODES.bad_signature.status, 401);
    assert.equal(ERROR_CODES.device_revoked.status, 403);
    assert.equal(ERROR_CODES.token_used.status, 409);
    assert.equal(ERROR_CODES.op_id_reused.status, 409);
    assert.equal(ERROR_CODES.online_unavailable.status, 503);
  });

  it('toWire carries field, rule and retryAfterMs only when given', () => {
    const full = new ProtocolError('rate_limited', 'slow down', { field: 'ops', rule: 'r', retryAfterMs: 1500 });
    assert.deepEqual(full.toWire(), {
      code: 'rate_limited',
      message: 'slow down',
      retryable: true,
      field: 'ops',
      rule: 'r',
      retryAfterMs: 1500,
    });
    const bare = new ProtocolError('not_found', 'no such op').toWire();
    assert.deepEqual(Object.keys(bare).sort(), ['code', 'message', 'retryable']);
    assert.equal(JSON.stringify(bare), '{"code":"not_found","message":"no such op","retryable":false}');
  });

  it('is an Error with a name and message', () => {
    const error = new ProtocolError('internal', 'boom');
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ProtocolError');
    assert.equal(error.message, 'boom');
  });

  it('fromValidation keeps field and rule, defaulting to invalid_request', () => {
    const v = new ValidationError('ops[0].seq', 'integer >= 1', '0');
    const p = ProtocolError.fromValidation(v);
    assert.deepEqual(p.toWire(), {
      code: 'invalid_request',
      message: 'ops[0].seq: expected integer >= 1, got 0',
      retryable: false,
      field: 'ops[0].seq',
      rule: 'integer >= 1',
    });
    assert.equal(ProtocolError.fromValidation(v, 'hash_mismatch').code, 'hash_mismatch');
  });
});

describe('isErrorCode', () => {
  it('is true for the listed codes only, not inherited names', () => {
    for (const code of CODES) assert.equal(isErrorCode(code), true);
    for (const bad of ['toString', '__proto__', 'Internal', '', 400, null]) assert.equal(isErrorCode(bad), false);
  });
});

describe('ValidationError', () => {
  it('has field, rule, got and a readable message', () => {
    const e = new ValidationError('body.total', 'integer 0..10', '11');
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'ValidationError');
    assert.equal(e.message, 'body.total: expected integer 0..10, got 11');
  });

  it('within prefixes the field path', () => {
    const e = new ValidationError('body.lines[0].qty', 'integer 1..10000', '0');
    const moved = e.within('ops[2]');
    assert.equal(moved.field, 'ops[2].body.lines[0].qty');
    assert.equal(moved.rule, e.rule);
    assert.equal(moved.got, e.got);
    assert.equal(moved.message, 'ops[2].body.lines[0].qty: expected integer 1..10000, got 0');
    assert.equal(e.field, 'body.lines[0].qty', 'the original is unchanged');
    assert.equal(e.within('a').within('b').field, 'b.a.body.lines[0].qty');
  });

  it('within replaces a root field with the prefix', () => {
    assert.equal(new ValidationError('(root)', 'object', 'null').within('ops[0].body').field, 'ops[0].body');
  });

  it('within joins an index path without a dot (an array parsed at the root)', () => {
    // BUG (see the test report): an array schema parsed at the root reports `[1]`, and within('xs')
    // turns it into `xs.[1]` instead of `xs[1]`.
    let caught: unknown;
    try {
      s.array(s.int({ min: 1 }), { maxItems: 3 }).parse([1, 0]);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof ValidationError);
    assert.equal(caught.field, '[1]');
    assert.equal(caught.within('xs').field, 'xs[1]');
  });
});
