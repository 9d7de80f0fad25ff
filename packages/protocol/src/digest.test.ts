import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sha256HexOfText as portable } from './digest.js';
import { sha256HexOfText as native } from './digest-node.js';
import { sha256Hex } from './hash.js';

describe('#digest', () => {
  it('the portable and the node:crypto digests agree on every text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        assert.equal(portable(text), native(text));
      }),
      { numRuns: 500 },
    );
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000]) {
      const text = 'é'.repeat(length);
      assert.equal(portable(text), native(text), `length ${length}`);
    }
  });

  it('sha256Hex in Node is SHA-256 of the UTF-8 text', () => {
    const text = '{"a":"€ and 😀"}';
    assert.equal(sha256Hex(text), createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
  });
});
