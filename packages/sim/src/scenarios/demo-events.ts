/**
 * The demo's scripted trouble at the tills (the network's is in the plan):
 *
 *   cloneTopUpAt   the wristband to be cloned is topped up on the first field lane (online)
 *   cloneSpendAt   it is cloned; original and copy are spent on the first two field
 *                  lanes, cut off, together beyond its balance
 *   stolenCardAt   a stolen card is sold offline on the first lane while it is cut off
 */
import type { SaleLine } from '@holdfast/protocol';
import type { SimLane } from '../world/sim-lane.js';
import type { ScriptedEvent, ScriptHost } from '../world/world-script.js';
import { CLONE_TOP_UP, CLONED_UID, type DemoEvening } from './demo-evening.js';
import { type DemoScript, minuteAt } from './demo-plan.js';

const CLONE_LINES: SaleLine[] = [{ sku: 'BEER-05', name: 'Beer 0.5l', qty: 2, unitPrice: 650 }];

export function demoEvents(script: DemoScript, evening: DemoEvening): ScriptedEvent[] {
  /** The first two field lanes (or whatever lanes there are). */
  const cloneLanes = (host: ScriptHost): [SimLane, SimLane] => {
    const field = host.lanes.filter((l) => l.spec.zone === script.partitionedZone);
    const first = (field[0] ?? host.lanes[0]) as SimLane;
    return [first, field[1] ?? first];
  };
  return [
    {
      at: minuteAt(script.cloneTopUpAt),
      what: `wristband ${CLONED_UID} topped up before it is cloned`,
      run(host) {
        const [lane] = cloneLanes(host);
        const terminal = lane.terminal;
        if (terminal?.currentShift()) evening.topUp(host, lane, terminal, evening.clonedBand, CLONE_TOP_UP);
      },
    },
    {
      at: minuteAt(script.cloneSpendAt),
      what: `wristband ${CLONED_UID} cloned, original and copy spent offline`,
      run(host) {
        const copy = evening.clonedBand.clone();
        const total = CLONE_LINES.reduce((sum, l) => sum + l.qty * l.unitPrice, 0);
        const [first, second] = cloneLanes(host);
        for (const [lane, band] of [
          [first, evening.clonedBand],
          [second, copy],
        ] as const) {
          const terminal = lane.terminal;
          if (!terminal?.currentShift()) continue;
          const op = evening.payByWristband(host, terminal, band, CLONE_LINES, total);
          if (!op) continue;
          evening.addSale(lane, total);
          evening.seen(host, lane, terminal, op, total);
          evening.cloneSpends.push({ lane: lane.label, minute: evening.minuteNow(host), amount: total });
        }
      },
    },
    {
      at: minuteAt(script.stolenCardAt),
      what: 'a stolen card presented offline',
      run(host) {
        const lane = host.lanes[0];
        const stolen = host.cards?.pool.first('blocked');
        const terminal = lane?.terminal;
        if (!lane || !stolen || !terminal?.currentShift()) return;
        evening.sell(host, lane, terminal, lane.clerkRandom, lane.clerkRandom, stolen);
      },
    },
  ];
}
