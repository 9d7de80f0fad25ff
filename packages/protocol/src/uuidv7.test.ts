import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isUuidv7, UUID_PATTERN, uuidv7, uuidv7Time } from './uuidv7.js';

const MAX_MS = 2 ** 48 - 1;
const randomBytes = fc.uint8Array({ minLength: 10, maxLength: 16 });

describe('uuidv7', () => {
  it('matches the RFC 9562 Appendix A.6 example', () => {
    // unix_ts_ms 0x017F22E279B0, rand_a 0xCC3, var 0b10, rand_b 0x18C4DC0C0C07398F.
    const random = Uint8Array.from([0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f]);
    assert.equal(uuidv7(0x017f22e279b0, random), '017f22e2-79b0-7cc3-98c4-dc0c0c07398f');
  });

  it('forces the version and variant bits whatever the random bytes', () => {
    assert.equal(uuidv7(0, new Uint8Array(10)), '00000000-0000-7000-8000-000000000000');
    assert.equal(uuidv7(MAX_MS, new Uint8Array(10).fill(0xff)), 'ffffffff-ffff-7fff-bfff-ffffffffffff');
  });

  it('has the UUIDv7 layout, version 7 and variant 10xx (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MS }), randomBytes, (ms, random) => {
        const id = uuidv7(ms, random);
        assert.match(id, UUID_PATTERN);
        assert.equal(isUuidv7(id), true);
        assert.equal(id.length, 36);
        assert.equal(id.charAt(14), '7');
        assert.ok('89ab'.includes(id.charAt(19)));
        // The random bytes appear outside the version and variant bits.
        const hex = id.replaceAll('-', '');
        assert.equal(hex.slice(13, 16), Buffer.from(random.subarray(0, 2)).toString('hex').slice(1));
        assert.equal(hex.slice(18, 32), Buffer.from(random.subarray(3, 10)).toString('hex'));
      }),
      { numRuns: 500 },
    );
  });

  it('uuidv7Time returns the timestamp (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MS }), randomBytes, (ms, random) => {
        assert.equal(uuidv7Time(uuidv7(ms, random)), ms);
      }),
      { numRuns: 500 },
    );
    assert.equal(uuidv7Time(uuidv7(1_700_000_000_123, new Uint8Array(10))), 1_700_000_000_123);
  });

  it('ids from later milliseconds sort after earlier ones, whatever the random bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_MS - 1 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        randomBytes,
        randomBytes,
        (ms, gap, r1, r2) => {
          const later = Math.min(MAX_MS, ms + gap);
          const a = uuidv7(ms, r1);
          const b = uuidv7(later, r2);
          assert.ok(a < b, `${a} < ${b}`);
          assert.deepEqual([b, a].sort(), [a, b]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects timestamps that are not 48-bit millisecond counts', () => {
    for (const bad of [-1, 2 ** 48, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER]) {
      assert.throws(() => uuidv7(bad, new Uint8Array(10)), RangeError, String(bad));
    }
    assert.doesNotThrow(() => uuidv7(MAX_MS, new Uint8Array(10)));
  });

  it('needs at least 10 random bytes and uses only the first 10', () => {
    assert.throws(() => uuidv7(0, new Uint8Array(9)), RangeError);
    assert.throws(() => uuidv7(0, new Uint8Array(0)), RangeError);
    const ten = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(uuidv7(5, Uint8Array.from([...ten, 11, 12])), uuidv7(5, ten));
  });

  it('isUuidv7 takes lowercase version-7 UUIDs only', () => {
    const id = uuidv7(1_700_000_000_000, new Uint8Array(10).fill(0xa5));
    assert.equal(isUuidv7(id), true);
    assert.equal(isUuidv7(id.toUpperCase()), false);
    assert.equal(isUuidv7(`${id.slice(0, 14)}4${id.slice(15)}`), false);
    assert.equal(isUuidv7(`${id.slice(0, 19)}c${id.slice(20)}`), false);
    assert.equal(isUuidv7(id.replaceAll('-', '')), false);
    assert.equal(isUuidv7(`${id} `), false);
    assert.equal(isUuidv7(42), false);
    assert.equal(isUuidv7(null), false);
  });
});
