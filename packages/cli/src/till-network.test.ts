/**
 * `holdfast till` enrolling through a network that resets every connection,
 * or that accepts and never answers: a real till process against a real TCP
 * server. The till must keep trying and say so — never exit 0 having done
 * nothing (Node 20's fetch could leave a request unsettled on a reset, and
 * the process then simply ended).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CliProcess } from './cli-process.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-till-net-'));
const servers: Server[] = [];
const sockets = new Set<Socket>();
after(async () => {
  await CliProcess.killAll();
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

async function tcpServer(onConnection: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return `http://127.0.0.1:${address.port}`;
}

async function tillKeepsTrying(name: string, url: string, retries: number): Promise<void> {
  const till = CliProcess.start(name, [
    'till',
    ...['--data', join(root, name), '--server', url, '--token', 'tok', '--sales', '1', '--exit-when-drained'],
  ]);
  const retried = () => (till.stderr.match(/enrollment: .*; retrying/g) ?? []).length >= retries;
  const deadline = setTimeout(() => void till.kill('SIGKILL'), 120_000);
  while (till.running && !retried()) await new Promise((r) => setTimeout(r, 100));
  clearTimeout(deadline);
  assert.ok(till.running, `the till must not exit while it has not enrolled; stderr:\n${till.stderr}`);
  assert.ok(retried(), `the till says it is retrying; stderr:\n${till.stderr}`);
  const exit = await till.kill('SIGTERM');
  assert.equal(exit.signal, null, 'stopped cleanly on SIGTERM');
}

describe('holdfast till through a hostile network', () => {
  it('a server that resets every connection: the till keeps retrying enrollment and says so', async () => {
    const url = await tcpServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    await tillKeepsTrying('reset', url, 20);
  });

  it('a server that accepts and stays silent: each request times out, the till keeps retrying', async () => {
    const url = await tcpServer(() => undefined);
    await tillKeepsTrying('silent', url, 1);
  });
});
