/**
 * E-invoicing with real processes: a `holdfast fiscal-sim` (outages, slow
 * answers, answers lost after commit) and a `holdfast server --fiscal-url`
 * registering every sale of two signed devices. Mid-submission the server
 * is SIGKILLed and started again on its data, then the authority likewise.
 *
 * Then, from both sides' own records: every bill registered exactly once
 * (no bill id under two keys at the authority), none lost (one answer per
 * sale), each bill's stored fiscal number the authority's, and per device
 * the numbers rising with seq.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FiscalClient } from '@holdfast/processor-client';
import {
  type Batch,
  ChainBuilder,
  type EnrollResponse,
  enrollmentMessage,
  fiscalKeyOf,
  generateDeviceKeys,
  importPrivateKey,
  type Op,
  signBatch,
  signMessage,
} from '@holdfast/protocol';
import { DATABASE_FILE, SqliteStorage } from '@holdfast/server';
import {
  CliProcess,
  freePort,
  healthy,
  removeTempDirs,
  START_TIMEOUT_MS,
  sleep,
  startServerProcessWith,
  tempDir,
} from './e2e-fixture.js';

const API_KEY = 'fiscal-e2e-api-key-0123456789';
const DEVICES = 2;
const BATCHES = 4;
const SALES_PER_BATCH = 5;
const BILLS = DEVICES * BATCHES * SALES_PER_BATCH;

after(async () => {
  await CliProcess.killAll();
  removeTempDirs();
});

async function post<T>(url: string, path: string, body: unknown, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A device enrolled over HTTP; `batches()` its signed batches of cash sales (the first opens the shift). */
async function signedDevice(url: string, operatorToken: string): Promise<Batch[]> {
  const { body: issued } = await post<{ token: string }>(url, '/v1/admin/enrollment-tokens', {}, operatorToken);
  const keys = generateDeviceKeys();
  const privateKey = importPrivateKey(keys.privateKey);
  const sig = signMessage(enrollmentMessage(issued.token, keys.publicKey), privateKey);
  const res = await post<EnrollResponse>(url, '/v1/enroll', { token: issued.token, publicKey: keys.publicKey, sig });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const chain = new ChainBuilder(res.body.deviceId, privateKey);
  const shift = chain.next('shift.opened', { clerk: 'bo', currency: 'EUR', openingFloat: 5_000 });
  const batches: Batch[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const ops: Op[] = b === 0 ? [shift] : [];
    for (let i = 0; i < SALES_PER_BATCH; i++) {
      const total = 100 * (1 + (chain.seq % 7));
      ops.push(
        chain.next('sale.recorded', {
          shift: shift.id,
          currency: 'EUR',
          lines: [{ sku: 'TEA', name: 'Tea', qty: 1, unitPrice: total }],
          total,
          tenders: [{ type: 'cash', amount: total, tendered: total }],
        }),
      );
    }
    batches.push(signBatch(res.body.deviceId, ops, privateKey, Date.now(), chain.seq));
  }
  return batches;
}

