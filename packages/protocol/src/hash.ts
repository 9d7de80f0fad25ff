/**
 * SHA-256 hashing of canonical JSON, the integrity primitive of op chains.
 * The digest is synchronous on both platforms, so the journal seals ops
 * the same way in Node and in a browser: `#digest` (package.json "imports")
 * is node:crypto in Node (digest-node.ts) and the portable sha256.ts in a
 * browser (digest.ts); digest.test.ts checks that they agree.
 */
import { sha256HexOfText } from '#digest';
import { canonicalJson } from './canonical-json.js';

/** 64 lowercase hex digits. */
export const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** The `prev` of a device's first op (seq 1): there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

export function sha256Hex(text: string): string {
  return sha256HexOfText(text);
}

/** SHA-256 over the RFC 8785 canonical JSON of `value`, as lowercase hex. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
