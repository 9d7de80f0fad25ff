import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '@holdfast/protocol';
import fc from 'fast-check';
import { checkMembers, MAX_JSON_DEPTH, parseJsonBody } from './json-body.js';

/** What the exact scan alone says of a text JSON.parse accepts: null (clean) or the error code and message. */
function exact(text: string): { code: string; message: string } | null {
  try {
    checkMembers(text);
    return null;
  } catch (error) {
    assert.ok(error instanceof ProtocolError);
    return { code: error.code, message: error.message };
  }
}

function parsed(text: string): { code: string; message: string } | null {
  try {
    parseJsonBody(Buffer.from(text, 'utf8'));
    return null;
  } catch (error) {
    assert.ok(error instanceof ProtocolError);
    return { code: error.code, message: error.message };
  }
}

/** JSON texts with names drawn from a small set (so duplicates are common), escapes, spaces and nesting. */
const name = fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor', 'prototype', 'a\\"', '\\u0061', 'x y', '\\\\');
const space = fc.constantFrom('', ' ', '\n ', '\t');
const leaf = fc.oneof(
  fc.constantFrom('1', 'true', 'null', '"v"', '"\\\\"', '"\\":"', '"a\\"b"', '"{"'),
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
);
const { value } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(name, space, tie('value')), { maxLength: 4 })
      .map((members) => `{${members.map(([n, s, v]) => `${s}"${n}"${s}:${s}${v}`).join(',')}}`),
  ),
}));

describe('parseJsonBody', () => {
  it('refuses exactly what the exact scan refuses, with the same error, for any JSON text', () => {
    fc.assert(
      fc.property(value, (text) => {
        fc.pre(text.startsWith('{') || text.startsWith('['));
        assert.deepEqual(parsed(text), exact(text), text);
      }),
      { numRuns: 3000 },
    );
  });

  it('a duplicate, a poisoning key or excess depth anywhere is refused; the same shapes without them pass', () => {
    assert.equal(parsed('{"ops":[{"a":1,"b":{"c":2}},{"a":1,"b":{"c":2}}]}'), null);
    assert.equal(parsed('{"ops":[{"a":1,"b":{"c":2,"c":3}}]}')?.code, 'duplicate_member');
    assert.equal(parsed('{"a":"\\"b\\":1","b":1}'), null, 'a quoted colon inside a value is no member name');
    assert.equal(parsed('{"a\\\\":1,"a\\\\":2}')?.code, 'duplicate_member');
    assert.equal(parsed('{"x":{"__proto__":{}}}')?.code, 'malformed_json');
    assert.equal(parsed('{"constructor":{"prototype":{}}}')?.code, 'malformed_json');
    assert.equal(parsed('{"prototype":{"constructor":1}}'), null);
    assert.equal(parsed(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`), null);
    assert.equal(parsed(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)?.code, 'invalid_request');
  });
});
