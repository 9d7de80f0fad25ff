/**
 * @holdfast/terminal/testing — test tools for the Terminal SDK: an in-memory
 * server with the real ingest semantics and a fault-injecting transport.
 * For tests, benches and the simulator; nothing here is reachable from the
 * package's root export.
 */
export { type FakeDevice, FakeServer, type FakeServerOptions } from './fake-server.js';
export { type Fault, FaultyTransport, type RequestLogEntry, type Route } from './faulty-transport.js';
