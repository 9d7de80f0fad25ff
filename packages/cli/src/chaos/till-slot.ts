/**
 * TillSlot: one till of a chaos run across its processes. Each run is a
 * `holdfast till` child on the same journal directory; the slot starts,
 * kills and stops them, and collects every `recorded` line any of them
 * printed (each one a promise that the op is durable).
 *
 *   chaos run ──SIGKILL──▶ chaos run ──SIGKILL──▶ … ──SIGTERM──▶ drain run (--exit-when-drained) ──▶ exit 0
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { CliProcess, type Exit } from '../cli-process.js';
import type { TillRecord } from './chaos-check.js';

export interface TillSlotOptions {
  label: string;
  dataDir: string;
  /** Enrollment token (used only until the journal is enrolled). */
  token: string;
  /** The URL the till talks to (the fault proxy). */
  server: string;
  sales: number;
  intervalMs: number;
  shiftSales: number;
  /** `--backoff-s`, e.g. `0,0.5,1,2`. */
  backoffS: string;
}

/** The pause between sales while draining: the last sales go quickly. */
const DRAIN_INTERVAL_MS = 5;

export class TillSlot {
  readonly record: TillRecord & { printed: { id: string; seq: number }[] };
  /** Kills and restarts of this till, chained so that they never overlap. */
  task: Promise<void> = Promise.resolve();
  readonly #o: TillSlotOptions;
  #process: CliProcess | null = null;
  #runs = 0;

  constructor(options: TillSlotOptions) {
    this.#o = Object.freeze({ ...options });
    this.record = { label: options.label, dataDir: options.dataDir, printed: [] };
  }

  get process(): CliProcess | null {
    return this.#process;
  }

  /** Starts the next run: `chaos` sells until --sales and idles; `drain` also closes the shift, drains and exits. */
  start(phase: 'chaos' | 'drain', drainTimeoutS = 120): void {
    const o = this.#o;
    const args = [
      'till',
      '--data',
      o.dataDir,
      '--server',
      o.server,
      // `=`: a token may start with '-', which would read as an option.
      `--token=${o.token}`,
      '--label',
      o.label,
      '--sales',
      String(o.sales),
      '--shift-sales',
      String(o.shiftSales),
      '--backoff-s',
      o.backoffS,
      '--json-events',
      ...(phase === 'chaos'
        ? ['--interval-ms', String(o.intervalMs)]
        : [
            '--interval-ms',
            String(DRAIN_INTERVAL_MS),
            '--exit-when-drained',
            '--drain-timeout-s',
            String(drainTimeoutS),
          ]),
    ];
    const child = CliProcess.start(`${o.label}#${++this.#runs}`, args);
    child.onEvent((event) => {
      if (event.event === 'recorded' && typeof event.id === 'string') {
        this.record.printed.push({ id: event.id, seq: Number(event.seq) });
      }
    });
    this.#process = child;
  }

  /** Resolves once the current run printed its `started` line (journal open, enrolled). */
  started(timeoutMs: number): Promise<void> {
    const child = this.#require();
    return child.waitFor('its started line', () => child.eventsNamed('started').length > 0, timeoutMs);
  }

  /** SIGKILLs the current run. */
  async kill(): Promise<{ name: string; exit: Exit; recorded: number; pending: unknown }> {
    const child = this.#require();
    const exit = await child.kill('SIGKILL');
    const status = child.eventsNamed('status').at(-1) ?? child.eventsNamed('started').at(-1);
    return { name: child.name, exit, recorded: child.eventsNamed('recorded').length, pending: status?.pending ?? '?' };
  }

  /** SIGTERMs the current run if it is running (SIGKILL after `timeoutMs`); null if it was not. */
  async stop(timeoutMs: number): Promise<{ name: string; exit: Exit } | null> {
    const child = this.#process;
    if (!child?.running) return null;
    // A run restarted moments ago may still be loading its modules, before its signal handler exists:
    // SIGTERM then would be Node's default death, not a clean stop. Wait for its started line first.
    await child
      .waitFor('its started line', () => child.eventsNamed('started').length > 0 || !child.running, timeoutMs)
      .catch(() => undefined);
    if (!child.running) return null;
    const late = sleepFor(timeoutMs, undefined, { ref: false }).then(() => child.kill('SIGKILL'));
    return { name: child.name, exit: await Promise.race([child.kill('SIGTERM'), late]) };
  }

  /** Waits for the drain run to exit: ok with exit 0 and a `drained` line; SIGKILLed after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<{ ok: boolean; name: string; summary: string }> {
    const child = this.#require();
    const late = sleepFor(timeoutMs, undefined, { ref: false }).then(() => child.kill('SIGKILL'));
    const exit = await Promise.race([child.exited, late]);
    const drained = child.eventsNamed('drained').at(-1);
    if (exit.code === 0 && drained) {
      const { recorded, sales, confirmed, deadLetters } = drained;
      return {
        ok: true,
        name: child.name,
        summary: `${String(recorded)} ops (${String(sales)} sales), ${String(confirmed)} confirmed, ${String(deadLetters)} dead letters`,
      };
    }
    const how = exit.signal ? `killed after ${timeoutMs} ms` : `exit code ${exit.code}`;
    return { ok: false, name: child.name, summary: `${how}; stderr: ${child.stderr.slice(-1000).trim()}` };
  }

  #require(): CliProcess {
    if (!this.#process) throw new Error(`${this.#o.label}: not started`);
    return this.#process;
  }
}
