/**
 * `holdfast till`: a headless till — a load generator and smoke test for
 * operators. It drives the real Terminal SDK over HTTP: enrolls, opens a
 * shift, records random sales (cash or card), and optionally closes the
 * shift and waits until the server has confirmed every op.
 *
 * Every count comes from the journal, not from process memory, so a till
 * killed at any instant and started again on the same directory carries on
 * where it stopped and never records more than --sales sales in total.
 *
 *   open ─▶ enroll (once) ─▶ open shift ─▶ sale × N ─▶ close shift ─▶ drain ─▶ exit
 *                                 (if none open)            (--exit-when-drained)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cryptoRandom, expectedCash, negotiateLocale, validateBackoffSchedule } from '@holdfast/domain';
import type { ShiftReportAnswer } from '@holdfast/protocol';
// The basket generator alone: '@holdfast/sim' itself loads the whole simulator and the server.
import { randomBasket } from '@holdfast/sim/baskets';
import {
  clerkMessage,
  DeviceRevokedError,
  EnrollmentError,
  HttpTransport,
  type InDoubtOp,
  JournalLockedError,
  OPS_PAGE_MAX,
  pinnedFetch,
  type RecordedOp,
  RecordOutcomeUnknownError,
  StaffError,
  Terminal,
  TransportError,
  zReportMessage,
} from '@holdfast/terminal';
import { intFlag, requiredString, stringFlag, UsageError } from '../args.js';
import { loadSettings } from '../config/index.js';
import { cliAppVersion } from './app-version.js';

export const TILL_HELP = `holdfast till --data DIR --server URL [--token T] [--label L] [--sales N] [--interval-ms M] [--shift-sales K] [--backoff-s LIST] [--exit-when-drained] [--json-events] [--staff ID --pin PIN] [--locale en|es|pt] [--tls-ca FILE]

A headless till (load generator, smoke test): the Terminal SDK with its
journal in DIR, selling random baskets paid in cash or by card to the server
at URL. Started again on the same DIR it carries on where it stopped.
  --data DIR            journal directory (created if missing)                      required
  --server URL          server base URL, e.g. http://127.0.0.1:8080                 required
  --token T             enrollment token, only needed until DIR is enrolled
  --label L             device label and clerk name (1..64 characters)              default till
  --sales N             sales to record in total, across restarts (0: no limit)     default 0
  --interval-ms M       pause between sales (0: as fast as possible)                default 500
  --shift-sales K       close the shift (counted cash as expected) and open a new one
                        every K sales (0: one shift for the whole run)              default 0
  --backoff-s LIST      retry backoff schedule in seconds, e.g. 0,0.5,1,2 (the last
                        repeats; full jitter)                   default 0,1,3,8,15,30,60,120,300,600
  --exit-when-drained   after N sales: close the shift, wait until the server has
                        confirmed every op, print a summary and the server's word on
                        the shift's Z report (in --locale's words; what differs), exit
  --drain-timeout-s S   give up waiting for the drain after S seconds (exit 1)      default 120
  --offline-card-policy off|enforce  enforce the server's risk policy on card sales
                        (a refused card sale then ends the till with an error)    default off
  --json-events         JSON lines on stdout: started, recorded (one per op, printed
                        once it is durable), status (every second), drained, stopped;
                        in_doubt / outcome_unknown after a disk error (docs/design.md)
  --tls-ca FILE         trust only this PEM CA, or the server's own certificate (pinned),
                        for an https:// --server
  --staff ID --pin PIN  sign staff member ID in with PIN before recording (needed
                        where the till's location has a staff roster; the roster
                        is read from the device feed first). A PIN on the command
                        line is visible to other local users: for tests and demos
  --locale en|es|pt     the clerk's language: what the till refuses (a wrong PIN, a
                        switched-off till, a lost answer) is printed in it, with the
                        English detail for the log on the next line               default en
  --config FILE         settings from a JSON file (keys: the flag names)
Environment: HOLDFAST_URL, HOLDFAST_ENROLLMENT_TOKEN, HOLDFAST_TILL_<FLAG> (e.g. HOLDFAST_TILL_DATA).
SIGINT/SIGTERM stop recording and close the journal cleanly (exit 0).`;

/** The flags of `holdfast till`; each is also HOLDFAST_TILL_<FLAG> (server: HOLDFAST_URL, token: HOLDFAST_ENROLLMENT_TOKEN) and a config file key. */
export const TILL_OPTIONS = {
  data: { type: 'string' },
  server: { type: 'string' },
  token: { type: 'string' },
  label: { type: 'string' },
  sales: { type: 'string' },
  'interval-ms': { type: 'string' },
  'shift-sales': { type: 'string' },
  'backoff-s': { type: 'string' },
  'exit-when-drained': { type: 'boolean' },
  'offline-card-policy': { type: 'string' },
  'drain-timeout-s': { type: 'string' },
  'json-events': { type: 'boolean' },
  staff: { type: 'string' },
  pin: { type: 'string' },
  'tls-ca': { type: 'string' },
  locale: { type: 'string' },
} as const;

