/**
 * The SHA-256 text digest behind `sha256Hex` where node:crypto is not
 * available (browsers): the portable implementation in sha256.ts.
 * Node resolves `#digest` to digest-node.ts instead (package.json
 * "imports"); both give the same 64 hex digits for every text
 * (digest.test.ts).
 */
export { sha256HexOfText } from './sha256.js';
