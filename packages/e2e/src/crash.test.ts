/**
 * The crash test: real `holdfast server` and `holdfast till` processes on
 * loopback, SIGKILLed mid-stream and mid-batch and started again on the same
 * data, then reconciled from disk with both stopped: every op the till
 * recorded is on the server exactly once (same id, seq and hash), the ledger
 * has one event per op, and every cent is accounted for.
 *
 * The first test puts a TcpFaultProxy (@holdfast/sim) in pass mode between
 * till and server: it tells the test when a batch is in flight and can hold
 * back an answer, so "killed mid-batch" and "killed after the commit, before
 * the answer arrived" are facts, not hopes. (The chaos test, packages/cli/src/chaos.test.ts,
 * turns its faults on.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { DATABASE_FILE, SqliteStorage } from '@holdfast/server';
import { checkServerAgainstJournals, formatViolation, TcpFaultProxy } from '@holdfast/sim';
import {
  type CliEvent,
  CliProcess,
  freePort,
  type JournalState,
  readJournal as readTillJournal,
  removeTempDirs,
  ServerAdmin,
  START_TIMEOUT_MS,
  sleep,
  startServerProcess as startServer,
  tempDir,
} from './e2e-fixture.js';

/** Any one step of the chaos schedule (including a till's backoff after a server crash). */
const STEP_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 60_000;

const proxies: TcpFaultProxy[] = [];
after(async () => {
  await CliProcess.killAll();
  await Promise.all(proxies.map((r) => r.close()));
  removeTempDirs();
});
const jitter = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** `holdfast server` on `port`, once /v1/health answers (see chaos/server-process.ts). */
const startServerProcess = (dataDir: string, port: number, name: string) =>
  startServer(dataDir, port, name, START_TIMEOUT_MS);

/** A one-time enrollment token from the server's operator API. */
const enrollmentToken = (port: number, serverDir: string) =>
  new ServerAdmin(port, serverDir).enrollmentToken('crash-lane');

/** A till's journal; the till must have enrolled. */
async function readJournal(tillDir: string): Promise<JournalState & { deviceId: string }> {
  const journal = await readTillJournal(tillDir);
  assert.ok(journal.deviceId, 'the till is enrolled');
  return { ...journal, deviceId: journal.deviceId };
}

interface Reconciliation {
  journal: JournalState;
  sales: number;
  salesTotal: number;
  /** Ops the server answered `duplicate`: a batch it had committed came again and changed nothing. */
  duplicates: number;
}

type SaleBody = { total: number; tenders: { type: string; amount: number }[] };

/**
 * Reconciles a stopped till's journal with a stopped server's database and
 * asserts exactly-once: same ops (id, seq, hash), no gaps, nothing extra,
 * one ledger event per op, the same money, all confirmed, nothing dead.
 */
