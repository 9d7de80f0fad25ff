/**
 * The simulator on a real socket, driven by ProcessorClient: the network
 * that lies (a charge committed, its answer lost), outages, concurrency,
 * and a restart on the same data directory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProcessorClient, ProcessorOutcomeUnknownError, ProcessorRefusedError } from '@holdfast/processor-client';
import { API_KEY_FILE, type RunningProcessorSim, type StartProcessorSimOptions, startProcessorSim } from './start.js';
import { authRequest } from './testing/fixtures.js';

const dirs: string[] = [];
const running: RunningProcessorSim[] = [];
after(async () => {
  for (const sim of running) await sim.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-processor-'));
  dirs.push(dir);
  return join(dir, 'data');
}

async function start(options: Partial<StartProcessorSimOptions> = {}) {
  const sim = await startProcessorSim({ dataDir: options.dataDir ?? tempDir(), seed: 11, ...options });
  running.push(sim);
  return { sim, client: new ProcessorClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 5000 }) };
}

async function unknown(promise: Promise<unknown>): Promise<ProcessorOutcomeUnknownError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProcessorOutcomeUnknownError, `expected "unknown", got ${String(error)}`);
    return error;
  }
  assert.fail('expected the outcome to be unknown');
}

describe('processor simulator on a socket', () => {
  for (const timeoutMode of ['hang', 'destroy'] as const) {
    it(`a timeout after commit (${timeoutMode}) is "unknown" to the client, yet charged exactly once`, {
      timeout: 20_000,
    }, async () => {
      const { sim, client } = await start({
        timeoutAfterCommitRate: 1,
        timeoutMode,
        cards: { tok_limited: { balance: 10_000 } },
      });
      const request = authRequest({ amount: 2500, card: { token: 'tok_limited' } });
      const lost = await unknown(client.authorize('op-1', request, 300));
      assert.equal(lost.reason, timeoutMode === 'hang' ? 'timeout' : 'network');
      // The client gives up after 300 ms; on a loaded machine that can be before the simulator
      // commits. A lost answer is looked up after the commit, as a real client's later retry is.
      while (sim.service.stats().sinceStart.timeoutsAfterCommit < 1) await new Promise((r) => setTimeout(r, 5));

      const found = await client.findByKey('op-1');
      assert.ok(found, 'the authorization exists although its answer never arrived');
      assert.equal(found.status, 'approved');
      const retry = await client.authorize('op-1', request, 2000);
      assert.equal(retry.replayed, true);
      assert.deepEqual(retry.authorization, found);

      const stats = await client.stats();
      assert.equal(stats.authorizations, 1);
      assert.deepEqual(stats.totals.EUR?.approved, { count: 1, amount: 2500 });
      assert.equal(stats.sinceStart.timeoutsAfterCommit, 1);
      assert.equal(sim.service.card('tok_limited')?.balance, 7500, 'one charge, not two');
      // A connection still held (its client waiting) must not keep close() waiting for the hang to end.
      const waiting = unknown(client.authorize('op-2', authRequest(), 30_000));
      while (sim.service.stats().sinceStart.timeoutsAfterCommit < 2) await new Promise((r) => setTimeout(r, 5));
      await sim.close();
      assert.equal((await waiting).reason, 'network');
    });
  }

  it('an outage is a refusal the client can retry, and nothing is stored', async () => {
    const { client } = await start({ outageRate: 1 });
    await assert.rejects(
      client.authorize('op-1', authRequest()),
      (e: unknown) => e instanceof ProcessorRefusedError && e.status === 503 && e.retryable,
    );
    assert.equal((await client.stats()).authorizations, 0);
    await client.configure({ outageRate: 0 });
    assert.equal(await client.findByKey('op-1'), null);
  });

  it('declines are answers, not errors; a reused key is a refusal naming the field', async () => {
    const { client } = await start({ declineRate: 1 });
    const declined = await client.authorize('op-1', authRequest());
    assert.equal(declined.authorization.status, 'declined');
    assert.equal(declined.authorization.declineCode, 'do_not_honor');
    await assert.rejects(
      client.authorize('op-1', authRequest({ amount: 1 })),
      (e: unknown) => e instanceof ProcessorRefusedError && e.code === 'idempotency_key_reused' && e.field === 'amount',
    );
  });

  it('20 concurrent requests with one key over real connections create one authorization', async () => {
    const { client } = await start({ latencyMs: [0, 15] });
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.authorize('op-same', authRequest())));
    assert.equal(answers.filter((a) => !a.replayed).length, 1);
    assert.equal(new Set(answers.map((a) => JSON.stringify(a.authorization))).size, 1);
    assert.equal((await client.listAll()).length, 1);
  });

  it('a restart on the same directory keeps every authorization, balance and API key, and replays identically', async () => {
    const dataDir = tempDir();
    const cards = { tok_limited: { balance: 5000 }, tok_blocked: { blocked: true } };
    const first = await start({ dataDir, declineRate: 0.3, cards });
    const answers = new Map<string, string>();
    for (let i = 0; i < 30; i++) {
      const token = i % 3 === 0 ? 'tok_limited' : i % 7 === 0 ? 'tok_blocked' : `tok_${i}`;
      const res = await fetch(`${first.sim.url}/v1/authorizations`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${first.sim.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': `op-${i}`,
        },
        body: JSON.stringify(authRequest({ amount: 1000 + i, card: { token } })),
      });
      assert.equal(res.status, 201);
      answers.set(`op-${i}`, await res.text());
    }
    const before = await first.client.listAll();
    const balance = first.sim.service.card('tok_limited')?.balance;
    assert.ok(balance !== undefined && balance !== null && balance < 5000);
    await first.sim.close();

    const second = await start({ dataDir, declineRate: 0.3, cards });
    assert.equal(second.sim.apiKey, readFileSync(join(dataDir, API_KEY_FILE), 'utf8').trim());
    assert.equal(second.sim.apiKey, first.sim.apiKey);
    assert.deepEqual(await second.client.listAll(), before);
    assert.equal(second.sim.service.card('tok_limited')?.balance, balance, 'the start option did not reset it');
    for (const [key, text] of answers) {
      const i = Number(key.slice(3));
      const token = i % 3 === 0 ? 'tok_limited' : i % 7 === 0 ? 'tok_blocked' : `tok_${i}`;
      const res = await fetch(`${second.sim.url}/v1/authorizations`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${second.sim.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify(authRequest({ amount: 1000 + i, card: { token } })),
      });
      assert.equal(res.status, 200, key);
      assert.equal(res.headers.get('idempotent-replayed'), 'true');
      assert.equal(await res.text(), text, key);
    }
    assert.equal((await second.client.stats()).authorizations, 30);
  });

  it('a client dribbling its body is cut by the request timeout, and others are served meanwhile', {
    timeout: 30_000,
  }, async () => {
    const { sim, client } = await start({ timeouts: { requestTimeoutMs: 1000, headersTimeoutMs: 500 } });
    const socket = connect({ port: sim.port, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(
      `POST /v1/authorizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${sim.apiKey}\r\n` +
        'Content-Type: application/json\r\nIdempotency-Key: slow\r\nContent-Length: 1000\r\n\r\n{',
    );
    const dribble = setInterval(() => socket.writable && socket.write(' '), 100);
    try {
      assert.equal((await client.authorize('op-fast', authRequest())).replayed, false);
      await closed;
      assert.match(Buffer.concat(chunks).toString('utf8'), /^HTTP\/1\.1 408/, 'cut with 408');
    } finally {
      clearInterval(dribble);
      socket.destroy();
    }
  });
});
