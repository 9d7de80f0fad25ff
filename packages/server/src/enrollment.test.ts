import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEnrollmentToken } from './enrollment.js';

describe('newEnrollmentToken', () => {
  it('never begins with "-": a draw that would is drawn again', () => {
    // First byte 0xf8 encodes as "-" in base64url; the second draw does not.
    const draws = [Buffer.alloc(32, 0xf8), Buffer.alloc(32, 0x41)];
    let calls = 0;
    const token = newEnrollmentToken(() => draws[calls++] as Buffer);
    assert.equal(calls, 2);
    assert.equal(token, Buffer.alloc(32, 0x41).toString('base64url'));
    assert.equal(Buffer.alloc(32, 0xf8).toString('base64url')[0], '-');
  });

  it('keeps the 43-character base64url form and 32 random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const token = newEnrollmentToken();
      assert.match(token, /^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/);
      assert.equal(Buffer.from(token, 'base64url').length, 32);
    }
    // Real draws still vary in every position: no byte is fixed.
    const sample = new Set(Array.from({ length: 64 }, () => newEnrollmentToken().slice(0, 2)));
    assert.ok(sample.size > 32);
  });
});
