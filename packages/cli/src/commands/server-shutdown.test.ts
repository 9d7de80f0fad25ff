/**
 * `holdfast server` as a real process: the production flags reach the
 * server (--cors-origin, --metrics-token-file), and graceful shutdown has a
 * deadline: a request still open when it passes has its connection
 * destroyed, and the process logs it and exits with status 3.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CliProcess } from '../cli-process.js';

const WAIT_MS = 120_000;
const dirs: string[] = [];
after(async () => {
  await CliProcess.killAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startServer(
  extra: (dir: string) => string[],
): Promise<{ server: CliProcess; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-shutdown-'));
  dirs.push(dir);
  const server = CliProcess.start('server', ['server', '--data', dir, '--port', '0', ...extra(dir)]);
  await server.waitFor('listening', () => server.events.some((e) => e.msg === 'holdfast server listening'), WAIT_MS);
  const url = server.events.find((e) => e.msg === 'holdfast server listening')?.url as string;
  return { server, url, dir };
}

describe('holdfast server: production flags and the shutdown deadline', () => {
  it('serves /metrics to the token in --metrics-token-file, CORS to --cors-origin, and exits 0 when idle', async () => {
    const { server, url, dir } = await startServer((dir) => [
      '--metrics-token-file',
      join(dir, 'metrics-token'),
      '--cors-origin',
      'https://pos.example.com',
      '--cors-origin',
      'http://127.0.0.1:5173',
    ]);
    const token = readFileSync(join(dir, 'metrics-token'), 'utf8').trim();
    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^holdfast_forwarding_pending 0$/m);
    for (const origin of ['https://pos.example.com', 'http://127.0.0.1:5173']) {
      const res = await fetch(`${url}/v1/health`, { headers: { origin } });
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      await res.arrayBuffer();
    }
    const ready = await fetch(`${url}/v1/ready`);
    assert.equal(ready.status, 200);
    await ready.arrayBuffer();
    const exit = await server.kill('SIGTERM');
    assert.equal(exit.code, 0, server.stderr);
  });

  it('destroys a request still open at the deadline, logs it and exits 3', async () => {
    const { server, url } = await startServer(() => ['--shutdown-timeout-ms', '300']);
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => undefined);
    // A body announced as 1000 bytes of which 10 arrive: the request stays open.
    socket.write(
      'POST /v1/enroll HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n' +
        'x-request-id: slow-one\r\n\r\n{"token":"',
    );
    await server.waitFor(
      'the slow request',
      () => server.events.some((e) => e.reqId === 'slow-one' && e.msg === 'incoming request'),
      WAIT_MS,
    );
    const exit = await server.kill('SIGTERM');
    assert.equal(exit.code, 3, server.stderr);
    await closed;
    const deadline = server.events.find(
      (e) => e.msg === 'shutdown deadline passed: destroying the connections still open',
    );
    assert.ok(deadline, server.lines.join('\n'));
    assert.equal(deadline.openConnections, 1);
    assert.ok(server.events.some((e) => e.msg === 'shut down at the deadline; exiting with status 3'));
  });

  it('refuses a --cors-origin that is not an exact origin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-shutdown-'));
    dirs.push(dir);
    const server = CliProcess.start('server', ['server', '--data', dir, '--cors-origin', 'https://pos.example.com/']);
    const exit = await server.exited;
    assert.equal(exit.code, 2);
    assert.match(server.stderr, /--cors-origin: CORS origin "https:\/\/pos\.example\.com\/" must be exactly/);
  });
});
