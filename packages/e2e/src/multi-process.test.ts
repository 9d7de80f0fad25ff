/**
 * Many server processes, one database: three real `holdfast server
 * --database-url` processes on one PostgreSQL, started at once on an empty
 * database (their migrations race), sharing one operator token file.
 *
 * Traffic: real Terminals (the SDK, its journal, its sync loop) whose
 * transport plays a load balancer — each request goes to the next process,
 * and every other batch is also delivered at the same moment to a second
 * process, as a retransmitting proxy would; plus two signed-batch devices
 * that deliver every batch to all three processes at once. Mid-traffic one
 * process is SIGKILLed and started again.
 *
 * Then, from the database: every op each terminal recorded is stored once
 * (same id, seq, hash), seqs 1..n without gaps, one ledger event per op,
 * the money per device and shift as recorded, no exception; on the wire no
 * op was answered `accepted` twice and every `duplicate` carried the stored
 * result; and each terminal's view (confirmed, with the result it was
 * given) agrees with what is stored.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cryptoRandom, expectedCash } from '@holdfast/domain';
import {
  type Batch,
  ChainBuilder,
  type EnrollResponse,
  enrollmentMessage,
  generateDeviceKeys,
  type IngestResponse,
  importPrivateKey,
  type Op,
  type OpResult,
  type StoredAnswer,
  type StoredResult,
  signBatch,
  signMessage,
} from '@holdfast/protocol';
import { POSTGRES_MIGRATIONS, PostgresStorage } from '@holdfast/server';
import { startTestPostgres } from '@holdfast/server/testing/postgres';
import { randomBasket } from '@holdfast/sim';
import { HttpTransport, Terminal, type Transport } from '@holdfast/terminal';
import {
  CliProcess,
  freePort,
  removeTempDirs,
  START_TIMEOUT_MS,
  sleep,
  startServerProcessWith,
  tempDir,
} from './e2e-fixture.js';

const DRAIN_TIMEOUT_MS = 20_000;
const SALES_PER_TERMINAL = 60;

const pg = await startTestPostgres();
const terminals: Terminal[] = [];
const storages: PostgresStorage[] = [];
after(async () => {
  await Promise.all(terminals.map((t) => t.close().catch(() => undefined)));
  await CliProcess.killAll();
  await Promise.all(storages.map((s) => s.close()));
  await pg.stop();
  removeTempDirs();
});

/** `holdfast server` with `args` on `port`, once /v1/health answers (retried while the port is still taken). */
const startPgServer = (name: string, args: string[], port: number): Promise<CliProcess> =>
  startServerProcessWith(args, port, name, START_TIMEOUT_MS);

/** Every op answer seen on the wire, by op id, from any process. */
const answers = new Map<string, OpResult[]>();
/** A stored answer without its id and seq: what the server's ops table holds. */
function storedPart({ id: _id, seq: _seq, ...stored }: StoredAnswer): StoredResult {
  return stored;
}

function noteAnswers(body: IngestResponse): void {
  for (const r of body.results) answers.set(r.id, [...(answers.get(r.id) ?? []), r]);
}

/**
 * A load balancer in a Transport: each request goes to the next process in
 * turn; every other batch is also sent, at the same moment, to the process
 * after it (its answer is only recorded, as a retransmitting proxy's copy).
 */
class SpreadTransport implements Transport {
  readonly perServer: number[];
  /** Batches per process that got no answer (outcome unknown). */
  readonly unanswered: number[];
  /** Error answers (status and code) to batches: none are expected. */
  readonly refused: string[] = [];
  #next = 0;
  #batches = 0;
  readonly #targets: HttpTransport[];

  constructor(urls: readonly string[]) {
    this.#targets = urls.map((url) => new HttpTransport(url));
    this.perServer = urls.map(() => 0);
    this.unanswered = urls.map(() => 0);
  }

  #pick(): { target: HttpTransport; index: number } {
    const index = this.#next++ % this.#targets.length;
    return { target: this.#targets[index] as HttpTransport, index };
  }

  enroll(...args: Parameters<Transport['enroll']>) {
    return this.#pick().target.enroll(...args);
  }

