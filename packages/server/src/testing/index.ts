/**
 * @holdfast/server/testing — what tests and the simulator need of the
 * server beyond its public API: the simulated crash a storage's `crashHook`
 * throws at a crash point. The PostgreSQL test cluster is its own subpath
 * (`@holdfast/server/testing/postgres`), so that importing this one starts
 * nothing.
 */
export { type ServerCrashPoint, SimulatedServerCrash } from '../storage/sqlite/sqlite-storage.js';
// The in-process server harness (Fastify app, manual clock, devices, operators), for the console's browser tests.
export {
  type Answer,
  cardTender,
  createHarness,
  type Harness,
  type HarnessOptions,
  OPERATOR_PASSWORD,
  OPERATOR_TOKEN as HARNESS_OPERATOR_TOKEN,
  saleBody,
  T0,
  type TestDevice,
} from './harness.js';
export { LOCAL_APPROVAL } from './payments.js';
