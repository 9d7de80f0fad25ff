/**
 * Op ids laid out device first (UUID version 8, RFC 9562 §5.8).
 *
 * A UUIDv7 op id starts with the time it was recorded. When a fleet comes
 * back from an outage, every terminal's backlog covers the same minutes, so
 * one terminal's batch of 500 ids lands on hundreds of pages of the server's
 * op-id index, and each page is written again at every commit: the
 * reconnection storm's main cost (docs/performance.md, round six).
 *
 * This layout puts 32 bits taken from the device's id first, then the
 * recording time, then random bits:
 *
 *   bytes 0–3   the last 32 bits of the device id (random bits of a
 *               server-issued UUIDv7)
 *   bytes 4–10  48 bits of Unix milliseconds, around the version nibble (8)
 *               and the variant bits (10), ending in 2 random bits
 *   bytes 11–15 40 random bits
 *
 * so one device's ids sit together in any index on them and grow with time:
 * a batch from one terminal writes a handful of pages. The id is still only
 * a name: the server checks nothing in it beyond the UUID form, and two
 * devices whose ids end alike only share a neighbourhood in the index.
 * Uniqueness rests on 42 random bits per device and millisecond.
 */

import { uuidText } from './uuidv7.js';

/** A device-first op id (UUIDv8) for `device` from a millisecond timestamp and at least 6 random bytes. */
export function deviceOpId(device: string, unixMs: number, random: Uint8Array): string {
  if (!Number.isSafeInteger(unixMs) || unixMs < 0 || unixMs >= 2 ** 48) {
    throw new RangeError(`deviceOpId: timestamp ${unixMs} is not a 48-bit millisecond count`);
  }
  if (random.length < 6) throw new RangeError('deviceOpId: needs 6 random bytes');
  const tail = /^[0-9a-f]{8}$/.exec(device.slice(-8))?.[0];
  if (tail === undefined) {
    throw new RangeError(`deviceOpId: device id ${JSON.stringify(device)} does not end in 8 hex digits`);
  }
  const t = Number.parseInt(tail, 16);
  const hi = Math.floor(unixMs / 2 ** 32); // ms bits 47..32
  const lo = unixMs % 2 ** 32; // ms bits 31..0
  const b = new Uint8Array(16);
  b[0] = t >>> 24;
  b[1] = (t >>> 16) & 0xff;
  b[2] = (t >>> 8) & 0xff;
  b[3] = t & 0xff;
  b[4] = hi >>> 8;
  b[5] = hi & 0xff;
  b[6] = 0x80 | (lo >>> 28); // version 8, ms bits 31..28
  b[7] = (lo >>> 20) & 0xff;
  b[8] = 0x80 | ((lo >>> 14) & 0x3f); // variant 10, ms bits 19..14
  b[9] = (lo >>> 6) & 0xff;
  b[10] = ((lo & 0x3f) << 2) | ((random[0] as number) & 0x03);
  for (let i = 1; i < 6; i++) b[10 + i] = random[i] as number;
  return uuidText(b);
}

/** The millisecond timestamp inside a device-first op id. */
export function deviceOpIdTime(id: string): number {
  const hex = id.replaceAll('-', '');
  const hi = Number.parseInt(hex.slice(8, 12), 16);
  const b6 = Number.parseInt(hex.slice(12, 14), 16) & 0x0f;
  const b7 = Number.parseInt(hex.slice(14, 16), 16);
  const b8 = Number.parseInt(hex.slice(16, 18), 16) & 0x3f;
  const b9 = Number.parseInt(hex.slice(18, 20), 16);
  const b10 = Number.parseInt(hex.slice(20, 22), 16) >>> 2;
  return hi * 2 ** 32 + b6 * 2 ** 28 + b7 * 2 ** 20 + b8 * 2 ** 14 + b9 * 2 ** 6 + b10;
}
