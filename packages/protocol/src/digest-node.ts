/**
 * The SHA-256 text digest behind `sha256Hex` in Node: node:crypto's native
 * one, several times faster than the portable sha256.ts for op-sized texts
 * (the server hashes every op it receives; the Node terminal every op it
 * records). Browsers resolve `#digest` to digest.ts (package.json "imports").
 *
 * `crypto.hash` (Node 20.12+) is the one-shot form, about a third cheaper
 * than a Hash object per text; createHash serves older Node 20 releases.
 */
import * as crypto from 'node:crypto';

type OneShot = (algorithm: string, data: string, encoding: 'hex') => string;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

/** SHA-256 of the UTF-8 encoding of `text`, as 64 lowercase hex digits. */
export const sha256HexOfText: (text: string) => string = oneShot
  ? (text) => oneShot('sha256', text, 'hex')
  : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');
