/**
 * CliProcess: the `holdfast` command run as a child process, for whatever
 * needs real processes (real sockets, real fsyncs, real SIGKILLs): the chaos
 * command and the crash tests. It keeps the child's stdout lines (JSON lines
 * parsed as events) and stderr, and lets the caller wait on or react to each
 * line as it arrives.
 *
 * The child runs the way this process does: the same node executable, and
 * from the TypeScript sources (`src/bin.ts` with the loader flags this
 * process was started with, by default `--conditions=holdfast-src --import
 * tsx`) when this module is itself running from source, else `dist/bin.js`.
 *
 * `npm test` runs the compiled tests (`run-tests.mjs --built`), so their
 * children start `dist/bin.js`. One exception: with HOLDFAST_TEST_BUILT_CLI=1,
 * children of tests running from source start the built `dist/bin.js` too
 * (about 0.2 – 1 s of CPU to start, against 2.5 s loading the sources through
 * tsx), for a developer who has just built.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const BUILT_BIN = fileURLToPath(new URL(FROM_SOURCE ? '../dist/bin.js' : './bin.js', import.meta.url));
/** Children load the sources through tsx (running from source, and not told the build is fresh). */
const CHILD_FROM_SOURCE = FROM_SOURCE && !(process.env.HOLDFAST_TEST_BUILT_CLI === '1' && existsSync(BUILT_BIN));
/** The CLI entry point children start: `src/bin.ts`, or `dist/bin.js` (see above). */
export const CLI_BIN = CHILD_FROM_SOURCE ? fileURLToPath(new URL('./bin.ts', import.meta.url)) : BUILT_BIN;
/** The cli package's directory: children run there, so `--import tsx` resolves from the workspace. */
const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
const SOURCE_DEFAULT_FLAGS = ['--conditions=holdfast-src', '--import', 'tsx'];
/** Node flags that decide how modules load; the ones worth passing on to a child. */
const LOADER_FLAGS = new Set([
  '--conditions',
  '-C',
  '--import',
  '--require',
  '-r',
  '--loader',
  '--experimental-loader',
]);

/** The node flags a child needs to load the CLI the way this process loaded it. */
export function childNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  if (!CHILD_FROM_SOURCE) return [];
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!LOADER_FLAGS.has(name)) continue;
    kept.push(arg);
    const value = execArgv[i + 1];
    if (eq < 0 && value !== undefined) {
      kept.push(value);
      i++;
    }
  }
  return kept.some((arg) => arg.includes('tsx')) ? kept : SOURCE_DEFAULT_FLAGS;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type CliEvent = Record<string, unknown> & { event?: unknown };

const live = new Set<CliProcess>();

export class CliProcess {
  readonly name: string;
  readonly lines: string[] = [];
  /** stdout lines that parsed as JSON objects, in order. */
  readonly events: CliEvent[] = [];
  stderr = '';
  /** Resolves when the process has exited and its pipes are drained. */
  readonly exited: Promise<Exit>;
  readonly #child: ChildProcess;
  #exit: Exit | null = null;
  /** Called after every stdout line (with its event, if JSON) and once on exit. */
  readonly #listeners = new Set<(what: 'line' | 'exit', event: CliEvent | null) => void>();

  /** Starts `holdfast <args>`, with `env` added to this process's environment. */
  static start(name: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): CliProcess {
    return new CliProcess(name, args, env);
  }

  /** SIGKILLs every process started here that is still running, and waits for them (for after-hooks). */
  static async killAll(): Promise<void> {
    await Promise.all([...live].map((p) => p.kill('SIGKILL')));
  }

  private constructor(name: string, args: readonly string[], env: Readonly<Record<string, string>>) {
    this.name = name;
    this.#child = spawn(process.execPath, [...childNodeFlags(), CLI_BIN, ...args], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    const stdout = this.#child.stdout;
    const stderr = this.#child.stderr;
    if (!stdout || !stderr) throw new Error(`${name}: no pipes`);
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => {
      this.stderr += text;
    });
    const reader = createInterface({ input: stdout });
    reader.on('line', (line) => this.#onLine(line));
    const stdoutDone = new Promise<void>((done) => reader.once('close', done));
    this.exited = new Promise<Exit>((done) => {
      this.#child.once('exit', (code, signal) => {
        // An exit closes the pipes; wait for the last lines before telling anyone.
        void stdoutDone.then(() => {
          this.#exit = { code, signal };
          live.delete(this);
          for (const fn of [...this.#listeners]) fn('exit', null);
          done(this.#exit);
        });
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === null;
  }

  /** Events named `name` so far. */
  eventsNamed(name: string): CliEvent[] {
    return this.events.filter((e) => e.event === name);
  }

  /**
   * Calls `fn` synchronously for every JSON event from now on (so it can
   * act between two lines, e.g. SIGKILL right after one). Returns unsubscribe.
   */
  onEvent(fn: (event: CliEvent) => void): () => void {
    const listener = (what: 'line' | 'exit', event: CliEvent | null) => {
      if (what === 'line' && event) fn(event);
    };
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Waits until `ready()` holds (checked now and after every line), failing
   * with the process's output if it exits first or `timeoutMs` passes.
   */
  waitFor(what: string, ready: () => boolean, timeoutMs: number): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = (what: 'line' | 'exit') => {
        if (ready()) finish();
        else if (what === 'exit') finish(this.#failure(`exited (${this.#describeExit()}) while waiting for ${what}`));
      };
      const timer = setTimeout(() => finish(this.#failure(`waited ${timeoutMs} ms for ${what}`)), timeoutMs);
      this.#listeners.add(check);
      if (!this.running) check('exit');
    });
  }

  /** Sends `signal` (if still running) and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<Exit> {
    if (this.running) this.#child.kill(signal);
    return this.exited;
  }

  #onLine(line: string): void {
    this.lines.push(line);
    let event: CliEvent | null = null;
    if (line.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) event = parsed as CliEvent;
      } catch {
        // Not JSON after all: kept in `lines` only.
      }
    }
    if (event) this.events.push(event);
    for (const fn of [...this.#listeners]) fn('line', event);
  }

  #describeExit(): string {
    return this.#exit ? `code ${this.#exit.code}, signal ${this.#exit.signal}` : 'running';
  }

  #failure(message: string): Error {
    const tail = this.lines.slice(-5).join('\n  ');
    return new Error(
      `${this.name} ${message}\n stdout (last lines):\n  ${tail}\n stderr:\n${this.stderr.slice(-2000)}`,
    );
  }
}
