/**
 * The Storage backends the storage contract tests run on, for test files
 * that loop over them:
 *
 *   for (const backend of STORAGE_BACKENDS) {
 *     describe(`storage suite: ${backend.name}`, () => {
 *       const test = storageTest(backend);
 *       test('…', async (h) => { … });
 *     });
 *   }
 *
 * Every `open()` gives a fresh, empty storage (not yet migrated: the harness
 * migrates it). SQLite in memory, in a file, and on its own thread cost
 * nothing to set up; PostgreSQL is started on the first `open()` of a test
 * file (one embedded server per file, or DATABASE_URL), each storage being a
 * new database on it. Temporary directories and the server are removed by
 * an `after` hook of the importing test file.
 *
 * Imported by tests only; not reachable from the package's root export.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import type { LedgerEvent } from '../model/ledger-event.js';
import { PostgresStorage } from '../storage/postgres/postgres-storage.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { openThreadedSqlite } from '../storage/sqlite/sqlite-thread.js';
import type { Storage } from '../storage/storage.js';
import { createHarness, type Harness } from './harness.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';

/** Writes one raw ledger row, as a `wristband.*` writer of another branch will. */
export type InsertLedgerEvent = (storage: Storage, event: LedgerEvent) => Promise<void>;

export interface StorageBackend {
  /** As shown in test names: `storage suite: <name>`. */
  name: string;
  /** A fresh, empty storage of this backend. */
  open(): Promise<Storage>;
  /** For backends whose tests can write a raw ledger row (a storage opened by this backend's `open`). */
  insertLedgerEvent?: InsertLedgerEvent;
}

/** A suite test: a fresh harness on a fresh storage of the backend under test. */
export type SuiteTest = (title: string, fn: (h: Harness) => Promise<void>) => void;

/** Registers tests that each run on a fresh harness over `backend.open()`, always torn down. */
export function storageTest(backend: StorageBackend): SuiteTest {
  return (title, fn) =>
    it(title, async () => {
      const h = await createHarness({ storage: await backend.open() });
      try {
        await fn(h);
      } finally {
        await h.close();
      }
    });
}

const tempDirs: string[] = [];
let postgres: Promise<TestPostgres> | undefined;
after(async () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  const server = await postgres?.catch(() => undefined); // a failed start failed the tests that needed it
  await server?.stop();
});

function tempDbPath(prefix: string, file: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return join(dir, file);
}

const insertSqliteLedgerEvent: InsertLedgerEvent = async (storage, e) => {
  (storage as SqliteStorage).query(
    `INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pos`,
    [e.opId, e.device, e.seq, e.type, e.shiftId, e.currency, e.amount, JSON.stringify(e.data), e.deviceAt, e.appliedAt],
  );
};

const insertPostgresLedgerEvent: InsertLedgerEvent = async (storage, e) => {
  await (storage as PostgresStorage).query(
    `INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [e.opId, e.device, e.seq, e.type, e.shiftId, e.currency, e.amount, JSON.stringify(e.data), e.deviceAt, e.appliedAt],
  );
};

export const SQLITE_MEMORY: StorageBackend = {
  name: 'sqlite :memory:',
  open: async () => new SqliteStorage({ path: ':memory:' }),
  insertLedgerEvent: insertSqliteLedgerEvent,
};

export const SQLITE_FILE: StorageBackend = {
  name: 'sqlite file',
  open: async () => new SqliteStorage({ path: tempDbPath('holdfast-sqlite-', join('nested', 'holdfast.db')) }),
  insertLedgerEvent: insertSqliteLedgerEvent,
};

export const SQLITE_THREAD: StorageBackend = {
  name: 'sqlite on a thread',
  open: async () =>
    openThreadedSqlite({ path: tempDbPath('holdfast-sqlite-thread-', 'holdfast.db'), synchronous: 'OFF' }),
};

export const POSTGRES: StorageBackend = {
  name: 'postgres',
  open: async () => {
    postgres ??= startTestPostgres();
    return new PostgresStorage({ connectionString: await (await postgres).newDatabase() });
  },
  insertLedgerEvent: insertPostgresLedgerEvent,
};

export const STORAGE_BACKENDS: readonly StorageBackend[] = [SQLITE_MEMORY, SQLITE_FILE, SQLITE_THREAD, POSTGRES];
