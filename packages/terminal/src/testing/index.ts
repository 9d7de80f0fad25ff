/**
 * @holdfast/terminal/testing — test tools for the Terminal SDK: an in-memory
 * server with the real ingest semantics, a fault-injecting transport, a
 * simulated wristband reader, and hooks into a Terminal for what only the
 * device feed does otherwise.
 * For tests, benches and the simulator; nothing here is reachable from the
 * package's root export.
 */

/** The Node terminal's risk policy, for tests comparing another implementation's decisions with it (terminal-web). */
export { OfflinePolicy } from '../offline-policy.js';
export { type FakeDevice, FakeServer, type FakeServerOptions } from './fake-server.js';
export { type Fault, FaultyTransport, type RequestLogEntry, type Route } from './faulty-transport.js';
export { SimulatedWristband } from './simulated-wristband.js';
export { applyWristbandNotice } from './terminal-hooks.js';
