/**
 * A clerk at one of the demo's tills: opens the shift in the first minute,
 * rings up sales (exponential inter-arrival times, mean 15 s) until closing
 * time, drops cash in the safe every 20 minutes when the drawer holds more
 * than 300.00, presses "retry" in bursts while the field zone is cut off,
 * and at closing counts the drawer (lane 3's clerk is 5.00 short) and
 * closes the shift.
 */
import { randomIntBetween, type SeededRandom } from '@holdfast/domain';
import type { Terminal } from '@holdfast/terminal';
import type { ClerkHost } from '../world/clerk.js';
import type { SimLane } from '../world/sim-lane.js';
import type { Actor } from '../world/world-script.js';
import type { DemoEvening } from './demo-evening.js';
import { DEMO_START, type DemoScript, MIN, minuteAt } from './demo-plan.js';

export class DemoClerk implements Actor {
  readonly #lane: SimLane;
  readonly #host: ClerkHost;
  readonly #evening: DemoEvening;
  readonly #script: DemoScript;
  readonly #random: SeededRandom;
  /** Picks the wristband customers (a fork, so the baskets keep their own stream). */
  readonly #wristbandRandom: SeededRandom;
  #done = false;

  constructor(lane: SimLane, host: ClerkHost, evening: DemoEvening, script: DemoScript) {
    this.#lane = lane;
    this.#host = host;
    this.#evening = evening;
    this.#script = script;
    this.#random = lane.clerkRandom;
    this.#wristbandRandom = lane.clerkRandom.fork('wristbands');
  }

  get done(): boolean {
    return this.#done;
  }

  start(): void {
    const random = this.#random;
    const closeAt = minuteAt(this.#script.close);
    this.#at(DEMO_START + randomIntBetween(random, 0, 60_000), (terminal) => {
      const op = terminal.openShift({ clerk: `clerk-${this.#lane.label}`, currency: 'EUR', openingFloat: 20_000 });
      this.#evening.seen(this.#host, this.#lane, terminal, op, 20_000);
      // The stand's first lane receives its limited stock as the evening starts.
      this.#host.catalog?.receive(terminal, { label: this.#lane.label, zone: this.#lane.spec.zone }, (stock) =>
        this.#evening.seen(this.#host, this.#lane, terminal, stock, 0),
      );
    });
    this.#scheduleSale(DEMO_START + 90_000 + randomIntBetween(random, 0, 15_000), closeAt);
    for (let m = 20; m < this.#script.close; m += 20) {
      this.#at(DEMO_START + m * MIN + randomIntBetween(random, 0, 30_000), (terminal) => this.#safeDrop(terminal));
    }
    if (this.#lane.spec.zone === this.#script.partitionedZone) {
      const [from, to] = this.#script.partition.map(minuteAt) as [number, number];
      for (let t = from + MIN; t < to; t += 2 * MIN) {
        this.#at(t + randomIntBetween(random, 0, 20_000), (terminal) => {
          for (let k = 0; k < 5; k++) {
            this.#host.counters.manualRetries++;
            void terminal.syncNow().catch(() => {});
          }
        });
      }
    }
    this.#at(closeAt + randomIntBetween(random, 0, 120_000), (terminal) => this.#close(terminal), true);
  }

  /** Runs `fn` at true time `t` on the till (if it is up); an unexpected error is reported to the world. */
  #at(t: number, fn: (terminal: Terminal) => void, last = false): void {
    const clock = this.#host.clock;
    clock.setTimer(t - clock.now(), () => {
      const terminal = this.#lane.terminal;
      try {
        if (terminal) fn(terminal);
      } catch (error) {
        this.#host.onError(this.#lane, error);
      } finally {
        if (last) this.#done = true;
      }
    });
  }

  #scheduleSale(at: number, closeAt: number): void {
    if (at >= closeAt) return;
    this.#at(at, (terminal) => {
      try {
        this.#evening.sell(this.#host, this.#lane, terminal, this.#random, this.#wristbandRandom, null);
      } finally {
        const gap = Math.max(1_000, Math.round(-Math.log(1 - this.#random.float()) * 15_000));
        this.#scheduleSale(this.#host.clock.now() + gap, closeAt);
      }
    });
  }

  #safeDrop(terminal: Terminal): void {
    const shift = terminal.currentShift();
    if (!shift) return;
    const inDrawer = shift.openingFloat + shift.cashSales + shift.cashIn - shift.cashOut;
    if (inDrawer <= 30_000) return;
    const amount = inDrawer - 20_000;
    const op = terminal.recordCashMovement({ direction: 'out', reason: 'safe_drop', amount });
    this.#evening.seen(this.#host, this.#lane, terminal, op, amount);
  }

  #close(terminal: Terminal): void {
    const shift = terminal.currentShift();
    if (!shift) return;
    const expected = shift.openingFloat + shift.cashSales + shift.cashIn - shift.cashOut;
    const short = this.#lane.label === 'lane-03' ? 500 : 0;
    const countedCash = Math.max(0, expected - short);
    const op = terminal.closeShift({ countedCash });
    this.#host.recorded(this.#lane, op, countedCash, shift.id);
  }
}
