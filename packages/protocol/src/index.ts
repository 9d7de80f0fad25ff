/**
 * @holdfast/protocol — the wire protocol shared by terminals and servers:
 * the op envelope and its kinds, canonical JSON and hashing, Ed25519
 * signatures, UUIDv7, money, schemas for untrusted input, result and error
 * codes, the signed risk policy for offline authorization, and the JSON
 * request every HTTP client shares (`fetchJson`, through the `fetch` it is
 * given). No other I/O.
 */
export * from './batch-message.js';
export * from './bet.js';
export * from './canonical-json.js';
export * from './catalog.js';
export * from './catalog-signing.js';
export * from './chain-builder.js';
export * from './device-report.js';
export * from './errors.js';
export * from './fetch-json.js';
export * from './fiscal.js';
export * from './hash.js';
export * from './key-rotation.js';
export * from './key-set.js';
export * from './loyalty-wire.js';
export * from './money.js';
export * from './online.js';
export * from './op.js';
export * from './op-id.js';
export * from './op-kinds.js';
export * from './results.js';
export * from './risk-policy.js';
export type { Infer, JsonSchema, Schema } from './schema.js';
export * as schema from './schema.js';
export * from './signature-patterns.js';
export * from './signed-answer.js';
export * from './signed-messages.js';
export * from './signing.js';
export * from './staff.js';
export * from './uuidv7.js';
export * from './wire.js';
export * from './wire-strings.js';
