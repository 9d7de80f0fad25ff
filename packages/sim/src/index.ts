/**
 * @holdfast/sim — deterministic simulation: a virtual clock, a simulated
 * hostile network in front of the real server, a world of real terminals
 * that lose power and real servers that crash, scenarios drawn from the
 * field, and the invariant checker that judges every run.
 */

export { type Basket, FESTIVAL_MENU, type MenuItem, randomBasket, VENUE_MENU } from './baskets.js';
export * from './check/index.js';
export { inProcessTransport } from './in-process-transport.js';
export { ALL_ZONES, type FlapOptions, PartitionSchedule } from './partition-schedule.js';
export {
  type BettingShopOptions,
  type BettingShopReport,
  runBettingShop,
  ticketCounts,
} from './scenarios/betting-shop.js';
export { type DemoScript, demoScript } from './scenarios/demo-plan.js';
export type { DemoCards, DemoReport, DemoWristbands, TerminalReport } from './scenarios/demo-report.js';
export { type DemoOptions, runDemo } from './scenarios/demo-scenario.js';
export { findScenario, pickRandomVariant, SCENARIO_NAMES, SCENARIOS } from './scenarios/registry.js';
export {
  type RunOptions,
  replayCommand,
  runScenario,
  type ScenarioFigures,
  type ScenarioResult,
} from './scenarios/run-scenario.js';
export { type Params, resolveParams, type ScenarioDefinition } from './scenarios/scenario.js';
export { runSeedPool, type SeedPoolOutcome } from './scenarios/seed-pool.js';
export {
  type Endpoint,
  type FaultRates,
  type FaultStats,
  type NetEvent,
  type NetworkStats,
  type Partition,
  type Route,
  type ServerCapacity,
  type ServerLoad,
  SimNetwork,
  type SimNetworkOptions,
} from './sim-network.js';
export {
  type DelayRange,
  type FaultMix,
  PROXY_FAULTS,
  PROXY_MODES,
  type ProxyCounters,
  type ProxyFault,
  type ProxyMode,
  TcpFaultProxy,
  type TcpFaultProxyOptions,
} from './tcp-fault-proxy.js';
export { VirtualClock } from './virtual-clock.js';
export type { BettingFigures } from './world/betting-desk.js';
export { type CardKind, CardPool, type CardPoolOptions, type SimCard } from './world/card-pool.js';
export { type CardFigures, type CardLane, CardTraffic, type ExposureBreach, groupKey } from './world/card-traffic.js';
export type { HealFigures } from './world/drain-tracker.js';
export { type ClockFaults, type ClockJump, DriftingClock, NO_CLOCK_FAULTS } from './world/drifting-clock.js';
export { explain } from './world/explain.js';
export { checkInvariants } from './world/invariants.js';
export { type Intent, type LaneCrash, type RestoreRecord, SimLane } from './world/sim-lane.js';
export {
  InProcessProcessor,
  type ProcessorFigures,
  SimProcessor,
  type SimProcessorOptions,
} from './world/sim-processor.js';
export { type ServerForwarding, SimServer } from './world/sim-server.js';
export { SimWorld, type SimWorldOptions, type StorageMode } from './world/sim-world.js';
export type * from './world/world-plan.js';
export type * from './world/world-script.js';
