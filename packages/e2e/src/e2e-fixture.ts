/**
 * The end-to-end fixture: what every test in this package sets up the same
 * way, built once.
 *
 * - `E2eWorld`: an in-process server (and, if asked, a processor simulator
 *   it forwards to) on real loopback sockets, under one temporary
 *   directory; the operator API; tills opened on it; one close() for all.
 * - For tests of real `holdfast` processes: temporary directories removed
 *   by `removeTempDirs()`, and the CLI's process tools (CliProcess, a
 *   `holdfast server` process, a stopped till's journal) from
 *   @holdfast/cli/testing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningProcessorSim, type StartProcessorSimOptions, startProcessorSim } from '@holdfast/processor-sim';
import type { PolicyDraft } from '@holdfast/protocol';
import { type RunningServer, type StartServerOptions, startServer } from '@holdfast/server';
import { HttpTransport, Terminal, type TerminalOptions, type Transport } from '@holdfast/terminal';

export {
  type CliEvent,
  CliProcess,
  freePort,
  healthy,
  type JournalState,
  readJournal,
  ServerAdmin,
  startServerProcess,
  startServerProcessWith,
} from '@holdfast/cli/testing';

/** The operator token of every in-process server. */
export const OPERATOR_TOKEN = 'e2e-operator-token-0123456789abcdef';

/** tsx compiles on first use; a loaded 2-core machine may take seconds to start a process. */
export const START_TIMEOUT_MS = 30_000;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const tempDirs: string[] = [];

/** A fresh directory under the OS temp dir, named `holdfast-<prefix>-…`; removeTempDirs() removes it. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `holdfast-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Removes every directory tempDir() made (for an `after` hook). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A risk policy for merchant acme at location north, in EUR, valid for a
 * day: offline card payments up to 50.00 (floor limit), 100.00 and 5 per
 * card, 100.00 and 10 per device within an hour offline.
 */
export function cardPolicyDraft(): PolicyDraft {
  return {
    scope: { merchant: 'acme', location: 'north', event: null, devices: null },
    currency: 'EUR',
    expiresAt: Date.now() + 86_400_000,
    offline: {
      maxOfflineMs: 3_600_000,
      device: { maxAmount: 10_000, maxCount: 10 },
      tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

type ForwardingOptions = Omit<NonNullable<StartServerOptions['processor']>, 'url' | 'apiKey'>;

export interface E2eWorldOptions {
  /** Also start a processor simulator (data in `<dir>/processor`); the server forwards to it. */
  processor?: Omit<StartProcessorSimOptions, 'dataDir'>;
  /** The server's forwarding settings, with `processor` (its URL and API key are the simulator's). */
  forwarding?: ForwardingOptions;
}

/** Terminal options but the data directory, which is `<dir>/<name>`; the transport defaults to HTTP to the server. */
export type E2eTerminalOptions = Omit<TerminalOptions, 'dataDir' | 'transport'> & { transport?: Transport };

/**
 * E2eWorld: a real server (SQLite in `<dir>/server`, listening on a
 * loopback port, operator token OPERATOR_TOKEN), optionally a processor
 * simulator, and the tills opened on them, all under one temporary
 * directory.
 */
export class E2eWorld {
  readonly dir: string;
  readonly processor: RunningProcessorSim | null;
  readonly #forwarding: ForwardingOptions | undefined;
  readonly #terminals: Terminal[] = [];
  #server: RunningServer | null = null;
  #port = 0;

  private constructor(dir: string, processor: RunningProcessorSim | null, forwarding: ForwardingOptions | undefined) {
    this.dir = dir;
    this.processor = processor;
    this.#forwarding = forwarding;
  }

  /** Starts the processor simulator (if asked) and the server, in a new temporary directory named after `name`. */
  static async start(name: string, options: E2eWorldOptions = {}): Promise<E2eWorld> {
    const dir = mkdtempSync(join(tmpdir(), `holdfast-${name}-`));
    let processor: RunningProcessorSim | null = null;
    try {
      if (options.processor)
        processor = await startProcessorSim({ dataDir: join(dir, 'processor'), ...options.processor });
      const world = new E2eWorld(dir, processor, options.forwarding);
      await world.startServer();
      return world;
    } catch (error) {
      await processor?.close();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The running server (throws while it is stopped). */
  get server(): RunningServer {
    assert.ok(this.#server, 'the server is stopped');
    return this.#server;
  }

  /** Starts the server on its data; after a stop, on the port it had. */
  async startServer(): Promise<RunningServer> {
    assert.equal(this.#server, null, 'the server is already running');
    const processor = this.processor;
    this.#server = await startServer({
      dataDir: join(this.dir, 'server'),
      port: this.#port,
      logger: false,
      operatorToken: OPERATOR_TOKEN,
      ...(processor ? { processor: { url: processor.url, apiKey: processor.apiKey, ...this.#forwarding } } : {}),
    });
    this.#port = this.#server.port;
    return this.#server;
  }

  /** Stops the server (its data stays, for startServer()). */
  async stopServer(): Promise<void> {
    await this.#server?.close();
    this.#server = null;
  }

  /** An operator API call; asserts a 200 and returns the JSON answer. */
  async admin<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${OPERATOR_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `${method} ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** A one-time enrollment token; `request` may place the device (merchant, location, event) or label it. */
  async enrollmentToken(request: Record<string, unknown> = {}): Promise<string> {
    const { token } = await this.admin<{ token: string }>('POST', '/v1/admin/enrollment-tokens', request);
    return token;
  }

  /** An HTTP transport to the server as it is now. */
  httpTransport(): HttpTransport {
    return new HttpTransport(this.server.url);
  }

  /** Opens the till `name` (data in `<dir>/<name>`); close() closes it if the test has not. */
  openTerminal(name: string, options: E2eTerminalOptions = {}): Terminal {
    const { transport, ...rest } = options;
    const terminal = Terminal.open({
      ...rest,
      dataDir: join(this.dir, name),
      transport: transport ?? this.httpTransport(),
    });
    this.#terminals.push(terminal);
    return terminal;
  }

  /** Closes the open tills, the server and the processor, and removes the directory. */
  async close(): Promise<void> {
    // Best effort: a till a test left crashed may refuse to close cleanly.
    for (const terminal of this.#terminals) if (!terminal.closed) await terminal.close().catch(() => undefined);
    await this.stopServer();
    await this.processor?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
