/**
 * `holdfast server`'s edge settings (timeouts, connection cap, per-source
 * limit of refused traffic: docs/operations.md, "Slow and hostile
 * clients"), from flags, environment and file; errors that name the setting;
 * and a real server process holding its connection cap.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_EDGE } from '@holdfast/server';
import { freePort } from '../chaos/server-process.js';
import { CliProcess } from '../cli-process.js';
import { loadSettings } from '../config/index.js';
import { edgeFlags, SERVER_OPTIONS, sourceLimitFlags } from './server-command.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-edge-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const spec = { command: 'server', options: SERVER_OPTIONS } as const;
const settings = (argv: string[], env: Record<string, string> = {}) => loadSettings(argv, spec, env);

describe('edge settings', () => {
  it('nothing given: nothing overridden (the server keeps its defaults)', () => {
    assert.deepEqual(edgeFlags(settings([])), {});
    assert.deepEqual(sourceLimitFlags(settings([])), {});
  });

  it('reads each from a flag, the environment or the config file', () => {
    const config = join(dir, 'edge.json');
    writeFileSync(config, JSON.stringify({ 'idle-timeout-ms': 0, 'source-max-addresses': 500 }));
    const s = settings(
      ['--config', config, '--headers-timeout-ms', '2000', '--max-connections', '64', '--source-rate', '0'],
      { HOLDFAST_REQUEST_TIMEOUT_MS: '4000', HOLDFAST_KEEP_ALIVE_TIMEOUT_MS: '1000', HOLDFAST_SOURCE_BURST: '50' },
    );
    assert.deepEqual(edgeFlags(s), {
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      idleTimeoutMs: 0,
      keepAliveTimeoutMs: 1000,
      maxConnections: 64,
    });
    assert.deepEqual(sourceLimitFlags(s), { rate: 0, burst: 50, maxSources: 500 });
  });

  it('refuses values out of range, naming the setting where it was given', () => {
    assert.throws(
      () => edgeFlags(settings(['--max-connections', '0'])),
      /--max-connections must be a whole number from 1/,
    );
    assert.throws(
      () => edgeFlags(settings([], { HOLDFAST_IDLE_TIMEOUT_MS: '-1' })),
      /HOLDFAST_IDLE_TIMEOUT_MS must be a whole number from 0 to 3600000, got "-1"/,
    );
    assert.throws(() => edgeFlags(settings(['--request-timeout-ms', '1.5'])), /--request-timeout-ms must be a whole/);
    assert.throws(
      () => sourceLimitFlags(settings(['--source-burst', '0'])),
      /--source-burst must be a whole number from 1/,
    );
    assert.throws(() => sourceLimitFlags(settings(['--source-rate', 'fast'])), /--source-rate must be a whole number/);
  });

  it('refuses a headers timeout above the request timeout, naming both settings', () => {
    assert.throws(
      () => edgeFlags(settings(['--headers-timeout-ms', '5000', '--request-timeout-ms', '1000'])),
      /--headers-timeout-ms \(5000\) must not be above --request-timeout-ms \(1000\)/,
    );
    // Against the default it clashes with: the message says it is the default.
    assert.throws(
      () => edgeFlags(settings([], { HOLDFAST_HEADERS_TIMEOUT_MS: String(DEFAULT_EDGE.requestTimeoutMs + 1) })),
      new RegExp(
        `HOLDFAST_HEADERS_TIMEOUT_MS \\(\\d+\\) must not be above the default request-timeout-ms \\(${DEFAULT_EDGE.requestTimeoutMs}\\)`,
      ),
    );
  });
});

/** One raw HTTP request on its own connection: the response's status line, or null if closed without one. */
function rawGet(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(data === '' ? null : (data.split('\r\n')[0] ?? null)));
  });
}

describe('holdfast server with edge settings', () => {
  after(() => CliProcess.killAll());

  it('exits 2 naming both settings when the headers timeout is above the request timeout', async () => {
    const server = CliProcess.start('server', [
      'server',
      '--data',
      join(dir, 'bad'),
      '--headers-timeout-ms',
      '5000',
      '--request-timeout-ms',
      '1000',
    ]);
    const exit = await server.exited;
    assert.equal(exit.code, 2);
    assert.match(server.stderr, /--headers-timeout-ms \(5000\) must not be above --request-timeout-ms \(1000\)/);
  });

  it('holds the connection cap given in the environment: with one connection open, another is closed unanswered', async () => {
    const port = await freePort();
    const server = CliProcess.start('server', ['server', '--data', join(dir, 'cap'), '--port', String(port)], {
      HOLDFAST_MAX_CONNECTIONS: '1',
      HOLDFAST_LOG_LEVEL: 'warn',
    });
    try {
      const deadline = Date.now() + 60_000;
      while (server.running && Date.now() < deadline && (await rawGet(port)) !== 'HTTP/1.1 200 OK')
        await new Promise((r) => setTimeout(r, 50));
      assert.ok(server.running, server.stderr);
      // One connection open, its request not finished: the cap is reached.
      const held = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => held.once('connect', () => resolve()));
      held.write('GET /v1/health HTTP/1.1\r\n');
      assert.equal(await rawGet(port), null, 'the second connection is closed unanswered');
      held.destroy();
      let answered: string | null = null;
      while (Date.now() < deadline && answered === null) answered = await rawGet(port);
      assert.equal(answered, 'HTTP/1.1 200 OK', 'once the first is closed, a connection is served again');
    } finally {
      await server.kill('SIGTERM');
    }
  });
});
