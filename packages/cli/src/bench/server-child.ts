/**
 * ServerChild: `holdfast server` (SQLite, or PostgreSQL given `--database-url`) as a child process in a data
 * directory, for benchmarks that need the server on its own process and
 * event loop, measured from outside: its URL, its memory from
 * `/proc/<pid>/status`. Its JSON log lines go to a file, as a deployment's
 * would, not through a pipe into the busy benchmark process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_BIN, childNodeFlags } from '../cli-process.js';
import { sleep } from './bench-http-client.js';

/** The cli package's directory: the child runs there, so `--import tsx` resolves from the workspace. */
const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

export class ServerChild {
  readonly url: string;
  readonly pid: number;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, url: string, logFile: string, exited: Promise<void>) {
    this.#child = child;
    this.url = url;
    this.pid = child.pid as number;
    this.logFile = logFile;
    this.#exited = exited;
  }

  /**
   * Starts the server (data in `dir/data`, log `dir/server.log`) on a free loopback port; waits until it listens.
   * `extraArgs`: more `holdfast server` flags (e.g. `--database-url URL`).
   */
  static async start(
    dir: string,
    operatorToken: string,
    timeoutMs = 60_000,
    extraArgs: readonly string[] = [],
  ): Promise<ServerChild> {
    mkdirSync(dir, { recursive: true });
    const dataDir = join(dir, 'data');
    const logFile = join(dir, 'server.log');
    const fd = openSync(logFile, 'w');
    // HOLDFAST_BENCH_SERVER_ARGS: extra `holdfast server` flags, to compare settings (e.g. "--storage-thread off").
    const extra = process.env.HOLDFAST_BENCH_SERVER_ARGS?.trim().split(/\s+/).filter(Boolean) ?? [];
    const args = [CLI_BIN, 'server', '--data', dataDir, '--port', '0', '--operator-token', operatorToken];
    args.push(...extraArgs, ...extra);
    // HOLDFAST_BENCH_SERVER_NODE_ARGS: Node flags for the server process alone (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p",
    // which NODE_OPTIONS refuses, or "--heapsnapshot-signal=SIGUSR2").
    const nodeArgs = process.env.HOLDFAST_BENCH_SERVER_NODE_ARGS?.trim().split(/\s+/).filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...childNodeFlags(), ...nodeArgs, ...args], {
      cwd: PACKAGE_DIR,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    let exit: string | null = null;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exit = `code ${code}, signal ${signal}`;
        resolve();
      });
    });
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const url = listeningUrl(readFileSync(logFile, 'utf8'));
      if (url) return new ServerChild(child, url, logFile, exited);
      if (exit !== null || performance.now() > deadline) {
        child.kill('SIGKILL');
        const tail = readFileSync(logFile, 'utf8').slice(-2000);
        throw new Error(`holdfast server did not start (${exit ?? `no listening line in ${timeoutMs} ms`}):\n${tail}`);
      }
      await sleep(50);
    }
  }

  /** A `/proc/<pid>/status` field in MiB (VmRSS now, VmHWM the peak so far); null off Linux. */
  memoryMiB(field: 'VmRSS' | 'VmHWM'): number | null {
    try {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return match ? Number(match[1]) / 1024 : null;
    } catch {
      return null;
    }
  }

  /**
   * Connections waiting in the listening socket's accept queue (Linux
   * `/proc/net/tcp`, rx_queue of the LISTEN entry); null off Linux. Node
   * accepts one connection per event-loop turn, so a busy loop lets it grow.
   */
  acceptQueue(): number | null {
    const port = Number(new URL(this.url).port).toString(16).toUpperCase().padStart(4, '0');
    try {
      for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n')) {
        const f = line.trim().split(/\s+/);
        // f[1] local address:port, f[3] state (0A = LISTEN), f[4] tx_queue:rx_queue (hex)
        if (f[3] === '0A' && f[1]?.endsWith(`:${port}`)) return Number.parseInt(f[4]?.split(':')[1] ?? '0', 16);
      }
      return null;
    } catch {
      return null;
    }
  }

  /** SIGTERM (a graceful close), then SIGKILL if it has not exited in `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}

function listeningUrl(log: string): string | null {
  for (const line of log.split('\n')) {
    if (!line.includes('holdfast server listening')) continue;
    try {
      const url = (JSON.parse(line) as { url?: unknown }).url;
      if (typeof url === 'string') return url;
    } catch {
      // A partly written line: read again on the next poll.
    }
  }
  return null;
}