  async sendBatch(...args: Parameters<Transport['sendBatch']>) {
    const { target, index } = this.#pick();
    this.perServer[index] = (this.perServer[index] ?? 0) + 1;
    if (this.#batches++ % 2 === 1) {
      const copy = this.#targets[(index + 1) % this.#targets.length] as HttpTransport;
      void copy.sendBatch(...args).then(
        (res) => res.ok && noteAnswers(res.body),
        () => undefined,
      );
    }
    try {
      const res = await target.sendBatch(...args);
      if (res.ok) noteAnswers(res.body);
      else this.refused.push(`${res.status} ${res.error.code}`);
      return res;
    } catch (error) {
      this.unanswered[index] = (this.unanswered[index] ?? 0) + 1;
      throw error;
    }
  }

  queryOps(...args: Parameters<Transport['queryOps']>) {
    return this.#pick().target.queryOps(...args);
  }

  fetchPolicy(...args: Parameters<Transport['fetchPolicy']>) {
    return this.#pick().target.fetchPolicy(...args);
  }

  fetchFeed(...args: Parameters<Transport['fetchFeed']>) {
    return this.#pick().target.fetchFeed(...args);
  }

  ping(...args: Parameters<Transport['ping']>) {
    return this.#pick().target.ping(...args);
  }
}

