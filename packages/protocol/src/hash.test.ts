import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalHash, GENESIS_HASH, HASH_PATTERN, sha256Hex } from './hash.js';

function referenceHash(value: unknown): string {
  const text = canonicalize(value);
  assert.ok(text !== undefined);
  return createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
}

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 vectors', () => {
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the UTF-8 bytes of the text', () => {
    const euro = createHash('sha256')
      .update(Buffer.from([0xe2, 0x82, 0xac]))
      .digest('hex');
    assert.equal(sha256Hex('€'), euro);
  });
});

describe('GENESIS_HASH and HASH_PATTERN', () => {
  it('GENESIS_HASH is 64 zeros and matches the pattern', () => {
    assert.equal(GENESIS_HASH, '0000000000000000000000000000000000000000000000000000000000000000');
    assert.match(GENESIS_HASH, HASH_PATTERN);
  });

  it('HASH_PATTERN takes exactly 64 lowercase hex digits', () => {
    const h = sha256Hex('x');
    assert.match(h, HASH_PATTERN);
    assert.doesNotMatch(h.toUpperCase(), HASH_PATTERN);
    assert.doesNotMatch(h.slice(1), HASH_PATTERN);
    assert.doesNotMatch(`${h}0`, HASH_PATTERN);
    assert.doesNotMatch(`${h.slice(1)}g`, HASH_PATTERN);
    assert.doesNotMatch(`${h}\n`, HASH_PATTERN);
  });
});

describe('canonicalHash', () => {
  it('is SHA-256 of the canonical JSON, computed independently', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        assert.equal(canonicalHash(v), referenceHash(v));
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on member order', () => {
    assert.equal(
      canonicalHash({ a: 1, b: [true, { y: 2, x: 1 }] }),
      canonicalHash({ b: [true, { x: 1, y: 2 }], a: 1 }),
    );
    assert.notEqual(canonicalHash({ a: 1 }), canonicalHash({ a: 2 }));
    assert.notEqual(canonicalHash([1, 2]), canonicalHash([2, 1]));
  });
});
