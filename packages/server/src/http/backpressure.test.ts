/**
 * Backpressure over real HTTP: a wave of backlog batches larger than the
 * server admits is answered 503 + Retry-After (never another 5xx), a live
 * sale in the same wave is served, per-device limits answer 429, and once
 * every refused batch is re-sent after its Retry-After everything is applied
 * exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Batch,
  ChainBuilder,
  enrollmentMessage,
  generateDeviceKeys,
  type IngestResponse,
  importPrivateKey,
  type Op,
  signMessage,
  type WireError,
} from '@holdfast/protocol';
import { HoldfastService } from '../holdfast-service.js';
import type { StoreSummary } from '../model/summary.js';
import { openThreadedSqlite } from '../storage/sqlite/sqlite-thread.js';
import { saleBody } from '../testing/harness.js';
import type { AdmissionOptions, LoadSnapshot } from './admission.js';
import { buildApp } from './build-app.js';

const OPERATOR = 'backpressure-operator-token-0123456789';

interface Server {
  url: string;
  service: HoldfastService;
  close(): Promise<void>;
}

async function startServer(dir: string, name: string, admission: Partial<AdmissionOptions>): Promise<Server> {
  // On its own thread (as startServer runs it), so batches are ingested while others arrive and overlap.
  const storage = openThreadedSqlite({ path: join(dir, `${name}.db`), synchronous: 'OFF' });
  await storage.migrate();
  const service = new HoldfastService({ storage });
  const app = buildApp({ service, operatorToken: OPERATOR, admission });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    service,
    async close() {
      await app.close();
      await storage.close();
    },
  };
}

/** An enrolled device's chain: a shift, then `sales` sales in one batch. */
async function deviceBatch(service: HoldfastService, sales: number): Promise<Batch> {
  const keys = generateDeviceKeys();
  const { token } = await service.createEnrollmentToken({});
  const sig = signMessage(enrollmentMessage(token, keys.publicKey), importPrivateKey(keys.privateKey));
  const { deviceId } = await service.enroll({ token, publicKey: keys.publicKey, sig });
  const chain = new ChainBuilder(deviceId, keys.privateKey);
  const shift = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 });
  const ops: Op[] = [shift];
  for (let i = 0; i < sales; i++) ops.push(chain.next('sale.recorded', saleBody(shift.id, 100 + i)));
  return chain.batch(ops);
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: IngestResponse & WireError;
}

async function post(url: string, batch: Batch, live = false): Promise<Answer> {
  const res = await fetch(`${url}/v1/batches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(live ? { 'holdfast-lane': 'live' } : {}) },
    body: JSON.stringify(batch),
  });
  const body = (await res.json()) as Answer['body'];
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

async function admin<T>(url: string, path: string): Promise<T> {
  const res = await fetch(`${url}/v1/admin${path}`, { headers: { authorization: `Bearer ${OPERATOR}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as T;
}

describe('backpressure over HTTP', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'holdfast-backpressure-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a wave beyond capacity with 503 + Retry-After, serves the live sale, then applies everything once', async () => {
    const server = await startServer(dir, 'wave', { maxBacklog: 2, maxLive: 8, perDeviceRate: 0 });
    try {
      const backlog = await Promise.all(Array.from({ length: 8 }, () => deviceBatch(server.service, 499)));
      const live = await deviceBatch(server.service, 0);

      const wave = backlog.map((batch) => post(server.url, batch));
      const liveAnswer = await post(server.url, live, true);
      const answers = await Promise.all(wave);

      assert.equal(liveAnswer.status, 200, 'the live sale is served while the backlog is refused');
      const statuses = answers.map((a) => a.status);
      assert.ok(
        statuses.every((s) => s === 200 || s === 503),
        `only 200 or the deliberate 503: ${statuses}`,
      );
      const refused = answers.filter((a) => a.status === 503);
      assert.ok(refused.length >= 1, `some of the wave is refused (${statuses})`);
      for (const a of refused) {
        assert.equal(a.body.code, 'overloaded');
        assert.equal(a.body.retryable, true);
        assert.ok((a.body.retryAfterMs ?? 0) > 0);
        assert.equal(a.retryAfter, String(Math.ceil((a.body.retryAfterMs ?? 0) / 1000)), 'header = body, in seconds');
      }

      // Re-send each refused batch after its Retry-After, as a terminal does.
      await Promise.all(
        backlog.map(async (batch, i) => {
          let answer = answers[i] as Answer;
          for (let attempt = 0; answer.status === 503; attempt++) {
            assert.ok(attempt < 50, 'a refused batch gets in within 50 tries');
            await new Promise((resolve) => setTimeout(resolve, answer.body.retryAfterMs));
            answer = await post(server.url, batch);
          }
          assert.equal(answer.status, 200);
          assert.ok(answer.body.results.every((r) => r.status === 'accepted'));
        }),
      );

      const summary = await admin<StoreSummary>(server.url, '/summary');
      assert.equal(summary.opsAccepted, 8 * 500 + 1, 'every op applied exactly once');
      assert.equal(summary.ledgerEvents, 8 * 500 + 1);
      const load = await admin<LoadSnapshot>(server.url, '/load');
      assert.deepEqual(load.admitted, { live: 0, backlog: 0 }, 'every admission was released');
      assert.equal(load.running, 0);
      assert.ok(load.totals.overloaded >= refused.length);
      assert.equal(load.totals.admitted.live, 1);
    } finally {
      await server.close();
    }
  });

  it('answers 429 rate_limited with Retry-After when a device exceeds its batch rate', async () => {
    const server = await startServer(dir, 'rate', { perDeviceRate: 0.001, perDeviceBurst: 1 });
    try {
      const batch = await deviceBatch(server.service, 2);
      const first = await post(server.url, batch);
      assert.equal(first.status, 200);
      const second = await post(server.url, batch);
      assert.equal(second.status, 429);
      assert.equal(second.body.code, 'rate_limited');
      assert.match(second.body.message, /batches a second/);
      assert.ok(Number(second.retryAfter) >= 1);
      const load = await admin<LoadSnapshot>(server.url, '/load');
      assert.equal(load.totals.rateLimited, 1);
      assert.deepEqual(load.admitted, { live: 0, backlog: 0 });
    } finally {
      await server.close();
    }
  });

  it('treats a large body marked live as backlog, and refuses bad input without holding a slot', async () => {
    const server = await startServer(dir, 'lanes', { liveMaxBytes: 2048, maxBacklog: 1, perDeviceRate: 0 });
    try {
      const big = await deviceBatch(server.service, 20);
      assert.equal((await post(server.url, big, true)).status, 200);
      const bad = await fetch(`${server.url}/v1/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"device": 1',
      });
      assert.equal(bad.status, 400);
      const load = await admin<LoadSnapshot>(server.url, '/load');
      assert.deepEqual(load.totals.admitted, { live: 0, backlog: 1 }, 'the large "live" body went to the backlog');
      assert.deepEqual(load.admitted, { live: 0, backlog: 0 }, 'the malformed request took no slot');
    } finally {
      await server.close();
    }
  });
});
