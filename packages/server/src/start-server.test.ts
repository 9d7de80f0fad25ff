/**
 * A real server on a real socket: health, enrollment and a batch over
 * 127.0.0.1 with global fetch; the operator token file; a restart on the
 * same data directory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type Batch,
  ChainBuilder,
  type EnrollResponse,
  enrollmentMessage,
  generateDeviceKeys,
  type IngestResponse,
  importPrivateKey,
  signMessage,
} from '@holdfast/protocol';
import { OPERATOR_TOKEN_FILE, type RunningServer, startServer } from './start-server.js';
import { saleBody } from './testing/harness.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-server-'));
  dirs.push(dir);
  return join(dir, 'data');
}

async function call<T>(server: RunningServer, method: string, path: string, body?: unknown, admin = false) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (admin) headers.authorization = `Bearer ${server.operatorToken}`;
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Enrolls a new device over HTTP and returns a chain builder for it. */
async function enroll(server: RunningServer): Promise<ChainBuilder> {
  const { body: token } = await call<{ token: string }>(server, 'POST', '/v1/admin/enrollment-tokens', {}, true);
  const keys = generateDeviceKeys();
  const sig = signMessage(enrollmentMessage(token.token, keys.publicKey), importPrivateKey(keys.privateKey));
  const res = await call<EnrollResponse>(server, 'POST', '/v1/enroll', {
    token: token.token,
    publicKey: keys.publicKey,
    sig,
  });
  assert.equal(res.status, 200);
  return new ChainBuilder(res.body.deviceId, keys.privateKey);
}

describe('startServer on a real socket', () => {
  it('serves health and ingests a batch over 127.0.0.1; a restart keeps the data and answers a replay with duplicates', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir, port: 0 });
    let batch: Batch;
    let accepted: IngestResponse;
    try {
      assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(first.port > 0);
      const health = await call<{ status: string; storage: string }>(first, 'GET', '/v1/health');
      assert.deepEqual([health.status, health.body.status, health.body.storage], [200, 'ok', 'sqlite']);

      const chain = await enroll(first);
      const open = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 500 });
      batch = chain.batch([open, chain.next('sale.recorded', saleBody(open.id, 1_250))]);
      const res = await call<IngestResponse>(first, 'POST', '/v1/batches', batch);
      assert.equal(res.status, 200);
      accepted = res.body;
      assert.deepEqual(
        accepted.results.map((r) => r.status),
        ['accepted', 'accepted'],
      );
      const refused = await call<{ code: string }>(first, 'GET', '/v1/admin/summary');
      assert.deepEqual([refused.status, refused.body.code], [401, 'unauthorized']);
    } finally {
      await first.close();
    }

    const second = await startServer({ dataDir, port: 0 });
    try {
      assert.equal(second.operatorToken, first.operatorToken, 'the operator token is reused');
      const summary = await call<{ opsAccepted: number; sales: unknown[] }>(
        second,
        'GET',
        '/v1/admin/summary',
        undefined,
        true,
      );
      assert.equal(summary.status, 200);
      assert.equal(summary.body.opsAccepted, 2);
      assert.deepEqual(summary.body.sales, [{ currency: 'EUR', sales: 1, total: 1_250, cash: 1_250, card: 0 }]);
      const replay = await call<IngestResponse>(second, 'POST', '/v1/batches', batch);
      assert.equal(replay.status, 200);
      assert.deepEqual(
        replay.body.results,
        accepted.results.map((original) => ({ id: original.id, seq: original.seq, status: 'duplicate', original })),
      );
    } finally {
      await second.close();
    }
  });

  it('creates the operator token file with mode 0600 and reads it back on restart', async () => {
    const dataDir = tempDir();
    const server = await startServer({ dataDir, port: 0 });
    const path = join(dataDir, OPERATOR_TOKEN_FILE);
    try {
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(readFileSync(path, 'utf8').trim(), server.operatorToken);
      assert.ok(server.operatorToken.length >= 16);
    } finally {
      await server.close();
    }
    writeFileSync(path, 'a-token-the-operator-chose-123\n');
    const again = await startServer({ dataDir, port: 0 });
    try {
      assert.equal(again.operatorToken, 'a-token-the-operator-chose-123');
      const ok = await call<{ devices: unknown[] }>(again, 'GET', '/v1/admin/devices', undefined, true);
      assert.deepEqual([ok.status, ok.body.devices], [200, []]);
    } finally {
      await again.close();
    }
  });

  it('refuses to start with an operator token file holding a token too short to be safe', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir, port: 0 });
    await first.close();
    writeFileSync(join(dataDir, OPERATOR_TOKEN_FILE), 'short\n');
    await assert.rejects(startServer({ dataDir, port: 0 }), /at least 16 characters/);
  });

  it('keeps the operator token in --operator-token-file when given, and reuses it', async () => {
    const dataDir = tempDir();
    const tokenFile = join(tempDir(), 'shared', 'operator-token');
    const server = await startServer({ dataDir, port: 0, operatorTokenFile: tokenFile });
    try {
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.equal(readFileSync(tokenFile, 'utf8').trim(), server.operatorToken);
      assert.throws(() => statSync(join(dataDir, OPERATOR_TOKEN_FILE)), { code: 'ENOENT' });
    } finally {
      await server.close();
    }
    const again = await startServer({ dataDir, port: 0, operatorTokenFile: tokenFile });
    await again.close();
    assert.equal(again.operatorToken, server.operatorToken);
  });

  it('uses an explicit operator token without writing a file, and closes its port', async () => {
    const dataDir = tempDir();
    const server = await startServer({ dataDir, port: 0, operatorToken: 'explicit-operator-token-42' });
    const url = server.url;
    try {
      assert.throws(() => statSync(join(dataDir, OPERATOR_TOKEN_FILE)), { code: 'ENOENT' });
      const res = await call<unknown>(server, 'GET', '/v1/admin/devices', undefined, true);
      assert.equal(res.status, 200);
    } finally {
      await server.close();
    }
    await assert.rejects(fetch(`${url}/v1/health`));
  });
});