async function reconcile(tillDir: string, serverDir: string): Promise<Reconciliation> {
  const journal = await readJournal(tillDir);
  const { deviceId, entries } = journal;
  assert.ok(entries.length > 0, 'the till recorded ops');
  assert.deepEqual(
    entries.map((e) => e.seq),
    range(entries.length),
    'journal seqs are 1..n without gaps',
  );
  assert.deepEqual(
    entries.filter((e) => e.state !== 'confirmed').map((e) => `${e.seq} ${e.state}`),
    [],
    'every recorded op is confirmed',
  );
  assert.equal(journal.pending, 0);
  assert.equal(journal.deadLetters, 0);

  // The server's side is read once through the checking kit, which also
  // judges it by every rule (exactly once, no loss, money, exceptions).
  const { truth, violations } = await checkServerAgainstJournals({ server: serverDir, journals: [tillDir] });
  assert.deepEqual(violations.map(formatViolation), [], 'the checking kit finds nothing wrong');
  const storage = new SqliteStorage({ path: join(serverDir, DATABASE_FILE) });
  await storage.migrate();
  try {
    const stored = [...truth.server.ops].sort((a, b) => a.device.localeCompare(b.device) || a.seq - b.seq);
    const byId = new Map(stored.map((row) => [row.id, row]));
    const recordedIds = new Set(entries.map((e) => e.id));
    assert.deepEqual(
      entries.filter((e) => !byId.has(e.id)).map((e) => e.seq),
      [],
      'recorded ops missing on the server',
    );
    assert.deepEqual(
      entries
        .filter((e) => {
          const row = byId.get(e.id);
          return row && (row.device !== deviceId || row.seq !== e.seq || row.hash !== e.hash || row.kind !== e.kind);
        })
        .map((e) => e.seq),
      [],
      'ops stored with another device, seq, hash or kind',
    );
    assert.deepEqual(
      stored.filter((row) => !recordedIds.has(row.id)).map((row) => `${row.device} ${row.seq}`),
      [],
      'ops on the server the journal does not have',
    );
    assert.equal(stored.length, entries.length);
    assert.deepEqual(
      stored.map((row) => row.seq),
      range(stored.length),
      'server seqs are 1..n without gaps',
    );
    assert.deepEqual(
      stored.filter((row) => row.status !== 'accepted').map((row) => row.seq),
      [],
      'every op accepted',
    );

    const eventsPerOp = new Map<string, number>();
    for (const event of truth.server.ledger) eventsPerOp.set(event.opId, (eventsPerOp.get(event.opId) ?? 0) + 1);
    assert.deepEqual(
      [...eventsPerOp].filter(([, n]) => n > 1).map(([op_id, n]) => ({ op_id, n })),
      [],
      'an op with more than one ledger event',
    );
    const ledgerIds = [...truth.server.ledger].sort((a, b) => a.seq - b.seq).map((e) => e.opId);
    assert.deepEqual(
      ledgerIds,
      entries.map((e) => e.id),
      'one ledger event per op, in seq order',
    );

    // Conservation of money: what the till rang up is what the server settled, cash and card alike.
    const sales = entries.filter((e) => e.kind === 'sale.recorded').map((e) => e.op.body as SaleBody);
    const tendered = (type: string) =>
      sales.reduce((sum, s) => sum + s.tenders.filter((t) => t.type === type).reduce((a, t) => a + t.amount, 0), 0);
    const recorded = { n: sales.length, total: sales.reduce((sum, s) => sum + s.total, 0) };
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const settled = {
      n: truth.server.sales.length,
      total: sum(truth.server.sales.map((r) => r.total)),
      cash: sum(truth.server.sales.map((r) => r.cash)),
      card: sum(truth.server.sales.map((r) => r.card)),
    };
    assert.deepEqual(settled, { ...recorded, cash: tendered('cash'), card: tendered('card') });
    const ledgerSales = {
      total: sum(truth.server.ledger.filter((e) => e.type === 'sale.recorded').map((e) => e.amount ?? 0)),
    };
    assert.equal(ledgerSales?.total, recorded.total);

    const device = await storage.deviceStatus(deviceId);
    assert.ok(device);
    assert.equal(device.highWater, entries.length);
    assert.equal(device.behind, 0);
    assert.equal(device.gap, null);
    assert.equal(device.conflicts, 0);
    assert.equal(device.forks, 0);
    assert.deepEqual((await storage.summary()).exceptions, {}, 'no exception for operators');
    for (const shift of await storage.listShifts(deviceId)) {
      assert.equal(shift.status, 'closed');
      assert.equal(shift.variance, 0);
    }

    const duplicates = entries.filter((e) => (e.result as { status?: unknown } | null)?.status === 'duplicate').length;
    return { journal, sales: recorded.n, salesTotal: recorded.total, duplicates };
  } finally {
    await storage.close();
  }
}

const recordedCount = (p: CliProcess) => p.eventsNamed('recorded').length;
/** The request line of a batch, as the proxy matches it. */
const BATCH = 'POST /v1/batches ';

