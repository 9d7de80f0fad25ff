/**
 * Harness: a terminal wired to a FakeServer through a FaultyTransport on a
 * ManualClock, in a temp dir, with an event log. Used by this package's tests
 * (and handy for the simulator's).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SeededRandom } from '@holdfast/domain';
import { ManualClock } from '@holdfast/domain/testing';
import type { SaleLine, Tender } from '@holdfast/protocol';
import { Terminal } from '../terminal.js';
import type { TerminalOptions } from '../terminal-options.js';
import { FakeServer } from './fake-server.js';
import { FaultyTransport } from './faulty-transport.js';

export interface LoggedEvent {
  at: number;
  event: string;
  detail: string;
}

export interface Harness {
  dir: string;
  clock: ManualClock;
  server: FakeServer;
  net: FaultyTransport;
  terminal: Terminal;
  log: LoggedEvent[];
  /** Closes the current terminal and opens a new one on the same journal. */
  reopen(overrides?: Partial<TerminalOptions>): Promise<Terminal>;
  /** Opens another terminal (a clone, a second till) on `dir` with the same network. */
  openAt(dir: string, overrides?: Partial<TerminalOptions>): Terminal;
  cleanup(): Promise<void>;
}

export interface HarnessOptions extends Partial<TerminalOptions> {
  /** Enroll the terminal before returning (default true). */
  enroll?: boolean;
  seed?: number;
}

export function tempDir(prefix = 'holdfast-terminal-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { enroll = true, seed = 1, ...overrides } = options;
  const dir = tempDir();
  const clock = new ManualClock();
  const root = new SeededRandom(seed);
  const server = new FakeServer({ clock, random: root.fork('server') });
  const net = new FaultyTransport(server, { clock });
  const log: LoggedEvent[] = [];
  const extraDirs: string[] = [];
  // Each open gets its own id stream: a reopened terminal at the same virtual instant must not repeat ids.
  let opens = 0;
  const base = (): TerminalOptions => ({
    dataDir: dir,
    transport: net,
    clock,
    random: root.fork('jitter'),
    idRandom: root.fork(`ids-${opens++}`),
    idlePingMs: 0,
    onError: (error) => log.push({ at: clock.now(), event: 'error', detail: String(error) }),
    // The delivery tests record card sales as plain facts with no risk policy issued; the
    // policy's own tests (offline-card-policy.test.ts) ask for 'enforce', the SDK's default.
    offlineCardPolicy: 'off',
    ...overrides,
  });
  const watch = (terminal: Terminal) => {
    terminal.on('sync', (e) =>
      log.push({ at: clock.now(), event: 'sync', detail: `${e.kind} ${e.outcome} ${e.firstSeq}..${e.lastSeq}` }),
    );
    terminal.on('confirmed', (e) => log.push({ at: clock.now(), event: 'confirmed', detail: String(e.seq) }));
    terminal.on('dead-letter', (e) =>
      log.push({ at: clock.now(), event: 'dead-letter', detail: `${e.seq} ${e.reason}` }),
    );
    return terminal;
  };
  const harness: Harness = {
    dir,
    clock,
    server,
    net,
    terminal: watch(Terminal.open(base())),
    log,
    async reopen(more = {}) {
      await harness.terminal.close();
      harness.terminal = watch(Terminal.open({ ...base(), ...more }));
      return harness.terminal;
    },
    openAt(at, more = {}) {
      extraDirs.push(at);
      return watch(Terminal.open({ ...base(), dataDir: at, ...more }));
    },
    async cleanup() {
      await harness.terminal.close();
      for (const d of [dir, ...extraDirs]) fs.rmSync(d, { recursive: true, force: true });
    },
  };
  if (enroll) {
    await harness.terminal.enroll(server.createToken('till-1'), 'till-1');
    await clock.tick();
  }
  return harness;
}

/** A sale of `qty` coffees at 250 paid in cash (exact change). */
export function cashSale(qty = 1): { lines: SaleLine[]; tenders: Tender[] } {
  const amount = qty * 250;
  return {
    lines: [{ sku: 'COF-1', name: 'Coffee', qty, unitPrice: 250 }],
    tenders: [{ type: 'cash', amount, tendered: amount }],
  };
}

/** A sale paid by card. */
export function cardSale(unitPrice = 1299): { lines: SaleLine[]; tenders: Tender[] } {
  return {
    lines: [{ sku: 'TSH-M', name: 'T-shirt', qty: 1, unitPrice }],
    tenders: [{ type: 'card', amount: unitPrice, token: 'tok_test_4242', brand: 'visa', last4: '4242' }],
  };
}

/** Opens a shift on `terminal` with a 100.00 EUR float. */
export function openTill(terminal: Terminal, clerk = 'ana'): string {
  return terminal.openShift({ clerk, currency: 'EUR', openingFloat: 10_000 }).id;
}
