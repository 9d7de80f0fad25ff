/**
 * The demo: a stadium evening with scripted trouble, run by SimWorld in
 * virtual time and held to every invariant of the simulator.
 *
 * N terminals (real Terminal SDK, real SQLite journals) sell to a server
 * (real HoldfastService on a real SQLite file) through a simulated
 * network. The script, in minutes from the start of trading:
 *
 *    0 ──── 10 ═══════ field zone offline ═══════ 32 ── 36 ░░ lying ░░ 45 heal ──── 60 close ── drain
 *
 *  - a partial partition: the "field" lanes lose the network for 22 minutes
 *    while the "upper" lanes stay online;
 *  - a lying network: for 9 minutes a third of the responses are lost AFTER
 *    the server committed (and a few percent of messages all evening);
 *  - retry-happy clerks: while offline, field clerks press "retry" in bursts;
 *  - card payments: the terminals approve card sales offline under the
 *    event's risk policy (issued and signed by the server, fetched by every
 *    placed terminal); the server's forwarder sends them to the processor
 *    (the processor-sim, in process, losing a tenth of its answers after
 *    committing and down for three minutes); a card sale the policy sends
 *    online is paid cash instead. At the middle of the partition a field
 *    lane sells to a stolen card offline: the processor declines it later,
 *    a post-authorization decline for the operators;
 *  - wristbands: a share of the customers pay with a stored-value wristband
 *    (topped up in cash at the till when it runs low; a wristband payment
 *    the policy refuses offline is paid cash). Before the partition one
 *    wristband is topped up on the first field lane; in the middle of the
 *    partition it is cloned, and the original and the copy are spent on two
 *    field lanes, together beyond its balance. After the heal the server
 *    finds the reused counter and the negative balance (wristband_clone,
 *    wristband_overspend) and blocks the wristband through every feed;
 *  - the offline exposure actually held is sampled every minute against the
 *    bound the policy gives (GET /v1/admin/exposure);
 *  - at minute 60 every clerk closes the shift (one drawer is short), the
 *    network is healed and the queues drain, every offline payment is
 *    settled; then the world's truth is read from disk and checked.
 *
 * The evening is a plan (demo-plan.ts), clerks (demo-clerk.ts) and scripted
 * events (demo-events.ts) that SimWorld runs like any scenario. Same seed,
 * same report.
 */
import { SimWorld } from '../world/sim-world.js';
import { DemoClerk } from './demo-clerk.js';
import { CLONED_UID, DemoEvening } from './demo-evening.js';
import { demoEvents } from './demo-events.js';
import { registerDemoInvoices } from './demo-fiscal.js';
import { demoPlan, demoScript } from './demo-plan.js';
import { type DemoReport, demoReport } from './demo-report.js';

export interface DemoOptions {
  terminals?: number;
  seed?: number;
  /** Minutes of trading before the shifts close. */
  minutes?: number;
  /** Where journals and the server database go; a temp dir (removed afterwards) by default. */
  dataDir?: string;
  onProgress?: (fraction: number, label: string) => void;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const script = demoScript(options.minutes ?? 60);
  const evening = new DemoEvening();
  const world = new SimWorld({
    scenario: 'demo',
    seed: options.seed ?? 7,
    plan: demoPlan(options.terminals ?? 8, script),
    script: {
      actor: (lane, host) => new DemoClerk(lane, host, evening, script),
      events: demoEvents(script, evening),
      clonedWristbands: [CLONED_UID],
    },
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  try {
    await world.run();
    // Every terminal reads its device feed once more (as after any sync): the block reaches all of them.
    const polls = world.lanes.map((lane) => lane.terminal?.pollFeed().catch(() => null));
    await world.runUntil(world.clock.now() + 10_000);
    await Promise.all(polls);
    // The evening's bills registered with a simulated tax authority (e-invoicing), judged by the checker too.
    const invoices = await registerDemoInvoices(world.server.storage, world.clock, world.seed);
    return await demoReport(world, evening, script, invoices);
  } finally {
    await world.close();
  }
}