/** The clerk languages `--locale` takes (clerk-messages.ts has words for each). */
const TILL_LOCALES = ['en', 'es', 'pt'] as const;

const CURRENCY = 'EUR';
const OPENING_FLOAT = 20_000;
const ENROLL_RETRY_MS = 500;
const STATUS_EVERY_MS = 1000;
const DRAIN_POLL_MS = 100;

export async function tillCommand(argv: string[]): Promise<number> {
  const flags = loadSettings(argv, {
    command: 'till',
    envPrefix: 'HOLDFAST_TILL_',
    envNames: { server: 'HOLDFAST_URL', token: 'HOLDFAST_ENROLLMENT_TOKEN' },
    options: TILL_OPTIONS,
  });
  if (flags.help) {
    console.log(TILL_HELP);
    return 0;
  }
  const dataDir = resolve(requiredString(flags, 'data'));
  const server = serverUrl(requiredString(flags, 'server'));
  const token = stringFlag(flags, 'token');
  const label = stringFlag(flags, 'label') ?? 'till';
  if (label.length < 1 || label.length > 64) throw new UsageError('--label must be 1..64 characters');
  const target = intFlag(flags, 'sales', 0, 0, 100_000_000);
  const intervalMs = intFlag(flags, 'interval-ms', 500, 0, 3_600_000);
  const shiftSales = intFlag(flags, 'shift-sales', 0, 0, 100_000_000);
  const backoff = backoffFlag(stringFlag(flags, 'backoff-s'));
  const drainTimeoutMs = intFlag(flags, 'drain-timeout-s', 120, 1, 86_400) * 1000;
  const exitWhenDrained = flags['exit-when-drained'] === true;
  const offlineCardPolicy = stringFlag(flags, 'offline-card-policy') ?? 'off';
  if (offlineCardPolicy !== 'off' && offlineCardPolicy !== 'enforce') {
    throw new UsageError(`--offline-card-policy must be off or enforce, got "${offlineCardPolicy}"`);
  }
  if (exitWhenDrained && target === 0) throw new UsageError('--exit-when-drained needs --sales N with N >= 1');
  const staff = stringFlag(flags, 'staff');
  const pin = stringFlag(flags, 'pin');
  if ((staff === undefined) !== (pin === undefined)) throw new UsageError('--staff and --pin go together');
  const locale = stringFlag(flags, 'locale') ?? 'en';
  if (!(TILL_LOCALES as readonly string[]).includes(locale)) {
    throw new UsageError(`--locale must be one of ${TILL_LOCALES.join(', ')}, got "${locale}"`);
  }
  const spoken = negotiateLocale(locale);
  /** A refusal in the clerk's words, then the English detail for the log. */
  const refused = (error: Error) =>
    console.error(`holdfast till: ${clerkMessage(error, spoken)}\n  (${error.message})`);

  const tlsCaFile = stringFlag(flags, 'tls-ca');
  let tlsCa: Buffer | undefined;
  if (tlsCaFile !== undefined) {
    if (!server.startsWith('https://')) throw new UsageError('--tls-ca needs an https:// --server');
    try {
      tlsCa = readFileSync(resolve(tlsCaFile));
    } catch (error) {
      throw new UsageError(`--tls-ca: cannot read ${tlsCaFile}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  const out = new TillOutput(flags['json-events'] === true, label);
  const stop = new StopSignal();
  let terminal: Terminal;
  try {
    terminal = Terminal.open({
      dataDir,
      transport: new HttpTransport(server, tlsCa ? { fetch: pinnedFetch({ ca: tlsCa }) } : {}),
      ...(backoff ? { backoffSeconds: backoff } : {}),
      offlineCardPolicy,
      appVersion: cliAppVersion('holdfast-till'),
    });
  } catch (error) {
    stop.dispose();
    if (error instanceof JournalLockedError) {
      console.error(`holdfast till: ${error.message}`);
      return 1;
    }
    throw error;
  }
  let sales = 0;
  let statusTimer: NodeJS.Timeout | undefined;
  try {
    // Sales an earlier run could not confirm (a disk error while recording): say whether each one stands.
    const inDoubt = terminal.inDoubtOps();
    for (const op of inDoubt) out.inDoubt(op);
    if (inDoubt.length > 0) terminal.acknowledgeInDoubt();
    if (!terminal.enrolled) {
      if (token === undefined) throw new UsageError(`--token is required: the till in ${dataDir} is not enrolled yet`);
      if (!(await enroll(terminal, token, label, stop))) return out.stopped(terminal, sales, stop.signal);
    }
    if (staff !== undefined && pin !== undefined) {
      // The roster comes with the device feed; a till that already holds one signs in offline.
      await terminal.pollFeed().catch((error: unknown) => {
        if (terminal.staffRoster() === null) throw error;
      });
      terminal.signIn({ staff }, pin);
    }
    sales = countSales(terminal);
    out.started(terminal, sales);
    statusTimer = setInterval(() => out.status(terminal, sales), STATUS_EVERY_MS);

    const limit = target === 0 ? Number.POSITIVE_INFINITY : target;
    while (sales < limit && !stop.stopped) {
      const open = terminal.currentShift();
      if (open && shiftSales > 0 && open.sales >= shiftSales) {
        out.recorded(terminal.closeShift({ countedCash: expectedCash(open) }));
      }
      if (!terminal.currentShift()) {
        out.recorded(terminal.openShift({ clerk: label, currency: CURRENCY, openingFloat: OPENING_FLOAT }));
      }
      out.recorded(terminal.recordSale(randomBasket(cryptoRandom)));
      sales++;
      await stop.sleep(intervalMs);
    }
    if (stop.stopped) return out.stopped(terminal, sales, stop.signal);
    if (!exitWhenDrained) {
      await stop.sleep(Number.POSITIVE_INFINITY);
      return out.stopped(terminal, sales, stop.signal);
    }

    const shift = terminal.currentShift();
    // A blind count that matches: the till's own drawer is never short.
    if (shift) out.recorded(terminal.closeShift({ countedCash: expectedCash(shift) }));
    const deadline = performance.now() + drainTimeoutMs;
    while (terminal.status().pending > 0) {
      if (stop.stopped) return out.stopped(terminal, sales, stop.signal);
      if (performance.now() > deadline) {
        const { pending, lastError } = terminal.status();
        console.error(
          `holdfast till: ${pending} ops still pending after ${drainTimeoutMs / 1000} s (last error: ${lastError ?? 'none'})`,
        );
        return 1;
      }
      await stop.sleep(DRAIN_POLL_MS);
    }
    // The summary is the run's last status: no periodic line may come between it and the Z report below
    // (the report is a request, and a slow server let a status tick in between).
    clearInterval(statusTimer);
    out.drained(terminal, sales);
    // The server's word on the shift just closed: its Z report confirmed, or what differs.
    const closed = terminal.lastShift();
    if (closed) {
      const report = await terminal.shiftReport(closed.id).catch((error: unknown) => error as Error);
      if (report instanceof Error) out.shiftReportMissing(closed.id, report, zReportMessage('unknown', spoken));
      else out.shiftReport(report, zReportMessage(report.state, spoken));
    }
    return 0;
  } catch (error) {
    if (error instanceof DeviceRevokedError || error instanceof EnrollmentError || error instanceof StaffError) {
      refused(error);
      return 1;
    }
    if (error instanceof RecordOutcomeUnknownError) {
      // Not "failed": the sale may stand. The next start says which (see inDoubt above).
      out.outcomeUnknown(error, clerkMessage(error, spoken));
      return 1;
    }
    throw error;
  } finally {
    clearInterval(statusTimer);
    stop.dispose();
    await terminal.close();
  }
}

function serverUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--server must be an http(s) URL such as http://127.0.0.1:8080, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--server must be an http(s) URL, got "${raw}"`);
  }
  return raw;
}

/** `--backoff-s 0,0.5,1`: a valid schedule, or undefined for the SDK's default. */
function backoffFlag(raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const schedule = raw.split(',').map((part) => (/^\d+(\.\d+)?$/.test(part.trim()) ? Number(part) : Number.NaN));
  try {
    validateBackoffSchedule(schedule);
  } catch (error) {
    throw new UsageError(`--backoff-s must be non-decreasing seconds such as 0,0.5,1,2: ${(error as Error).message}`);
  }
  return schedule;
}

/** Enrolls, retrying while the outcome is unknown (the SDK reuses the stored key). False if stopped first. */
async function enroll(terminal: Terminal, token: string, label: string, stop: StopSignal): Promise<boolean> {
  for (;;) {
    try {
      await terminal.enroll(token, label);
      return true;
    } catch (error) {
      const retry = error instanceof TransportError || (error instanceof EnrollmentError && error.retryable);
      if (!retry) throw error;
      console.error(`holdfast till: enrollment: ${(error as Error).message}; retrying`);
      await stop.sleep(ENROLL_RETRY_MS);
      if (stop.stopped) return false;
    }
  }
}

/** Sales in the journal, read page by page: the count survives any crash. */
function countSales(terminal: Terminal): number {
  let n = 0;
  for (let afterSeq = 0; ; ) {
    const page = terminal.ops({ afterSeq, limit: OPS_PAGE_MAX });
    const last = page.at(-1);
    if (!last) return n;
    for (const entry of page) if (entry.kind === 'sale.recorded') n++;
    afterSeq = last.seq;
  }
}

/** SIGINT/SIGTERM as a flag and a wake-up for sleeps; a second signal gets Node's default (exit). */
class StopSignal {
  stopped = false;
  signal: NodeJS.Signals | null = null;
  readonly #wake = new Set<() => void>();
  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.stopped = true;
    this.signal = signal;
    this.dispose();
    for (const wake of this.#wake) wake();
  };

  constructor() {
    process.once('SIGINT', this.#onSignal);
    process.once('SIGTERM', this.#onSignal);
  }

  /** Waits `ms` (0: one turn of the event loop, so the sync loop runs), or less if a signal comes. */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((done) => {
      const finish = () => {
        if (timer) clearTimeout(timer);
        else clearImmediate(immediate);
        this.#wake.delete(finish);
        done();
      };
      const timer = ms > 0 && Number.isFinite(ms) ? setTimeout(finish, ms) : null;
      const immediate = ms === 0 ? setImmediate(finish) : undefined;
      this.#wake.add(finish);
    });
  }

  dispose(): void {
    process.removeListener('SIGINT', this.#onSignal);
    process.removeListener('SIGTERM', this.#onSignal);
  }
}

/** What the till prints: JSON lines with --json-events, else a status line now and then. */
class TillOutput {
  readonly #json: boolean;
  readonly #label: string;

  constructor(json: boolean, label: string) {
    this.#json = json;
    this.#label = label;
  }

  started(terminal: Terminal, sales: number): void {
    this.#emit('started', terminal, sales, { deviceId: terminal.deviceId });
  }

  /** Called only after record* returned: the op is durable when its line appears. */
  recorded(op: RecordedOp): void {
    if (this.#json) this.#line({ event: 'recorded', id: op.id, seq: op.seq, kind: op.kind });
  }

  status(terminal: Terminal, sales: number): void {
    this.#emit('status', terminal, sales, {});
  }

  drained(terminal: Terminal, sales: number): void {
    const s = terminal.status();
    if (this.#json) {
      this.#line({
        event: 'drained',
        recorded: s.latestSeq,
        sales,
        confirmed: s.confirmed,
        deadLetters: s.deadLetters,
      });
    } else {
      console.log(
        `${this.#label}: drained: ${s.latestSeq} ops recorded (${sales} sales), ${s.confirmed} confirmed, ${s.deadLetters} need attention`,
      );
    }
  }

  /** The server's word on the Z report of the shift closed at the end of the run (`words`: in the clerk's language). */
  shiftReport(report: ShiftReportAnswer, words: string): void {
    if (this.#json) {
      this.#line({
        event: 'z_report',
        shift: report.shift,
        state: report.state,
        pending: report.pending,
        notApplied: report.notApplied,
        differences: report.differences,
      });
      return;
    }
    if (report.state === 'confirmed') {
      console.log(`${this.#label}: ${words} (shift ${report.shift})`);
      return;
    }
    const what = [
      ...report.differences.map((d) => `${d.field}: till ${d.till}, server ${d.server ?? 'none'}`),
      ...report.notApplied.map((o) => `${o.kind} seq ${o.seq} ${o.status}`),
      ...(report.pending.length > 0 ? [`seqs not received: ${report.pending.join(', ')}`] : []),
    ];
    // The clerk's words, then the English detail for the log (as refusals are printed).
    console.log(
      `${this.#label}: ${words} (shift ${report.shift})\n  (${report.state}: ${what.join('; ') || 'not closed at the server'})`,
    );
  }

  shiftReportMissing(shift: string, error: Error, words: string): void {
    if (this.#json) this.#line({ event: 'z_report', shift, state: 'unknown', error: error.message });
    else console.log(`${this.#label}: ${words} (shift ${shift})\n  (no answer: ${error.message})`);
  }

  /** An op whose recording hit a disk error, as the journal found it on this start. */
  inDoubt(op: InDoubtOp): void {
    if (this.#json) {
      this.#line({ event: 'in_doubt', id: op.id, kind: op.kind, recorded: op.recorded, seq: op.seq });
      return;
    }
    console.log(
      op.recorded
        ? `${this.#label}: ${op.kind} ${op.id} DID record (seq ${op.seq}) before the disk error: it stands and will sync; do not ring it again`
        : `${this.#label}: ${op.kind} ${op.id} did NOT record before the disk error: it never happened`,
    );
  }

  outcomeUnknown(error: RecordOutcomeUnknownError, words: string): void {
    if (this.#json) this.#line({ event: 'outcome_unknown', id: error.opId, kind: error.kind });
    console.error(
      `holdfast till: ${words}\n  (${error.message}${error.listed ? '' : `; note the op id ${error.opId}: the disk could not keep it`})`,
    );
  }

  stopped(terminal: Terminal, sales: number, signal: string | null): number {
    this.#emit('stopped', terminal, sales, { signal });
    return 0;
  }

  #emit(event: string, terminal: Terminal, sales: number, extra: Record<string, unknown>): void {
    const s = terminal.status();
    if (this.#json) {
      this.#line({
        event,
        ...extra,
        sales,
        latestSeq: s.latestSeq,
        pending: s.pending,
        confirmed: s.confirmed,
        deadLetters: s.deadLetters,
        connectivity: s.connectivity,
        syncState: terminal.syncState,
        lastError: s.lastError,
      });
      return;
    }
    console.log(
      `${this.#label}: ${event}: ${sales} sales, seq ${s.latestSeq}, pending ${s.pending}, confirmed ${s.confirmed}, needs attention ${s.deadLetters}, ${s.connectivity}, ${terminal.syncState}`,
    );
  }

  #line(value: Record<string, unknown>): void {
    // Synchronous on files and pipes (POSIX): a reader that sees the line knows the write happened.
    process.stdout.write(`${JSON.stringify(value)}\n`);
  }
}
