/**
 * The real-process chaos run behind `holdfast chaos`: a real server process
 * and N real till processes talking HTTP over loopback through a
 * TcpFaultProxy, with proxy faults and SIGKILLs on a seeded schedule, then a
 * heal, a drain and the invariants checked from disk (chaos-check.ts).
 *
 *   set up ─▶ chaos window (S s: proxy modes, kills, restarts; stored
 *   results snapshotted) ─▶ every fault kind met? (else a short extra spell)
 *   ─▶ heal (pass) ─▶ drain (each till restarted with --exit-when-drained)
 *   ─▶ snapshots compared ─▶ server SIGTERM ─▶ check from disk ─▶ report
 *
 * Real time throughout, every wait bounded. Children are always killed at
 * the end, on an error, on abort (the command aborts on SIGINT/SIGTERM) and
 * if this process exits.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { cryptoRandom, pick, SeededRandom } from '@holdfast/domain';
import { PROXY_FAULTS, type ProxyCounters, TcpFaultProxy } from '@holdfast/sim';
import type { CliProcess, Exit } from '../cli-process.js';
import { type ChaosTotals, checkChaos } from './chaos-check.js';
import { type ChaosAction, planChaos } from './chaos-plan.js';
import { freePort, ServerAdmin, startServerProcess } from './server-process.js';
import { TillSlot } from './till-slot.js';

export interface ChaosOptions {
  terminals: number;
  seconds: number;
  seed: number;
  salesPerTill: number;
  /** Server and till data go here (created; must be empty) and are kept. Default: a temp dir, removed unless a violation was found. */
  dataDir?: string;
  /** Aborting kills every child and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Each timeline line as it happens. */
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  terminals: number;
  seconds: number;
  salesPerTill: number;
  elapsedMs: number;
  /** Where the data was kept (with --data, or after a violation); null if removed. */
  dataDir: string | null;
  kills: { till: number; server: number };
  restarts: { till: number; server: number };
  proxy: ProxyCounters;
  /** Σ over server runs of the last `ingest.duplicate` seen (the counter restarts with the process): a lower bound. */
  duplicatesAnswered: number;
  /** Stored results read mid-run through GET /v1/admin/ops/:id and compared at the end. */
  snapshots: number;
  totals: ChaosTotals;
  timeline: string[];
  violations: string[];
}

/** tsx compiles on first use; a loaded 2-core machine may take many seconds to start a process. */
const START_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_S = 180;
const STOP_TIMEOUT_MS = 20_000;
const OBSERVE_EVERY_MS = 1000;
const SNAPSHOTS_MAX = 100;
/** How long an extra spell may wait for a fault kind the schedule never got to apply. */
const TOP_UP_MS = 30_000;
const DELAY = { minMs: 50, maxMs: 1500 };
/**
 * The tills' retry schedule (s): compressed from the SDK's default (up to
 * 600 s) so that every till keeps meeting the faults instead of sitting out
 * the window in a long backoff.
 */
const TILL_BACKOFF_S = '0,0.25,0.5,1,2,4';
/** The request line of a batch, as the proxy matches it. */
const BATCH = 'POST /v1/batches ';
/** How long a server kill planned "on a batch" waits for one before killing anyway. */
const ON_BATCH_WAIT_MS = 5000;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const check = (name: string, value: number, min: number, max: number) => {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new RangeError(`${name} must be an integer ${min}..${max}, got ${value}`);
    }
  };
  check('terminals', options.terminals, 1, 50);
  check('seconds', options.seconds, 5, 86_400);
  check('salesPerTill', options.salesPerTill, 1, 1_000_000);
  check('seed', options.seed, 0, 2 ** 32 - 1);
  return new ChaosRun(options).run();
}

/** A seed for runs that were not given one (printed in the report, so the schedule can be replayed). */
export const randomSeed = (): number => Math.floor(cryptoRandom.float() * 2 ** 32);

class ChaosRun {
  readonly #o: ChaosOptions;
  readonly #random: SeededRandom;
  readonly #started = performance.now();
  readonly #timeline: string[] = [];
  readonly #violations: string[] = [];
  readonly #kills = { till: 0, server: 0 };
  readonly #restarts = { till: 0, server: 0 };
  /** Per server run (1-based index), the last ingest.duplicate seen. */
  readonly #duplicates = new Map<number, number>();
  readonly #snapshots = new Map<string, unknown>();
  readonly #tills: TillSlot[] = [];
  readonly #root: string;
  readonly #serverDir: string;
  #port = 0;
  #proxy: TcpFaultProxy | null = null;
  #server: CliProcess | null = null;
  #serverRuns = 0;
  #admin: ServerAdmin | null = null;
  #serverTask: Promise<void> = Promise.resolve();
  #failure: unknown = null;

