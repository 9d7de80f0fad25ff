import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { sha256, sha256HexOfText, toHex } from './sha256.js';

const nodeHex = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

describe('sha256 (portable)', () => {
  it('matches the FIPS 180-4 examples', () => {
    assert.equal(sha256HexOfText('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(sha256HexOfText(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(
      sha256HexOfText('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    assert.equal(
      toHex(sha256(new Uint8Array(1_000_000).fill(0x61))),
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  it('matches node:crypto at every length around the block and length-field boundaries', () => {
    for (let n = 0; n <= 300; n++) {
      const data = new Uint8Array(randomBytes(n));
      assert.equal(toHex(sha256(data)), nodeHex(data), `length ${n}`);
    }
  });

  it('matches node:crypto on random texts, including non-ASCII and lone surrogates', () => {
    const samples = ['é', '€', '𝄞', '\u0000', '\ud800', 'a\udc00b', '日本語のテキスト'];
    for (let i = 0; i < 200; i++) {
      const text = Array.from({ length: i }, (_, j) => samples[(i * 7 + j) % samples.length]).join('');
      assert.equal(sha256HexOfText(text), nodeHex(text), `sample ${i}`);
    }
  });
});