async function waitUntil(what: string, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function startAuthority(dir: string, port: number, name: string): Promise<CliProcess> {
  const sim = CliProcess.start(name, [
    'fiscal-sim',
    '--port',
    String(port),
    '--data',
    dir,
    '--api-key',
    API_KEY,
    '--seed',
    name.endsWith('2') ? '9' : '4',
    '--outage-rate',
    '0.15',
    '--lost-answer-rate',
    '0.25',
    '--latency-ms',
    '0..30',
    '--log-level',
    'warn',
  ]);
  await waitUntil(`${name} to answer`, () => healthy(port), START_TIMEOUT_MS);
  return sim;
}

test('server and authority SIGKILLed mid-submission: every bill registered exactly once, none lost', {
  timeout: 240_000,
}, async () => {
  const dir = tempDir('fiscal');
  const authorityDir = join(dir, 'authority');
  const serverDir = join(dir, 'server');
  const keyFile = join(dir, 'fiscal-key');
  writeFileSync(keyFile, `${API_KEY}\n`, { mode: 0o600 });
  const tokenFile = join(dir, 'operator-token');
  const authorityPort = await freePort();
  const serverPort = await freePort();
  let authority = await startAuthority(authorityDir, authorityPort, 'fiscal-sim-1');
  const serverArgs = [
    '--data',
    serverDir,
    '--operator-token-file',
    tokenFile,
    '--fiscal-url',
    `http://127.0.0.1:${authorityPort}`,
    '--fiscal-key-file',
    keyFile,
    '--fiscal-tax-id',
    'ESB12345678',
    '--fiscal-interval-ms',
    '20',
  ];
  let server = await startServerProcessWith(serverArgs, serverPort, 'server-1', START_TIMEOUT_MS);
  const url = `http://127.0.0.1:${serverPort}`;
  const { readFileSync } = await import('node:fs');
  const operatorToken = readFileSync(tokenFile, 'utf8').trim();
  const devices = await Promise.all(Array.from({ length: DEVICES }, () => signedDevice(url, operatorToken)));
  for (let b = 0; b < BATCHES; b++) {
    for (const batches of devices) {
      const res = await post(url, '/v1/batches', batches[b]);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  }
  const client = new FiscalClient(`http://127.0.0.1:${authorityPort}`, { apiKey: API_KEY, timeoutMs: 5_000 });
  const answered = async () => (await client.listAll().catch(() => [])).length;

  // The server dies while bills are being registered, and comes back on its data.
  await waitUntil('the first bills registered', async () => (await answered()) >= 5);
  assert.ok((await answered()) < BILLS, 'killed mid-submission');
  assert.equal((await server.kill('SIGKILL')).signal, 'SIGKILL');
  server = await startServerProcessWith(serverArgs, serverPort, 'server-2', START_TIMEOUT_MS);

  // Then the authority, mid-submission too.
  const before = await answered();
  await waitUntil('more bills registered', async () => (await answered()) > before);
  assert.equal((await authority.kill('SIGKILL')).signal, 'SIGKILL');
  authority = await startAuthority(authorityDir, authorityPort, 'fiscal-sim-2');

  await waitUntil('every bill answered', async () => (await answered()) >= BILLS, 120_000);
  // Let the server record the last answers (they are the authority's by key), then stop it cleanly.
  const storage = async () => {
    const opened = new SqliteStorage({ path: join(serverDir, DATABASE_FILE) });
    await opened.migrate();
    return opened;
  };
  await waitUntil('every bill recorded by the server', async () => {
    const s = await storage();
    try {
      return (await s.listFiscalBills(null)).every((b) => b.state !== 'pending');
    } finally {
      await s.close();
    }
  });
  await server.kill('SIGTERM');

  const listed = await client.listAll();
  const stats = (await (
    await fetch(`http://127.0.0.1:${authorityPort}/v1/stats`, { headers: { authorization: `Bearer ${API_KEY}` } })
  ).json()) as { duplicateBills: number; registered: number };
  assert.equal(stats.duplicateBills, 0, 'no bill registered twice');
  assert.equal(listed.length, BILLS, 'one answer per bill: none lost, none twice');
  assert.equal(stats.registered, BILLS);
  const s = await storage();
  try {
    const bills = await s.listFiscalBills(null);
    assert.equal(bills.length, BILLS);
    const byKey = new Map(listed.map((l) => [l.key, l.answer]));
    const last = new Map<string, number>();
    for (const b of bills) {
      const answer = byKey.get(fiscalKeyOf(b.opId));
      assert.ok(answer?.status === 'registered', `bill ${b.opId} registered under its key`);
      assert.equal(b.fiscalNumber, answer.fiscalNumber);
      assert.ok(answer.sequence > (last.get(b.device) ?? 0), 'numbers rise with seq per device');
      last.set(b.device, answer.sequence);
    }
  } finally {
    await s.close();
  }
  await authority.kill('SIGTERM');
});