  constructor(options: ChaosOptions) {
    this.#o = options;
    this.#random = new SeededRandom(options.seed);
    if (options.dataDir !== undefined) {
      this.#root = resolve(options.dataDir);
      mkdirSync(this.#root, { recursive: true });
      if (readdirSync(this.#root).length > 0) throw new RangeError(`dataDir ${this.#root} is not empty`);
    } else {
      this.#root = mkdtempSync(join(tmpdir(), 'holdfast-chaos-'));
    }
    this.#serverDir = join(this.#root, 'server');
  }

  async run(): Promise<ChaosReport> {
    const killOnExit = () => {
      for (const child of this.#children()) void child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    try {
      await this.#setUp();
      await this.#chaos();
      await this.#drain();
      await this.#finish();
      const { totals, violations } = await checkChaos(
        this.#serverDir,
        this.#tills.map((t) => t.record),
        this.#o.salesPerTill,
      );
      this.#violations.push(...violations);
      const n = this.#violations.length;
      this.#note(n === 0 ? 'checked: no violation' : `checked: ${n} violation(s)`);
      return this.#report(totals);
    } finally {
      // Kills and restarts in progress end first (they stop at an abort), so none starts a process after this.
      await Promise.all([this.#serverTask, ...this.#tills.map((t) => t.task)]);
      process.removeListener('exit', killOnExit);
      await Promise.all(this.#children().map((child) => child.kill('SIGKILL')));
      await this.#proxy?.close();
      if (!this.#keepData()) rmSync(this.#root, { recursive: true, force: true });
    }
  }

  async #setUp(): Promise<void> {
    this.#port = await freePort();
    await this.#startServer();
    const admin = this.#admin;
    if (!admin) throw new Error('no admin API');
    this.#proxy = await TcpFaultProxy.start({
      targetPort: this.#port,
      random: this.#random.fork('proxy'),
      delay: DELAY,
    });
    this.#note(`proxy on ${this.#proxy.url} → server on port ${this.#port}`);
    const sales = this.#o.salesPerTill;
    for (let i = 0; i < this.#o.terminals; i++) {
      const label = `till-${i + 1}`;
      this.#tills.push(
        new TillSlot({
          label,
          dataDir: join(this.#root, label),
          token: await admin.enrollmentToken(label),
          server: this.#proxy.url,
          sales,
          // The sales spread over most of the window, so tills record while things break.
          intervalMs: Math.min(5000, Math.max(5, Math.round((this.#o.seconds * 800) / sales))),
          // Several shifts per till, so money is checked per shift too.
          shiftSales: Math.max(5, Math.ceil(sales / 4)),
          backoffS: TILL_BACKOFF_S,
        }),
      );
    }
    for (const till of this.#tills) till.start('chaos');
    await this.#abortable(Promise.all(this.#tills.map((t) => t.started(START_TIMEOUT_MS))));
    this.#note(`${this.#tills.length} tills enrolled and selling`);
  }

  async #chaos(): Promise<void> {
    const plan = planChaos(this.#random.fork('plan'), { seconds: this.#o.seconds, terminals: this.#o.terminals });
    const proxy = this.#requireProxy();
    const start = performance.now();
    const end = start + this.#o.seconds * 1000;
    // Its failure (an abort) must not go unhandled while the steps run; the steps see the abort too.
    const observer = this.#observe(end).catch((error: unknown) => {
      this.#failure ??= error;
    });
    for (const step of plan) {
      await this.#sleep(start + step.atMs - performance.now());
      this.#throwIfFailed();
      this.#apply(step.action);
    }
    await this.#sleep(end - performance.now());
    await observer;
    await this.#abortable(Promise.all([this.#serverTask, ...this.#tills.map((t) => t.task)]));
    this.#throwIfFailed();
    this.#note('chaos window over');

    for (const fault of PROXY_FAULTS) {
      if (fault === 'pass' || proxy.counters.faults[fault] > 0) continue;
      proxy.setMode(fault);
      this.#note(`proxy: ${fault} (no request met it yet)`);
      const deadline = performance.now() + TOP_UP_MS;
      while (proxy.counters.faults[fault] === 0 && performance.now() < deadline) await this.#sleep(100);
    }
    proxy.setMode('pass');
    this.#note('healed: proxy pass');
  }

  #apply(action: ChaosAction): void {
    const proxy = this.#requireProxy();
    switch (action.kind) {
      case 'mode':
        if (proxy.mode === action.mode) return;
        proxy.setMode(action.mode);
        this.#note(`proxy: ${action.mode}`);
        return;
      case 'kill-till': {
        const till = this.#tills[action.till];
        if (!till) return;
        till.task = this.#background(till.task, () => this.#killTill(till, action.restartAfterMs));
        return;
      }
      case 'kill-server':
        this.#serverTask = this.#background(this.#serverTask, () => this.#killServer(action));
        return;
    }
  }

  async #killTill(till: TillSlot, restartAfterMs: number): Promise<void> {
    // A kill hits a till that is up: its journal open, selling and syncing.
    await this.#abortable(till.started(START_TIMEOUT_MS));
    const { name, exit, recorded, pending } = await till.kill();
    this.#expectKilled(name, exit);
    this.#kills.till++;
    this.#note(`SIGKILL ${name} (${recorded} recorded lines, ${pending} pending at its last status)`);
    await this.#sleep(restartAfterMs);
    till.start('chaos');
    this.#restarts.till++;
  }

  async #killServer(action: Extract<ChaosAction, { kind: 'kill-server' }>): Promise<void> {
    const server = this.#server;
    const proxy = this.#requireProxy();
    if (!server) return;
    await this.#observeCounters();
    let moment = 'at a random moment';
    let inFlight: number | null = null;
    if (action.onBatch) {
      moment = `${action.afterMs} ms after a batch reached it`;
      const kill = () => {
        if (action.afterMs > 0) return;
        inFlight = proxy.inFlight(BATCH);
        void server.kill('SIGKILL');
      };
      await this.#abortable(proxy.nextRequest(BATCH, ON_BATCH_WAIT_MS, kill)).catch((error: unknown) => {
        this.#o.signal?.throwIfAborted();
        moment = `at a random moment (${(error as Error).message})`;
      });
      await this.#sleep(action.afterMs);
    }
    inFlight ??= proxy.inFlight(BATCH);
    const exit = await server.kill('SIGKILL');
    this.#expectKilled(server.name, exit, server.stderr);
    this.#kills.server++;
    this.#note(`SIGKILL ${server.name} ${moment} (${inFlight} batches in flight)`);
    await this.#sleep(action.restartAfterMs);
    await this.#startServer();
    this.#restarts.server++;
  }

  async #startServer(): Promise<void> {
    const name = `server#${++this.#serverRuns}`;
    this.#server = await startServerProcess(this.#serverDir, this.#port, name, START_TIMEOUT_MS, this.#o.signal);
    this.#admin ??= new ServerAdmin(this.#port, this.#serverDir);
    this.#note(`${name} answers /v1/health`);
  }

  /** Until `end`: the server's duplicate counter, and snapshots of stored results of ops the tills printed. */
  async #observe(end: number): Promise<void> {
    const random = this.#random.fork('snapshots');
    while (performance.now() < end) {
      await this.#observeCounters();
      const printed = this.#tills.flatMap((t) => t.record.printed);
      for (let i = 0; i < 2 && printed.length > 0 && this.#snapshots.size < SNAPSHOTS_MAX; i++) {
        const { id } = pick(random, printed);
        if (this.#snapshots.has(id)) continue;
        const stored = await this.#admin?.storedOp(id);
        if (stored !== null && typeof stored === 'object') this.#snapshots.set(id, stored);
      }
      await this.#sleep(Math.min(OBSERVE_EVERY_MS, end - performance.now()));
    }
  }

  async #observeCounters(): Promise<void> {
    const run = this.#serverRuns;
    const server = this.#server;
    const counters = await this.#admin?.ingestCounters();
    // Only if the same server process answered (a restart in between resets the counter).
    if (counters && run === this.#serverRuns && server === this.#server && server?.running) {
      this.#duplicates.set(run, Math.max(this.#duplicates.get(run) ?? 0, counters.duplicate));
    }
  }

  async #drain(): Promise<void> {
    await Promise.all(
      this.#tills.map(async (till) => {
        const stopped = await till.stop(STOP_TIMEOUT_MS);
        if (stopped && stopped.exit.code !== 0) {
          this.#violation(`${stopped.name} did not stop cleanly on SIGTERM (${describe(stopped.exit)})`);
        }
        till.start('drain', DRAIN_TIMEOUT_S);
        const result = await this.#abortable(till.drained((DRAIN_TIMEOUT_S + 60) * 1000));
        if (result.ok) this.#note(`${result.name} drained: ${result.summary}`);
        else this.#violation(`${result.name} did not drain: ${result.summary}`);
      }),
    );
  }

  async #finish(): Promise<void> {
    const admin = this.#admin;
    const server = this.#server;
    if (!admin || !server) throw new Error('no server');
    let changed = 0;
    for (const [id, before] of this.#snapshots) {
      const now = await admin.storedOp(id);
      if (isDeepStrictEqual(now, before)) continue;
      changed++;
      this.#violation(`stored result of op ${id} changed: ${JSON.stringify(before)} → ${JSON.stringify(now)}`);
    }
    this.#note(`${this.#snapshots.size} stored results compared, ${changed} changed`);
    await this.#observeCounters();
    const exit = await this.#stop(server, 'SIGTERM');
    if (exit.code !== 0) this.#violation(`${server.name} did not stop cleanly on SIGTERM (${describe(exit)})`);
    else this.#note(`${server.name} stopped (SIGTERM, exit 0)`);
    await this.#requireProxy().close();
  }

  /** A run with violations keeps its evidence; so does one given --data. */
  #keepData(): boolean {
    return this.#o.dataDir !== undefined || this.#violations.length > 0;
  }

  #report(totals: ChaosTotals): ChaosReport {
    return {
      seed: this.#o.seed,
      terminals: this.#o.terminals,
      seconds: this.#o.seconds,
      salesPerTill: this.#o.salesPerTill,
      elapsedMs: Math.round(performance.now() - this.#started),
      dataDir: this.#keepData() ? this.#root : null,
      kills: { ...this.#kills },
      restarts: { ...this.#restarts },
      proxy: this.#requireProxy().counters,
      duplicatesAnswered: [...this.#duplicates.values()].reduce((a, b) => a + b, 0),
      snapshots: this.#snapshots.size,
      totals,
      timeline: [...this.#timeline],
      violations: [...this.#violations],
    };
  }

  #children(): CliProcess[] {
    const all = [this.#server, ...this.#tills.map((t) => t.process)];
    return all.filter((p): p is CliProcess => p?.running === true);
  }

  async #stop(child: CliProcess, signal: NodeJS.Signals): Promise<Exit> {
    const timeout = sleepFor(STOP_TIMEOUT_MS, undefined, { ref: false }).then(() => child.kill('SIGKILL'));
    return Promise.race([child.kill(signal), timeout]);
  }

  #expectKilled(name: string, exit: Exit, stderr = ''): void {
    if (exit.signal === 'SIGKILL') return;
    this.#violation(`${name} had exited on its own (${describe(exit)}) before it was killed ${stderr.slice(-500)}`);
  }

  /** Runs `task` after `previous`; a failure stops the run (at its next step), never goes unhandled. */
  #background(previous: Promise<void>, task: () => Promise<void>): Promise<void> {
    return previous.then(task).catch((error: unknown) => {
      this.#failure ??= error;
    });
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  #requireProxy(): TcpFaultProxy {
    if (!this.#proxy) throw new Error('no proxy');
    return this.#proxy;
  }

  async #sleep(ms: number): Promise<void> {
    if (ms > 0) await sleepFor(ms, undefined, this.#o.signal ? { signal: this.#o.signal } : {});
    else this.#o.signal?.throwIfAborted();
  }

  /** `promise`, or the abort signal's reason if that comes first. */
  #abortable<T>(promise: Promise<T>): Promise<T> {
    const signal = this.#o.signal;
    if (!signal) return promise;
    return new Promise<T>((resolvePromise, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolvePromise(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  #note(what: string): void {
    const line = `${((performance.now() - this.#started) / 1000).toFixed(1).padStart(6)} s  ${what}`;
    this.#timeline.push(line);
    this.#o.log?.(line);
  }

  #violation(what: string): void {
    this.#violations.push(what);
    this.#note(`VIOLATION ${what}`);
  }
}

function describe(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
