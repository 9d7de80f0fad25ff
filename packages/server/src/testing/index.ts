/**
 * @holdfast/server/testing — what tests and the simulator need of the
 * server beyond its public API: the simulated crash a storage's `crashHook`
 * throws at a crash point. The PostgreSQL test cluster is its own subpath
 * (`@holdfast/server/testing/postgres`), so that importing this one starts
 * nothing.
 */
export { type ServerCrashPoint, SimulatedServerCrash } from '../storage/sqlite/sqlite-storage.js';
