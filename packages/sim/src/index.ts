/**
 * @holdfast/sim — deterministic simulation: a virtual clock, a simulated
 * lossy network in front of the real server, and scenarios that drive the
 * real Terminal SDK through scripted trouble.
 */

export { type Basket, type MenuItem, randomBasket, VENUE_MENU } from './baskets.js';
export { inProcessTransport } from './in-process-transport.js';
export {
  type DemoOptions,
  type DemoReport,
  type DemoScript,
  demoScript,
  runDemo,
  type TerminalReport,
} from './scenarios/demo-scenario.js';
export {
  type FaultRates,
  type NetworkStats,
  type Partition,
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