async function post<T>(url: string, path: string, body: unknown, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A device enrolled over HTTP that builds its own signed batches. */
async function signedDevice(url: string, operatorToken: string): Promise<{ id: string; batch(n: number): Batch }> {
  const { body: issued } = await post<{ token: string }>(url, '/v1/admin/enrollment-tokens', {}, operatorToken);
  const keys = generateDeviceKeys();
  const privateKey = importPrivateKey(keys.privateKey);
  const sig = signMessage(enrollmentMessage(issued.token, keys.publicKey), privateKey);
  const res = await post<EnrollResponse>(url, '/v1/enroll', { token: issued.token, publicKey: keys.publicKey, sig });
  assert.equal(res.status, 200);
  const chain = new ChainBuilder(res.body.deviceId, privateKey);
  const shift = chain.next('shift.opened', { clerk: 'bo', currency: 'EUR', openingFloat: 5_000 });
  let first = true;
  return {
    id: res.body.deviceId,
    batch(n) {
      const ops: Op[] = first ? [shift] : [];
      first = false;
      while (ops.length < n) {
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
      return signBatch(res.body.deviceId, ops, privateKey, Date.now(), chain.seq);
    },
  };
}

test('three server processes on one PostgreSQL: every op applied exactly once, through a SIGKILL', async () => {
  const dir = tempDir('multi');
  const url = await pg.newDatabase();
  const tokenFile = join(dir, 'operator-token');
  const common = ['--database-url', url, '--data', dir, '--operator-token-file', tokenFile];
  const ports = [await freePort(), await freePort(), await freePort()];
  const servers = await Promise.all(ports.map((port, i) => startPgServer(`server-${i}`, common, port)));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const operatorToken = readFileSync(tokenFile, 'utf8').trim();
  const db = new PostgresStorage({ connectionString: url });
  storages.push(db);
  // Every migration once, in order (their number grows as migrations are added).
  const applied = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  assert.ok(applied.length >= 4, `migrations applied: ${applied.length}`);
  assert.deepEqual(
    await db.query('SELECT version FROM schema_migrations ORDER BY version'),
    POSTGRES_MIGRATIONS.map((_, i) => ({ version: i + 1 })),
    'migrated once',
  );
  assert.equal((await db.query('SELECT id FROM server_keys')).length, 1, 'one policy-signing key between them');

  // Terminals enroll through the "load balancer" and start selling.
  const sdkErrors: string[] = [];
  const transports: SpreadTransport[] = [];
  for (let i = 0; i < 4; i++) {
    const { body } = await post<{ token: string }>(
      urls[i % 3] as string,
      '/v1/admin/enrollment-tokens',
      { label: `lane-${i}` },
      operatorToken,
    );
    const transport = new SpreadTransport(urls);
    transports.push(transport);
    const till = Terminal.open({
      dataDir: join(dir, `till-${i}`),
      offlineCardPolicy: 'off', // random baskets pay by card; no policy is issued here
      transport,
      backoffSeconds: [0, 0.1, 0.2, 0.4],
      requestTimeoutMs: 5_000,
      batchSize: 8,
      onError: (error) => sdkErrors.push(`terminal ${i}: ${String(error)}`),
    });
    terminals.push(till);
    await till.enroll(body.token, `lane-${i}`);
  }
  const selling = terminals.map(async (till, i) => {
    till.openShift({ clerk: `clerk-${i}`, currency: 'EUR', openingFloat: 10_000 });
    for (let n = 0; n < SALES_PER_TERMINAL; n++) {
      const { lines, tenders } = randomBasket(cryptoRandom);
      till.recordSale({ lines, tenders });
      await sleep(20 + Math.random() * 40); // ~3 s of selling: spans the kill and the restart
    }
    const shift = till.currentShift();
    assert.ok(shift);
    till.closeShift({ countedCash: expectedCash(shift) });
  });

  // Two devices deliver every batch to all three processes at once. A process that gives no
  // answer (being killed) may or may not have committed: the batch is sent again until one answers.
  const signed = [
    await signedDevice(urls[0] as string, operatorToken),
    await signedDevice(urls[1] as string, operatorToken),
  ];
  const fanOut = signed.map(async (device) => {
    for (let n = 0; n < 8; n++) {
      const batch = device.batch(4);
      for (let attempt = 0; ; attempt++) {
        // No answer (a process being killed) is tolerated; any answer must be a 200.
        const sent = await Promise.all(
          urls.map((u) => post<IngestResponse>(u, '/v1/batches', batch).catch(() => null)),
        );
        const replies = sent.filter((r) => r !== null);
        for (const reply of replies) assert.equal(reply.status, 200, JSON.stringify(reply.body));
        for (const reply of replies) noteAnswers(reply.body);
        for (const [i, op] of batch.ops.entries()) {
          const statuses = replies.map((r) => r.body.results[i]?.status);
          assert.ok(statuses.filter((s) => s === 'accepted').length <= 1, `${op.id}: ${statuses}`);
          assert.ok(
            statuses.every((s) => s === 'accepted' || s === 'duplicate'),
            `${op.id}: ${statuses}`,
          );
        }
        if (replies.length > 0) break;
        assert.ok(attempt < 50, 'some process answers');
        await sleep(100);
      }
      await sleep(20);
    }
  });

  // Mid-traffic: SIGKILL one process, start it again on its port.
  await sleep(600);
  const before = transports.reduce((sum, t) => sum + (t.perServer[1] ?? 0), 0);
  assert.ok(before > 0, 'the process to be killed was taking batches');
  assert.equal((await servers[1]?.kill('SIGKILL'))?.signal, 'SIGKILL');
  await sleep(400);
  servers[1] = await startPgServer('server-1 (restarted)', common, ports[1] as number);
  await Promise.all([...selling, ...fanOut]);
  const after = transports.reduce((sum, t) => sum + (t.perServer[1] ?? 0), 0);
  assert.ok(after > before, 'the restarted process took batches again');
  assert.deepEqual(
    transports.flatMap((t) => t.refused),
    [],
    'no batch was refused or failed by a live process',
  );
  const lost = transports.reduce((sum, t) => sum + (t.unanswered[1] ?? 0), 0);
  assert.ok(lost > 0, 'terminals sent to the dead process and got no answer');

  // Drain: every recorded op confirmed.
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  for (const till of terminals) {
    while (till.status().pending > 0) {
      if (performance.now() > deadline) assert.fail(`not drained: ${JSON.stringify(till.status())}`);
      await till.syncNow().catch(() => undefined);
      await sleep(50);
    }
  }

  assert.deepEqual(sdkErrors, [], 'no unexpected SDK error');

  // Reconcile each terminal's journal with the database.
  type OpRow = { id: string; device: string; seq: string; hash: string; status: string; result: string };
  const rows = await db.query<OpRow>('SELECT id, device, seq, hash, status, result FROM ops ORDER BY device, seq');
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const [i, till] of terminals.entries()) {
    const status = till.status();
    assert.deepEqual([status.pending, status.deadLetters, status.blocked], [0, 0, null], `terminal ${i}`);
    const journal = till.ops({ limit: 1000 });
    assert.equal(journal.length, SALES_PER_TERMINAL + 2);
    const device = till.deviceId as string;
    const stored = rows.filter((r) => r.device === device);
    assert.deepEqual(
      stored.map((r) => Number(r.seq)),
      journal.map((_, k) => k + 1),
      `device ${i}: seqs 1..n, no gap, nothing extra`,
    );
    let salesTotal = 0;
    for (const entry of journal) {
      const row = byId.get(entry.id);
      assert.ok(row, `terminal ${i} seq ${entry.seq} is stored`);
      assert.deepEqual(
        [row.device, Number(row.seq), row.hash, row.status],
        [device, entry.seq, entry.hash, 'accepted'],
      );
      assert.equal(entry.state, 'confirmed');
      assert.equal(till.opState(entry.id), 'confirmed');
      const seen = entry.result as OpResult;
      const view: StoredResult | null =
        seen.status === 'duplicate'
          ? storedPart(seen.original)
          : seen.status === 'accepted'
            ? { status: 'accepted', at: seen.at }
            : null;
      assert.deepEqual(view, JSON.parse(row.result), `terminal ${i} seq ${entry.seq}: its view is what is stored`);
      if (entry.kind === 'sale.recorded') salesTotal += (entry.op.body as { total: number }).total;
    }
    const [money] = await db.query<{ total: string; n: string }>(
      'SELECT coalesce(sum(total), 0) AS total, count(*) AS n FROM sales WHERE device = $1',
      [device],
    );
    assert.deepEqual([Number(money?.n), Number(money?.total)], [SALES_PER_TERMINAL, salesTotal], `device ${i} money`);
    const shifts = await db.listShifts(device);
    assert.deepEqual(
      shifts.map((s) => [s.status, s.sales, s.salesTotal, s.variance]),
      [['closed', SALES_PER_TERMINAL, salesTotal, 0]],
    );
  }
  for (const device of signed) {
    const seqs = rows.filter((r) => r.device === device.id).map((r) => Number(r.seq));
    assert.deepEqual(
      seqs,
      seqs.map((_, k) => k + 1),
    );
    assert.equal(seqs.length, 8 * 4);
  }

  // Applied once: one ledger event per op, nothing else; answered accepted at most once on the wire.
  const [counts] = await db.query<{ ops: number; ledger: number; distinct_ops: number }>(
    'SELECT (SELECT count(*)::int FROM ops) AS ops, (SELECT count(*)::int FROM ledger) AS ledger, (SELECT count(DISTINCT op_id)::int FROM ledger) AS distinct_ops',
  );
  assert.equal(counts?.ops, 4 * (SALES_PER_TERMINAL + 2) + 2 * 32);
  assert.deepEqual([counts?.ledger, counts?.distinct_ops], [counts?.ops, counts?.ops]);
  assert.deepEqual(await db.query('SELECT type, count(*)::int AS n FROM exceptions GROUP BY type'), []);
  let duplicates = 0;
  for (const [id, seen] of answers) {
    const accepted = seen.filter((r) => r.status === 'accepted');
    assert.ok(accepted.length <= 1, `op ${id} was answered accepted ${accepted.length} times`);
    const stored = JSON.parse(byId.get(id)?.result ?? 'null');
    for (const r of seen) {
      if (r.status === 'duplicate') duplicates++;
      const given =
        r.status === 'duplicate'
          ? storedPart(r.original)
          : r.status === 'accepted'
            ? { status: r.status, at: r.at }
            : r;
      assert.deepEqual(given, stored, `op ${id}: every answer is the stored result`);
    }
  }
  assert.ok(duplicates > 64, `concurrent copies were answered as duplicates (${duplicates})`);

  // `holdfast migrate` on the live database: nothing to do, same version.
  const migrate = CliProcess.start('migrate', ['migrate', '--database-url', url]);
  assert.equal((await migrate.exited).code, 0, migrate.stderr);
  assert.match(migrate.lines.join('\n'), new RegExp(`postgres schema at version ${POSTGRES_MIGRATIONS.length} `));
  assert.ok(!migrate.lines.join('\n').includes(new URL(url).password), 'the password is not printed');
});
