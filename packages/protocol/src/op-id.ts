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

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A device-first op id (UUIDv8) for `device` from a millisecond timestamp and at least 6 random bytes. */
export function deviceOpId(device: string, unixMs: number, random: Uint8Array): string {
  if (!Number.isSafeInteger(unixMs) || unixMs < 0 || unixMs >= 2 ** 48) {
    throw new RangeError(`deviceOpId: timestamp ${unixMs} is not a 48-bit millisecond count`);
  }
  if (random.length < 6) throw new RangeError('deviceOpId: needs 6 random bytes');
  const tail = /^[0-9a-f]{8}$/.exec(device.slice(-8))?.[0];
  if (tail === undefined)
    throw new RangeError(`deviceOpId: device id ${JSON.stringify(device)} does not end in 8 hex digits`);
  const hi = Math.floor(unixMs / 2 ** 32); // ms bits 47..32
  const lo = unixMs % 2 ** 32; // ms bits 31..0
  const r = random;
  const b = [
    hi >>> 8,
    hi & 0xff,
    0x80 | (lo >>> 28),
    (lo >>> 20) & 0xff,
    0x80 | ((lo >>> 14) & 0x3f),
    (lo >>> 6) & 0xff,
    ((lo & 0x3f) << 2) | ((r[0] as number) & 0x03),
    r[1] as number,
    r[2] as number,
    r[3] as number,
    r[4] as number,
    r[5] as number,
  ];
  return (
    `${tail}-${HEX[b[0] as number]}${HEX[b[1] as number]}-${HEX[b[2] as number]}${HEX[b[3] as number]}-` +
    `${HEX[b[4] as number]}${HEX[b[5] as number]}-${b
      .slice(6)
      .map((x) => HEX[x])
      .join('')}`
  );
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
