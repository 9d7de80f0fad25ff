/**
 * @holdfast/processor-sim — a stand-alone card processor (acquirer)
 * simulator: authorizations once per idempotency key, stored in SQLite,
 * with latency, declines, outages and timeouts after commit on a seed. It
 * answers the wire of @holdfast/processor-client, whose ProcessorClient
 * talks to it. The API is in docs/processor-sim.md.
 */
export * from './authorization.js';
export * from './errors.js';
export * from './fiscal-authority.js';
export * from './http.js';
export * from './knobs.js';
export * from './processor-service.js';
export * from './start.js';
export * from './storage.js';
