/**
 * SimulatedWristband: a stand-in for a chip on an NFC reader, for tests,
 * the simulator and demos.
 */
import { WristbandRefusedError } from '../errors.js';
import type { ChipImage, ChipWrite, WristbandReader } from '../wristband.js';

/**
 * A simulated wristband on a simulated reader. `image()`/`restore()` model a rollback (the chip written back to an
 * older image); `clone()` a copied chip; `failNextWrite()` a wristband
 * pulled away mid-write.
 */
export class SimulatedWristband implements WristbandReader {
  #image: ChipImage;
  #present = true;
  #failNext = false;

  constructor(uid: string, currency: string, balance = 0, counter = 0) {
    this.#image = { uid, balance, counter, currency };
  }

  read(): ChipImage {
    if (!this.#present) throw new WristbandRefusedError('no_chip', 'no wristband on the reader', null);
    return { ...this.#image };
  }

  write(update: ChipWrite): void {
    if (!this.#present || this.#failNext) {
      this.#failNext = false;
      throw new Error('the wristband left the reader during the write');
    }
    if (update.uid !== this.#image.uid) throw new Error(`another wristband is on the reader (${this.#image.uid})`);
    if (update.expectedCounter !== this.#image.counter) {
      throw new Error(`chip counter is ${this.#image.counter}, expected ${update.expectedCounter}`);
    }
    this.#image = { ...this.#image, balance: update.balance, counter: update.counter };
  }

  /** The chip's current content (what a dump would copy). */
  image(): ChipImage {
    return { ...this.#image };
  }

  /** Writes an older image back (a rollback). */
  restore(image: ChipImage): void {
    this.#image = { ...image };
  }

  /** Another chip with the same content (a clone). */
  clone(): SimulatedWristband {
    const copy = this.#image;
    return new SimulatedWristband(copy.uid, copy.currency, copy.balance, copy.counter);
  }

  /** The next write fails, as if the wristband left the reader. */
  failNextWrite(): void {
    this.#failNext = true;
  }

  /** Puts the wristband on the reader or takes it away. */
  setPresent(present: boolean): void {
    this.#present = present;
  }
}
