/**
 * @holdfast/processor-sim — a stand-alone card processor (acquirer)
 * simulator: authorizations once per idempotency key, stored in SQLite,
 * with latency, declines, outages and timeouts after commit on a seed; and
 * the HTTP client the server's forwarder uses to talk to it (also alone as
 * `@holdfast/processor-sim/client`). The API is in docs/processor-sim.md.
 */
export * from './authorization.js';
export * from './client.js';
export * from './errors.js';
export * from './http.js';
export * from './knobs.js';
export * from './processor-service.js';
export * from './start.js';
export * from './storage.js';
