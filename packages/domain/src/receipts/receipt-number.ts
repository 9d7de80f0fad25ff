/**
 * Receipt numbers a clerk can read out over the phone: `K7M2Q-000123`.
 *
 * The first part names the device: five Crockford base32 characters (no I,
 * L, O or U, so nothing reads as another character) derived from the
 * device id. The second part is the op's seq on that device, which is
 * already unique, durable and gap-free per device: the number needs no
 * counter of its own, is the same on every reprint and on the server, and
 * finds the op again (device code + seq). Seqs of ops that print no receipt
 * (a shift opening, a cash movement) leave gaps in a device's receipt
 * numbers; fiscal numbering, where gaps matter, is the tax authority's.
 *
 * Five characters hold 2^25 codes: two devices of one fleet share a code
 * with probability about n²/2^26 (0.06 % for 200 devices). A lookup that
 * finds two devices with the code answers both rather than guessing.
 */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** FNV-1a, 32 bits: a spread, not a secret (anyone may compute a device's code). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The five-character code of a device id (case of the id does not matter). */
export function deviceCode(deviceId: string): string {
  let bits = fnv1a(deviceId.toLowerCase()) >>> 7; // 25 bits
  let code = '';
  for (let i = 0; i < 5; i++) {
    code = (CROCKFORD[bits & 31] as string) + code;
    bits >>>= 5;
  }
  return code;
}

/** Digits the seq is padded to; longer seqs print in full. */
const SEQ_DIGITS = 6;

/** `deviceCode(device)-seq`, the seq zero-padded to six digits. */
export function receiptNumber(deviceId: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`receipt seq must be an integer >= 1, got ${seq}`);
  return `${deviceCode(deviceId)}-${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

export interface ParsedReceiptNumber {
  code: string;
  seq: number;
}

/**
 * A receipt number as a person typed or read it: any case, spaces or a
 * missing dash, and the look-alikes Crockford allows (O → 0, I and L → 1).
 * Null when it cannot be one.
 */
export function parseReceiptNumber(text: string): ParsedReceiptNumber | null {
  if (typeof text !== 'string' || text.length > 40) return null;
  const compact = text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  const match = /^([0-9A-HJKMNP-TV-Z]{5})(\d{1,16})$/.exec(compact);
  if (!match) return null;
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(seq) || seq < 1) return null;
  return { code: match[1] as string, seq };
}