test('SIGKILLed tills and servers, restarted on their data, apply every recorded op exactly once', {
  timeout: 240_000,
}, async (t) => {
  const SALES = 500;
  const started = performance.now();
  const chaos: string[] = [];
  const note = (what: string) => chaos.push(`${Math.round(performance.now() - started)} ms  ${what}`);

  const root = tempDir('crash');
  const serverDir = join(root, 'server');
  const tillDir = join(root, 'till');
  const port = await freePort();
  let serverRuns = 1;
  let tillRuns = 1;
  let server = await startServerProcess(serverDir, port, 'server#1');
  const token = await enrollmentToken(port, serverDir);
  const proxy = await TcpFaultProxy.start({ targetPort: port, random: new SeededRandom(1) });
  proxies.push(proxy);
  const tillArgs = [
    'till',
    '--data',
    tillDir,
    '--server',
    proxy.url,
    // `=`: a token may start with '-', which parseArgs would take for an option.
    '--token',
    token,
    '--label',
    'crash-lane',
    '--sales',
    String(SALES),
    // Slow enough that the till is still selling when the last step needs
    // more recorded ops, however long the server restarts before it take
    // on a loaded machine (at 20 ms it could sell all 500 and exit first).
    '--interval-ms',
    '50',
    '--json-events',
    '--exit-when-drained',
    '--drain-timeout-s',
    String(DRAIN_TIMEOUT_MS / 1000),
  ];
  let till = CliProcess.start('till#1', tillArgs);
  const kills = { till: 0, server: 0, serverWithBatchInFlight: 0 };
  const pendingAtRestart: number[] = [];

  const recordMore = async (n: number) => {
    const target = recordedCount(till) + n;
    await till.waitFor(`${n} more recorded ops`, () => recordedCount(till) >= target, STEP_TIMEOUT_MS);
  };
  const killTill = async (why: string) => {
    const exit = await till.kill('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL', `${till.name} was still running when killed (${why})`);
    kills.till++;
    note(`SIGKILL ${till.name} (${why}) after ${recordedCount(till)} recorded lines`);
  };
  const restartTill = async () => {
    const next = CliProcess.start(`till#${++tillRuns}`, tillArgs);
    till = next;
    await next.waitFor('its started line', () => next.eventsNamed('started').length > 0, START_TIMEOUT_MS);
    const line = next.eventsNamed('started')[0] as CliEvent;
    pendingAtRestart.push(Number(line.pending));
    note(`${next.name} started: ${String(line.sales)} sales in the journal, ${String(line.pending)} pending`);
    await recordMore(5);
  };
  /** SIGKILLs the server (unless `act` already did, with `inFlight` batches in flight) and counts the kill. */
  const killServer = async (why: string, inFlight = proxy.inFlight(BATCH)) => {
    const exit = await server.kill('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL', `${server.name} was still running when killed (${why})`);
    kills.server++;
    if (inFlight > 0) kills.serverWithBatchInFlight++;
    note(`SIGKILL ${server.name} (${why}), ${inFlight} batch(es) in flight`);
  };
  const restartServer = async () => {
    server = await startServerProcess(serverDir, port, `server#${++serverRuns}`);
    note(`${server.name} answers /v1/health`);
  };
  const syncing = async () => {
    await proxy.nextResponse(BATCH, STEP_TIMEOUT_MS);
  };

  // 1. Warm up: the till sells and syncs.
  await recordMore(25);
  await syncing();
  // 2. The till dies at a random moment while it records and syncs.
  await recordMore(jitter(5, 25));
  await sleep(jitter(0, 15));
  await killTill('random moment');
  await restartTill();
  await syncing();
  // 3. The server dies the moment a batch request has reached it.
  let inFlight = 0;
  await proxy.nextRequest(BATCH, STEP_TIMEOUT_MS, () => {
    inFlight = proxy.inFlight(BATCH);
    void server.kill('SIGKILL');
  });
  await killServer('batch just relayed to it', inFlight);
  await restartServer();
  // 4. The till dies soon after the server crash (usually still backing off, its newest ops pending).
  await recordMore(jitter(5, 25));
  await killTill('after a server crash');
  await restartTill();
  await syncing();
  // 5. The server committed a batch and answered; the till dies before hearing it.
  await proxy.holdNextResponse(BATCH, STEP_TIMEOUT_MS);
  await killTill('answer held back');
  await restartTill();
  await syncing();
  // 6. The server dies right after committing a batch; its answer never arrives.
  await proxy.holdNextResponse(BATCH, STEP_TIMEOUT_MS);
  await killServer('answer held back');
  await restartServer();
  // 7. Both die at once, at a random moment; the server comes back first.
  await recordMore(jitter(5, 25));
  await Promise.all([killTill('both at once'), killServer('both at once')]);
  await restartServer();
  await restartTill();
  await syncing();
  // 8. The server dies a random instant after a batch reached it (before or after the commit);
  //    this time the till recovers on its own, by backoff.
  await proxy.nextRequest(BATCH, STEP_TIMEOUT_MS);
  await sleep(jitter(0, 3));
  await killServer('0-3 ms after a batch reached it');
  await restartServer();

  const last = till;
  await last.waitFor('drained', () => last.eventsNamed('drained').length > 0, DRAIN_TIMEOUT_MS + START_TIMEOUT_MS);
  assert.deepEqual(await last.exited, { code: 0, signal: null }, last.stderr);
  note(`${last.name} drained and exited 0`);
  await proxy.close();
  assert.deepEqual(await server.kill('SIGTERM'), { code: 0, signal: null }, server.stderr);
  note(`${server.name} stopped by SIGTERM, exit 0`);

  const report = await reconcile(tillDir, serverDir);
  assert.equal(report.sales, SALES, 'exactly --sales sales in total across restarts');
  const drained = last.eventsNamed('drained')[0] as CliEvent;
  assert.equal(drained.confirmed, report.journal.entries.length);
  assert.equal(drained.deadLetters, 0);

  // The kills really happened mid-stream.
  assert.ok(kills.till >= 3 && kills.server >= 2, `kills: ${JSON.stringify(kills)}`);
  assert.ok(kills.serverWithBatchInFlight >= 1, 'a server was killed with a batch in flight');
  assert.ok(
    pendingAtRestart.some((n) => n > 0),
    `a till was killed with ops pending (pending at restarts: ${pendingAtRestart.join(', ')})`,
  );
  assert.ok(report.duplicates >= 1, 'a committed batch whose answer was lost came again and was answered duplicate');
  const outcomes = report.journal.attempts.map((a) => a.outcome);
  assert.ok(outcomes.includes('unknown'), 'a batch met a dead server (outcome unknown)');
  assert.ok(outcomes.includes(null), 'a till died waiting for an answer (attempt never finished)');

  note(
    `reconciled: ${report.journal.entries.length} ops, ${report.sales} sales, ${report.salesTotal} cents, ` +
      `${report.duplicates} answered duplicate, ${outcomes.filter((o) => o === 'unknown').length} unknown outcomes`,
  );
  t.diagnostic(
    `${kills.till} till kills, ${kills.server} server kills (${tillRuns} till runs, ${serverRuns} server runs)`,
  );
  for (const line of chaos) t.diagnostic(line);
});

