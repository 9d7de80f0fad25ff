/**
 * UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
 *
 * The server's own ids (devices, policies, exceptions) are UUIDv7: they sort
 * roughly by creation time and need no coordination to be unique. Op ids were
 * too until terminals moved to the device-first UUIDv8 of op-id.ts; the wire
 * still takes both. The caller supplies the clock reading and the random
 * bytes, so a simulator can make ids deterministic.
 */

/** A UUIDv7, as the server issues for devices, policies and its own records. */
export const UUIDV7_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * What the wire accepts as an id: a UUIDv7, or the device-first UUIDv8 that
 * terminals give their ops (op-id.ts). Either is only a name to the server.
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[78][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** How an error names the rule UUID_PATTERN checks. */
export const UUID_RULE = 'UUIDv7 or UUIDv8 in lowercase hex';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A UUIDv7 string from a millisecond timestamp and at least 10 random bytes. */
export function uuidv7(unixMs: number, random: Uint8Array): string {
  if (!Number.isSafeInteger(unixMs) || unixMs < 0 || unixMs >= 2 ** 48) {
    throw new RangeError(`uuidv7: timestamp ${unixMs} is not a 48-bit millisecond count`);
  }
  if (random.length < 10) throw new RangeError('uuidv7: needs 10 random bytes');
  const b = new Uint8Array(16);
  let ms = unixMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  for (let i = 0; i < 10; i++) b[6 + i] = random[i] as number;
  b[6] = 0x70 | ((b[6] as number) & 0x0f);
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  return uuidText(b);
}

/** 16 bytes as a UUID's text: lowercase hex, dashes after bytes 4, 6, 8 and 10. */
export function uuidText(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[i] as number];
  }
  return s;
}

export function isUuidv7(value: unknown): value is string {
  return typeof value === 'string' && UUIDV7_PATTERN.test(value);
}

/** The millisecond timestamp inside a UUIDv7. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
