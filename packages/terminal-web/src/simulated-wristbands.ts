/**
 * The browser till's simulated wristband reader (a desktop Chromium has no
 * NFC): the chips live in their own OPFS file, apart from the till's
 * journal, because a chip's content is the chip's state, not the till's —
 * a reload, a second till in the same browser, or a wiped journal leaves
 * the chips as they were, as it would leave the plastic on a wrist.
 *
 * The file is an append-only log, one JSON line per chip image; the last
 * complete line of a uid is its chip. A write appends one line and flushes
 * the access handle before it returns, so a write either reached the
 * "chip" or did not (a torn last line is ignored when read), the way a
 * real chip's write is all or nothing.
 *
 * `SimulatedWristbandReader` implements the Node SDK's `WristbandReader`
 * (terminal/src/wristband.ts) exactly: synchronous `read()` and a
 * compare-and-set `write()`. The till engine only ever sees that interface,
 * so another reader can replace this one (docs/browser-terminal.md,
 * "Wristbands").
 */
import {
  type ChipImage,
  type ChipWrite,
  type WristbandReader,
  WristbandRefusedError,
} from '@holdfast/terminal/portable';

/** The OPFS file that holds the simulated chips of this origin (every till of the origin shares them). */
export const CHIP_FILE = 'holdfast-simulated-wristbands.log';

const UID = /^(?:[0-9A-F]{2}){4,32}$/;
const CURRENCY = /^[A-Z]{3}$/;

/** The synchronous part of an OPFS access handle this module uses (FileSystemSyncAccessHandle). */
export interface SyncFile {
  getSize(): number;
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}

/** The simulated chips, read from and appended to one file. */
export class ChipLog {
  readonly #file: SyncFile;
  #chips: Map<string, ChipImage> | null = null;

  constructor(file: SyncFile) {
    this.#file = file;
  }

  /** Every chip, by uid. */
  all(): ChipImage[] {
    return [...this.#load().values()].sort((a, b) => a.uid.localeCompare(b.uid));
  }

  get(uid: string): ChipImage | null {
    const chip = this.#load().get(uid);
    return chip ? { ...chip } : null;
  }

  /** A blank wristband (balance 0, counter 0) in `currency`; refuses a uid already issued. */
  issue(uid: string, currency: string): ChipImage {
    if (!UID.test(uid)) throw new WristbandSimulatorError(`“${uid}” is not a wristband uid (4 to 32 hex bytes)`);
    if (!CURRENCY.test(currency)) throw new WristbandSimulatorError(`“${currency}” is not a currency code`);
    if (this.#load().has(uid)) throw new WristbandSimulatorError(`wristband ${uid} exists already`);
    const chip: ChipImage = { uid, balance: 0, counter: 0, currency };
    this.#append(chip);
    return { ...chip };
  }

  /** Compare-and-set: writes only if the chip's counter is still `expectedCounter`. */
  write(update: ChipWrite): void {
    const chip = this.#load().get(update.uid);
    if (!chip) throw new Error(`no wristband ${update.uid} on the reader`);
    if (chip.counter !== update.expectedCounter) {
      throw new Error(`chip counter is ${chip.counter}, expected ${update.expectedCounter}`);
    }
    if (!Number.isSafeInteger(update.balance) || update.balance < 0 || update.counter !== chip.counter + 1) {
      throw new Error(`refused write to ${update.uid}: balance ${update.balance}, counter ${update.counter}`);
    }
    this.#append({ ...chip, balance: update.balance, counter: update.counter });
  }

  #append(chip: ChipImage): void {
    const bytes = new TextEncoder().encode(`${JSON.stringify(chip)}\n`);
    const at = this.#file.getSize();
    const written = this.#file.write(bytes, { at });
    if (written !== bytes.length) throw new Error(`the chip file took ${written} of ${bytes.length} bytes`);
    this.#file.flush();
    this.#load().set(chip.uid, chip);
  }

  #load(): Map<string, ChipImage> {
    if (this.#chips) return this.#chips;
    const size = this.#file.getSize();
    const buffer = new Uint8Array(size);
    if (size > 0) this.#file.read(buffer, { at: 0 });
    const chips = new Map<string, ChipImage>();
    const text = new TextDecoder().decode(buffer);
    const lines = text.split('\n');
    // The part after the last newline is a write cut short: it never reached the chip.
    lines.pop();
    for (const line of lines) {
      const chip = parseChip(line);
      if (chip) chips.set(chip.uid, chip);
    }
    this.#chips = chips;
    return chips;
  }
}

function parseChip(line: string): ChipImage | null {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    if (
      typeof v.uid === 'string' &&
      UID.test(v.uid) &&
      Number.isSafeInteger(v.balance) &&
      (v.balance as number) >= 0 &&
      Number.isSafeInteger(v.counter) &&
      (v.counter as number) >= 0 &&
      typeof v.currency === 'string' &&
      CURRENCY.test(v.currency)
    ) {
      return { uid: v.uid, balance: v.balance as number, counter: v.counter as number, currency: v.currency };
    }
  } catch {
    // A line that is not JSON: not a chip image.
  }
  return null;
}

/** A bad request to the simulator (unknown uid, malformed uid): the clerk sees the message. */
export class WristbandSimulatorError extends Error {
  override readonly name = 'WristbandSimulatorError';
  readonly code = 'validation';
}

/**
 * The reader with the wristband `present` held to it (null: nothing on the
 * reader). `liftDuringWrite`: the wristband leaves the reader before the
 * next write reaches it (the write throws, the chip is unchanged), as a
 * customer pulling their wrist away does.
 */
export class SimulatedWristbandReader implements WristbandReader {
  readonly #chips: ChipLog;
  readonly #present: string | null;
  #liftDuringWrite: boolean;

  constructor(chips: ChipLog, present: string | null, options: { liftDuringWrite?: boolean } = {}) {
    this.#chips = chips;
    this.#present = present;
    this.#liftDuringWrite = options.liftDuringWrite ?? false;
  }

  read(): ChipImage {
    const chip = this.#present === null ? null : this.#chips.get(this.#present);
    if (!chip) throw new WristbandRefusedError('no_chip', 'no wristband on the reader', null);
    return chip;
  }

  write(update: ChipWrite): void {
    if (this.#liftDuringWrite) {
      this.#liftDuringWrite = false;
      throw new Error('the wristband left the reader during the write');
    }
    if (update.uid !== this.#present) throw new Error(`another wristband is on the reader (${this.#present})`);
    this.#chips.write(update);
  }
}

/**
 * Opens the chip file for one call: the access handle is exclusive, so it
 * is held only while `fn` runs (a reloaded page's worker may still hold it
 * for a moment: retried within `budgetMs`).
 */
export async function withChipLog<T>(fn: (chips: ChipLog) => T, budgetMs = 3000): Promise<T> {
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle(CHIP_FILE, { create: true });
  const deadline = Date.now() + budgetMs;
  let file: SyncFile | null = null;
  while (!file) {
    try {
      file = (await (
        handle as unknown as { createSyncAccessHandle(): Promise<SyncFile> }
      ).createSyncAccessHandle()) as SyncFile;
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new WristbandSimulatorError(
          `the simulated wristbands' file is busy: ${(error as Error).message ?? String(error)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return fn(new ChipLog(file));
  } finally {
    file.close();
  }
}