test('a till SIGKILLed right after printing "recorded" kept that op, and the server applies it exactly once', {
  timeout: 120_000,
}, async () => {
  const SALES = 60;
  const root = tempDir('crash');
  const serverDir = join(root, 'server');
  const tillDir = join(root, 'till');
  const port = await freePort();
  const server = await startServerProcess(serverDir, port, 'server');
  const token = await enrollmentToken(port, serverDir);
  const args = [
    'till',
    '--data',
    tillDir,
    '--server',
    `http://127.0.0.1:${port}`,
    // `=`: a token may start with '-', which parseArgs would take for an option.
    '--token',
    token,
    '--sales',
    String(SALES),
    '--interval-ms',
    '5',
    '--json-events',
    '--exit-when-drained',
  ];

  const first = CliProcess.start('till#1', args);
  const killAt = jitter(10, 40);
  const victim: { id?: string; seq?: number } = {};
  first.onEvent((event) => {
    if (victim.id !== undefined || event.event !== 'recorded' || Number(event.seq) < killAt) return;
    void first.kill('SIGKILL');
    victim.id = String(event.id);
    victim.seq = Number(event.seq);
  });
  assert.equal((await first.exited).signal, 'SIGKILL', first.stderr);
  assert.ok(victim.id !== undefined && victim.seq !== undefined);

  // Every op the till said it recorded, up to the victim, is in the journal at its seq.
  const before = await readJournal(tillDir);
  const idAt = new Map(before.entries.map((e) => [e.seq, e.id]));
  const printed = first.eventsNamed('recorded');
  assert.ok(printed.length >= victim.seq);
  for (const line of printed) assert.equal(idAt.get(Number(line.seq)), line.id, `op ${String(line.seq)}`);
  assert.deepEqual(
    before.entries.slice(0, victim.seq).map((e) => e.seq),
    range(victim.seq),
  );

  const second = CliProcess.start('till#2', args);
  await second.waitFor('drained', () => second.eventsNamed('drained').length > 0, DRAIN_TIMEOUT_MS);
  assert.deepEqual(await second.exited, { code: 0, signal: null }, second.stderr);
  assert.deepEqual(await server.kill('SIGTERM'), { code: 0, signal: null }, server.stderr);

  const report = await reconcile(tillDir, serverDir);
  assert.equal(report.sales, SALES);
  const kept = report.journal.entries.find((e) => e.id === victim.id);
  assert.equal(kept?.seq, victim.seq);
  assert.equal(kept?.state, 'confirmed');
});
