/**
 * @holdfast/processor-client — talking to a card processor (acquirer): the
 * authorization request and answer as they cross the wire, the processor's
 * error answers, and ProcessorClient, the HTTP client the server uses (the
 * processor simulator answers the same wire). The API is in
 * docs/processor-sim.md.
 */
export * from './authorization.js';
export * from './errors.js';
export * from './fiscal.js';
export * from './processor-client.js';
export * from './processor-stats.js';
export * from './refund.js';
export * from './wire-error.js';
