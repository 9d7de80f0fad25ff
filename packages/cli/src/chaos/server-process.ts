/**
 * A real `holdfast server` child process on a fixed loopback port, and the
 * operator API it serves, reached directly (never through a fault proxy).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { OPERATOR_TOKEN_FILE } from '@holdfast/server';
import { CliProcess } from '../cli-process.js';

const HEALTH_TIMEOUT_MS = 2000;
const ADMIN_TIMEOUT_MS = 5000;
const START_ATTEMPTS = 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nobody listens on right now (listen on 0, close). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    return res.ok && ((await res.json()) as { status?: unknown }).status === 'ok';
  } catch {
    return false;
  }
}

/**
 * Starts `holdfast server` on the SQLite data directory `dataDir` and `port`
 * (see startServerProcessWith).
 */
export function startServerProcess(
  dataDir: string,
  port: number,
  name: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CliProcess> {
  return startServerProcessWith(['--data', dataDir], port, name, timeoutMs, signal);
}

/**
 * Starts `holdfast server` with `args` (e.g. `--database-url URL`) on `port`
 * and resolves once /v1/health answers. A start that finds the port still
 * taken (a killed process's socket not yet released) is retried a few
 * times; anything else fails with its stderr. On abort the process is
 * killed and the abort's reason thrown.
 */
export async function startServerProcessWith(
  args: readonly string[],
  port: number,
  name: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CliProcess> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const server = CliProcess.start(name, ['server', ...args, '--port', String(port), '--log-level', 'warn']);
    const deadline = performance.now() + timeoutMs;
    while (server.running && performance.now() < deadline && !signal?.aborted) {
      if (await healthy(port)) return server;
      await sleep(50);
    }
    await server.kill('SIGKILL');
    signal?.throwIfAborted();
    if (attempt < START_ATTEMPTS && server.stderr.includes('EADDRINUSE')) {
      await sleep(250 * attempt);
      continue;
    }
    throw new Error(`${name} did not answer /v1/health on port ${port} within ${timeoutMs} ms:\n${server.stderr}`);
  }
}

/** The operator API of the server on `port`, with the token from its data directory. */
export class ServerAdmin {
  readonly #base: string;
  readonly #token: string;

  constructor(port: number, dataDir: string) {
    this.#base = `http://127.0.0.1:${port}/v1/admin`;
    this.#token = readFileSync(join(dataDir, OPERATOR_TOKEN_FILE), 'utf8').trim();
  }

  async enrollmentToken(label: string): Promise<string> {
    const body = await this.#request('POST', '/enrollment-tokens', { label });
    if (!body.ok) throw new Error(`enrollment token: HTTP ${body.status}`);
    return (body.json as { token: string }).token;
  }

  /** The ingest counters since the server process started (they reset on restart); null if unreachable. */
  async ingestCounters(): Promise<{ duplicate: number } | null> {
    const body = await this.#request('GET', '/summary').catch(() => null);
    const ingest = body?.ok ? (body.json as { ingest?: { duplicate?: unknown } }).ingest : undefined;
    return typeof ingest?.duplicate === 'number' ? { duplicate: ingest.duplicate } : null;
  }

  /** The stored op and result (`GET /v1/admin/ops/:id`): the JSON, `missing` on 404, null if unreachable. */
  async storedOp(id: string): Promise<unknown> {
    const body = await this.#request('GET', `/ops/${id}`).catch(() => null);
    if (!body) return null;
    if (body.status === 404) return 'missing';
    return body.ok ? body.json : null;
  }

  async #request(
    method: string,
    path: string,
    json?: unknown,
  ): Promise<{ ok: boolean; status: number; json: unknown }> {
    const res = await fetch(`${this.#base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: callers only look at ok/status then.
    }
    return { ok: res.ok, status: res.status, json: parsed };
  }
}
