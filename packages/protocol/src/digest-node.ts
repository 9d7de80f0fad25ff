/**
 * The SHA-256 text digest behind `sha256Hex` in Node: node:crypto's native
 * one, several times faster than the portable sha256.ts for op-sized texts
 * (the server hashes every op it receives; the Node terminal every op it
 * records). Browsers resolve `#digest` to digest.ts (package.json "imports").
 */
import { createHash } from 'node:crypto';

/** SHA-256 of the UTF-8 encoding of `text`, as 64 lowercase hex digits. */
export function sha256HexOfText(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
