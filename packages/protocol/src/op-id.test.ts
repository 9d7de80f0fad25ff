import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { uuid } from './op.js';
import { deviceOpId, deviceOpIdTime } from './op-id.js';
import { isUuidv7, UUID_PATTERN, uuidv7 } from './uuidv7.js';

const MAX_MS = 2 ** 48 - 1;
const DEVICE = '0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b';
const ms = fc.integer({ min: 0, max: MAX_MS });
const random = fc.uint8Array({ minLength: 6, maxLength: 10 });
const device = fc
  .tuple(fc.integer({ min: 0, max: MAX_MS }), fc.uint8Array({ minLength: 10, maxLength: 10 }))
  .map(([t, r]) => uuidv7(t, r));

describe('deviceOpId', () => {
  it('lays out the device tail, the time, version 8, variant 10 and the random bits', () => {
    assert.equal(deviceOpId(DEVICE, 0, new Uint8Array(6)), '3e4f5a6b-0000-8000-8000-000000000000');
    assert.equal(deviceOpId(DEVICE, MAX_MS, new Uint8Array(6).fill(0xff)), '3e4f5a6b-ffff-8fff-bfff-ffffffffffff');
    // 0x0123_4567_89ab: bits 47..32 0x0123, 31..28 0x4, 27..20 0x56, 19..14 0b011110, 13..6 0x26, 5..0 0b101011.
    assert.equal(deviceOpId(DEVICE, 0x0123456789ab, new Uint8Array(6)), '3e4f5a6b-0123-8456-9e26-ac0000000000');
  });

  it('is a UUIDv8 that the wire accepts as an op id, and not a UUIDv7 (property)', () => {
    fc.assert(
      fc.property(device, ms, random, (d, t, r) => {
        const id = deviceOpId(d, t, r);
        assert.match(id, UUID_PATTERN);
        assert.equal(id.charAt(14), '8');
        assert.ok('89ab'.includes(id.charAt(19)));
        assert.equal(isUuidv7(id), false);
        assert.equal(id.slice(0, 8), d.slice(-8));
      }),
      { numRuns: 500 },
    );
    const id = deviceOpId(DEVICE, 1_700_000_000_000, new Uint8Array(6));
    assert.equal(uuid().parse(id), id);
  });

  it('deviceOpIdTime returns the timestamp (property)', () => {
    fc.assert(
      fc.property(device, ms, random, (d, t, r) => assert.equal(deviceOpIdTime(deviceOpId(d, t, r)), t)),
      { numRuns: 500 },
    );
  });

  it("one device's ids sort by time, whatever the random bytes, and never interleave with another tail's (property)", () => {
    fc.assert(
      fc.property(device, device, ms, ms, random, random, (d1, d2, t1, t2, r1, r2) => {
        const a = deviceOpId(d1, t1, r1);
        const b = deviceOpId(d1, t2, r2);
        if (t1 < t2) assert.ok(a < b, `${a} < ${b}`);
        const tail1 = d1.slice(-8);
        const tail2 = d2.slice(-8);
        if (tail1 !== tail2) {
          const c = deviceOpId(d2, t1, r1);
          // Every id of one device is on the same side of every id of the other.
          assert.equal(a < c, tail1 < tail2);
          assert.equal(b < c, tail1 < tail2);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('ids made in one millisecond on one device differ (42 random bits)', () => {
    const ids = new Set<string>();
    const bytes = new Uint8Array(6);
    for (let i = 0; i < 20_000; i++) ids.add(deviceOpId(DEVICE, 1_700_000_000_000, crypto.getRandomValues(bytes)));
    assert.equal(ids.size, 20_000);
  });

  it('refuses a time outside 48 bits, too few random bytes, and a device id without a hex tail', () => {
    assert.throws(() => deviceOpId(DEVICE, -1, new Uint8Array(6)), /timestamp -1 is not a 48-bit/);
    assert.throws(() => deviceOpId(DEVICE, 2 ** 48, new Uint8Array(6)), /not a 48-bit/);
    assert.throws(() => deviceOpId(DEVICE, 1.5, new Uint8Array(6)), /not a 48-bit/);
    assert.throws(() => deviceOpId(DEVICE, 0, new Uint8Array(5)), /needs 6 random bytes/);
    assert.throws(() => deviceOpId('device-XYZ', 0, new Uint8Array(6)), /does not end in 8 hex digits/);
    assert.throws(() => deviceOpId('abc', 0, new Uint8Array(6)), /does not end in 8 hex digits/);
  });
});
